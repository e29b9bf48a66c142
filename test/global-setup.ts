// Vitest globalSetup of the `integration` project: one real control plane (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kwok with 4 nodes, the project's
// CRDs) for all integration test files, started with the same code as `mesh dev up`.
// With MESHOS_TEST_KUBECONFIG set, that cluster is used instead and nothing is started.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { parse } from 'yaml';
import { ensureBinaries } from './harness/binaries.js';
import { createKwokNodes, installCrds, reapOrphanedControlPlanes, startControlPlane } from './harness/control-plane.js';
import { createKubectl } from './harness/kubectl.js';
import { isProcessAlive } from './harness/processes.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig of the test cluster. */
    kubeconfigPath: string;
    /** kubectl of the pinned Kubernetes release. */
    kubectlPath: string;
    /** The control plane's data dir: state.json, logs/, pki/ (reuseControlPlane(dataDir) gives a handle). */
    dataDir: string;
    apiServerPort: number;
  }
}

export const TEST_NODE_COUNT = 4;
const TEST_DIR_PREFIX = 'meshos-test-';

function log(message: string): void {
  process.stderr.write(`[control plane] ${message}\n`);
}

function keepTestDir(): boolean {
  const value = process.env['MESHOS_KEEP_TEST_DIR'];
  return value !== undefined && value !== '' && value !== '0';
}

/** The port of the current context's server in a kubeconfig (443 when the URL has none). */
export async function kubeconfigServerPort(kubeconfigPath: string): Promise<number> {
  const config = parse(await readFile(kubeconfigPath, 'utf8')) as {
    'current-context'?: string;
    contexts?: { name: string; context: { cluster: string } }[];
    clusters?: { name: string; cluster: { server: string } }[];
  };
  const context = config.contexts?.find((entry) => entry.name === config['current-context']) ?? config.contexts?.[0];
  const cluster = config.clusters?.find((entry) => entry.name === context?.context.cluster) ?? config.clusters?.[0];
  if (cluster === undefined) throw new Error(`${kubeconfigPath} names no cluster`);
  const url = new URL(cluster.cluster.server);
  return url.port === '' ? (url.protocol === 'http:' ? 80 : 443) : Number(url.port);
}

async function useExternalCluster(project: TestProject, kubeconfigPath: string): Promise<() => Promise<void>> {
  log(`Using the cluster of MESHOS_TEST_KUBECONFIG=${kubeconfigPath} (no kwok nodes are created)`);
  const { kubectl: kubectlPath } = await ensureBinaries(['kubectl'], { onProgress: (event) => log(event.message) });
  const crds = await installCrds(createKubectl(kubectlPath, kubeconfigPath));
  log(`Installed CRDs: ${crds.join(', ')}`);
  const dataDir = await mkdtemp(join(tmpdir(), TEST_DIR_PREFIX));
  project.provide('kubeconfigPath', kubeconfigPath);
  project.provide('kubectlPath', kubectlPath);
  project.provide('dataDir', dataDir);
  project.provide('apiServerPort', await kubeconfigServerPort(kubeconfigPath));
  return async () => {
    await rm(dataDir, { recursive: true, force: true });
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env['MESHOS_TEST_KUBECONFIG'];
  if (external !== undefined && external !== '') return useExternalCluster(project, external);

  // Earlier runs killed before their teardown: stop their components, drop their temp dirs.
  await reapOrphanedControlPlanes(tmpdir(), TEST_DIR_PREFIX, { removeDirs: true, onProgress: log });
  await reapOrphanedControlPlanes(tmpdir(), 'meshos-', { onProgress: log });
  const started = Date.now();
  const dataDir = await mkdtemp(join(tmpdir(), TEST_DIR_PREFIX));
  const plane = await startControlPlane({
    dataDir,
    components: { controllerManager: true, scheduler: true, kwok: true },
    onProgress: log,
  });
  try {
    const nodes = await createKwokNodes(plane.kubectl, TEST_NODE_COUNT);
    log(`Nodes Ready: ${nodes.join(', ')}`);
    const crds = await installCrds(plane.kubectl);
    log(`CRDs Established: ${crds.join(', ')}`);
  } catch (error) {
    await plane.stop();
    throw error;
  }
  log(`Control plane ready at ${plane.server} in ${((Date.now() - started) / 1000).toFixed(1)} s (data: ${dataDir})`);

  project.provide('kubeconfigPath', plane.kubeconfigPath);
  project.provide('kubectlPath', plane.kubectlPath);
  project.provide('dataDir', dataDir);
  project.provide('apiServerPort', plane.apiServerPort);

  return async () => {
    const stopped = await plane.stop();
    const survivors = stopped.filter((component) => isProcessAlive(component.pid));
    if (survivors.length > 0) throw new Error(`Components still running after stop: ${survivors.map((c) => `${c.name} ${c.pid}`).join(', ')}`);
    if (keepTestDir()) log(`Kept ${dataDir} (MESHOS_KEEP_TEST_DIR)`);
    else await rm(dataDir, { recursive: true, force: true });
  };
}
