// `mesh dev start`: the main job. A local control plane (or the cluster in KUBECONFIG), the
// operator in this process, and the samples applied; runs until Ctrl-C.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { customResourceDefinitions } from '../../crds/crd.js';
import type { Agent, Mesh, Proposal } from '../../crds/types.js';
import { loadSamples, SAMPLE_MESH, SAMPLE_NAMESPACE } from '../../samples/index.js';
import { KubeClient } from '../../operator/kube/client.js';
import { loadClusterConnection } from '../../operator/kube/config.js';
import { serverSideApply } from '../../operator/kube/apply.js';
import { getErrorMessage } from '../../operator/kube/errors.js';
import type { KubeObject } from '../../operator/kube/object.js';
import { CoreResources, MeshOsResources } from '../../operator/kube/resources.js';
import { createLogger } from '../../operator/log.js';
import { Manager } from '../../operator/manager.js';
import { createDriftModule } from '../../kernel/drift/module.js';
import { binaryPath } from '../../test/harness/binaries.js';
import { defaultCrdDir, defaultDevDir } from '../../test/harness/paths.js';
import { parseCount, type CliIo } from '../io.js';
import { DEFAULT_NODE_COUNT, devUp } from './dev.js';

const FIELD_MANAGER = 'mesh-cli';

interface StartFlags {
  dataDir?: string;
  nodes: number;
  samples: boolean;
  metricsPort: number;
  memoryPort: number;
  portalPort: number;
  discoveryPort: number;
  waitSeconds: number;
}

interface CrdObject extends KubeObject {
  status?: { conditions?: { type: string; status: string }[] };
}

/** Installs the CRDs with server-side apply and waits until the API serves them. */
async function installCrdsWithClient(client: KubeClient, io: CliIo): Promise<void> {
  for (const crd of customResourceDefinitions()) {
    await serverSideApply(client, crd as unknown as KubeObject, FIELD_MANAGER);
  }
  const deadline = Date.now() + 60_000;
  for (const crd of customResourceDefinitions()) {
    const name = (crd as unknown as KubeObject).metadata.name ?? '';
    for (;;) {
      const live = await client.get<CrdObject>(CoreResources.crd, undefined, name);
      if (live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after 60 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  io.stderr.write(`CRDs installed: ${customResourceDefinitions().map((c) => (c as unknown as KubeObject).metadata.name).join(', ')}\n`);
}

async function applySamples(client: KubeClient, io: CliIo): Promise<number> {
  const documents = loadSamples();
  for (const { manifest } of documents) await serverSideApply(client, manifest as unknown as KubeObject, FIELD_MANAGER);
  io.stderr.write(`Applied ${documents.length} sample manifests (samples/)\n`);
  return documents.length;
}

/** Waits (bounded) for the sample Agents to become Ready, printing progress as it moves. */
async function waitForSamples(client: KubeClient, io: CliIo, waitSeconds: number): Promise<Agent[]> {
  const deadline = Date.now() + waitSeconds * 1000;
  let lastReport = '';
  for (;;) {
    const agents = (await client.list<Agent>(MeshOsResources.agent, SAMPLE_NAMESPACE)).items;
    const ready = agents.filter((a) => a.status?.phase === 'Ready').length;
    const report = `${ready}/${agents.length} sample agents Ready`;
    if (report !== lastReport) io.stderr.write(`${report}\n`);
    lastReport = report;
    if ((agents.length > 0 && ready === agents.length) || Date.now() > deadline) {
      await waitForMeshAggregate(client, ready, Math.min(5000, Math.max(0, deadline - Date.now()) + 5000));
      return agents;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The Mesh aggregates its Agents after a short debounce; wait (bounded) until it has caught up. */
async function waitForMeshAggregate(client: KubeClient, ready: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const mesh = await client.get<Mesh>(MeshOsResources.mesh, undefined, SAMPLE_MESH).catch(() => undefined);
    if (mesh?.status?.agents?.ready === ready) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd((widths[column] ?? 0) + 2)).join('').trimEnd()).join('\n');
}

async function summary(client: KubeClient, agents: Agent[], kubeconfigPath: string, metricsPort: number, local: boolean): Promise<string> {
  const mesh = await client.get<Mesh>(MeshOsResources.mesh, undefined, SAMPLE_MESH).catch(() => undefined);
  const proposals = (await client.list<Proposal>(MeshOsResources.proposal, SAMPLE_NAMESPACE)).items;
  const kubectl = local ? binaryPath('kubectl') : 'kubectl';
  const lines = [
    '',
    `Mesh OS is running against ${client.server}.`,
    `Mesh ${SAMPLE_MESH}: ${mesh?.status?.phase ?? 'unknown'}, ${mesh?.status?.agents?.ready ?? 0}/${mesh?.status?.agents?.total ?? 0} agents ready`,
    '',
    table([
      ['AGENT', 'PHASE', 'REPLICAS', 'NODE(S)'],
      ...agents.map((a) => [a.metadata.name ?? '', a.status?.phase ?? '-', a.status?.replicaSummary ?? '-', a.status?.nodeSummary ?? '-']),
    ]),
    '',
    ...proposals.map((p) => `Proposal ${p.metadata.name ?? ''}: ${p.status?.phase ?? 'Analyzing'}${p.status?.votingEndsAt ? ` until ${p.status.votingEndsAt}` : ''}`),
    '',
    'Try next (in another shell):',
    `  export KUBECONFIG=${kubeconfigPath}`,
    ...(local ? [`  alias kubectl=${kubectl}`] : []),
    '  kubectl get meshes,agents,proposals -A',
    `  kubectl get agents -n ${SAMPLE_NAMESPACE} -o wide`,
    '  kubectl explain agent.spec.sla',
    `  kubectl scale agent/${agents[0]?.metadata.name ?? 'NAME'} -n ${SAMPLE_NAMESPACE} --replicas=3`,
    `  kubectl get events -n ${SAMPLE_NAMESPACE} --sort-by=.lastTimestamp`,
    `  curl -s http://127.0.0.1:${metricsPort}/metrics | grep ^meshos_`,
    `  curl -s http://127.0.0.1:${metricsPort}/decisions        # the kernel's decision log (also: mesh log)`,
    '',
    `Ctrl-C stops the operator${local ? '; `mesh dev down` stops the control plane' : ''}.`,
  ];
  return lines.join('\n') + '\n';
}

/** The main job; resolves when the operator stops (Ctrl-C / SIGTERM). */
export async function devStart(flags: StartFlags, io: CliIo, signal: AbortSignal): Promise<void> {
  const external = process.env['KUBECONFIG'];
  let kubeconfigPath: string;
  if (external) {
    kubeconfigPath = resolve(external.split(':')[0] ?? external);
    io.stderr.write(`KUBECONFIG is set: using the cluster in ${kubeconfigPath}\n`);
  } else {
    const { plane } = await devUp({ ...(flags.dataDir ? { dataDir: flags.dataDir } : {}), nodes: flags.nodes, crds: defaultCrdDir() }, io);
    kubeconfigPath = plane.kubeconfigPath;
  }
  const connection = await loadClusterConnection(kubeconfigPath);
  const client = new KubeClient(connection);
  const stop = new AbortController();
  signal.addEventListener('abort', () => stop.abort(), { once: true });
  let running: Promise<unknown> | undefined;
  try {
    if (external) await installCrdsWithClient(client, io);
    const logger = createLogger({ level: process.env['MESHOS_LOG_LEVEL'] ?? 'warn' });
    const manager = new Manager({
      connection,
      logger,
      healthPort: flags.metricsPort,
      identity: `mesh-dev-${process.pid}`,
      kernelModules: [createDriftModule()],
      memory: { host: '127.0.0.1', port: flags.memoryPort, dataDir: join(resolve(flags.dataDir ?? defaultDevDir()), 'memory') },
      // Governance in development: a local hardhat chain on 127.0.0.1 and the voters' portal with local-key signing.
      governance: { chain: { devChain: true }, portal: { host: '127.0.0.1', port: flags.portalPort, devMode: true } },
      // Development mode: no auth, loopback only (the server logs that it runs without auth).
      discovery: { host: '127.0.0.1', port: flags.discoveryPort, auth: 'none' },
    });
    running = manager.run(stop.signal);
    running.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    io.stderr.write('Operator started\n');
    if (flags.samples) {
      await applySamples(client, io);
      const agents = await waitForSamples(client, io, flags.waitSeconds);
      io.stdout.write(await summary(client, agents, kubeconfigPath, manager.port, !external));
    } else {
      io.stdout.write(`Operator running against ${client.server}; export KUBECONFIG=${kubeconfigPath}\n`);
    }
    io.stderr.write(`Operator stopped (${String(await running)})\n`);
  } catch (error) {
    // Stop the operator too, so a failed start exits instead of lingering.
    stop.abort();
    await running?.catch(() => undefined);
    throw new Error(`mesh dev start failed: ${getErrorMessage(error)}`);
  } finally {
    await client.destroy();
  }
}

/** Registers `mesh dev start` on the `dev` command. */
export function registerDevStartCommand(dev: Command, io: CliIo): void {
  dev
    .command('start')
    .description('The main job: start (or reuse) the local control plane unless KUBECONFIG is set, run the operator, apply the samples, and keep running')
    .option('--data-dir <dir>', 'data directory of the local control plane (default: $MESHOS_DEV_DIR or ~/.meshos/dev)')
    .option('--nodes <n>', 'number of kwok nodes to ensure', parseCount, DEFAULT_NODE_COUNT)
    .option('--no-samples', 'do not apply the samples')
    .option('--metrics-port <port>', 'port for /healthz, /readyz and /metrics on 127.0.0.1', parseCount, 8081)
    .option('--memory-port <port>', 'port of the shared context memory gRPC service on 127.0.0.1', parseCount, 50052)
    .option('--portal-port <port>', "port of the voters' portal on 127.0.0.1", parseCount, 8090)
    .option('--discovery-port <port>', 'port of the agent discovery gRPC service on 127.0.0.1 (no auth in development)', parseCount, 50051)
    .option('--wait-seconds <s>', 'how long to wait for the sample agents to become Ready before printing the summary', parseCount, 90)
    .addHelpText('after', '\nExample:\n  npm start                      # same as: mesh dev start\n  KUBECONFIG=~/.kube/config mesh dev start --no-samples')
    .action(async (flags: StartFlags) => {
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      await devStart(flags, io, stop.signal);
    });
}
