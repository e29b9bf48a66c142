import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { parse } from 'yaml';
import { createKwokNodes, installCrds, reapOrphanedControlPlanes, reuseControlPlane, startControlPlane, stopControlPlane, type ControlPlane } from './control-plane.js';
import { createKubectl } from './kubectl.js';
import { NODE_LABELS } from './nodes.js';
import { isProcessAlive } from './processes.js';
import { readState } from './state.js';

const WIDGET_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.harness.meshos.dev
spec:
  group: harness.meshos.dev
  names: { kind: Widget, plural: widgets, singular: widget, listKind: WidgetList }
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: { type: object, properties: { size: { type: integer, minimum: 0 } } }
`;

// A second, small control plane (etcd + kube-apiserver) of its own, so restarting and
// stopping it cannot disturb the shared one from the global setup.
describe('local control plane: start, restart, stop', () => {
  let dataDir: string;
  let plane: ControlPlane;
  let stoppedPids: number[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'meshos-harness-int-'));
    plane = await startControlPlane({ dataDir, components: {} });
  }, 300_000);

  afterAll(async () => {
    // Idempotent: the last test has stopped it already unless something failed earlier.
    await plane?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the API with the admin kubeconfig and records its processes', async () => {
    const version = JSON.parse(await plane.kubectl(['get', '--raw', '/version'])) as { gitVersion: string };
    expect(version.gitVersion).toBe('v1.36.3');
    expect(await plane.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.groups}'])).toContain('system:masters');
    const state = await readState(dataDir);
    expect(state?.components.map((component) => component.name)).toEqual(['etcd', 'kube-apiserver']);
    expect(state?.server).toBe(plane.server);
    expect(Object.keys(plane.pids).sort()).toEqual(['etcd', 'kube-apiserver']);
    const kubeconfig = parse(await plane.kubectl(['config', 'view', '--raw'])) as { 'current-context': string };
    expect(kubeconfig['current-context']).toBe('meshos-dev');
  });

  it('installs CRDs from a directory and waits until they are established', async () => {
    const crdDir = join(dataDir, 'crds');
    await mkdir(crdDir, { recursive: true });
    await writeFile(join(crdDir, 'widgets.yaml'), WIDGET_CRD);
    expect(await installCrds(plane.kubectl, crdDir)).toEqual(['widgets.harness.meshos.dev']);
    // Applying again is a no-op, not an error.
    expect(await installCrds(plane.kubectl, crdDir)).toEqual(['widgets.harness.meshos.dev']);
    await plane.kubectl(['create', '-f', '-'], 'apiVersion: harness.meshos.dev/v1\nkind: Widget\nmetadata: { name: w1, namespace: default }\nspec: { size: 3 }\n');
  });

  it('gives another process a handle on the running control plane', async () => {
    const reused = await reuseControlPlane(dataDir);
    expect(reused?.server).toBe(plane.server);
    expect(reused?.pids).toEqual(plane.pids);
  });

  it('restarts kube-apiserver on the same port and keeps the data', async () => {
    const before = plane.pids['kube-apiserver'];
    await plane.kubectl(['create', 'configmap', 'survivor', '--from-literal=answer=42']);
    const started = Date.now();
    await plane.restartApiServer();
    expect(Date.now() - started).toBeLessThan(30_000);
    const after = plane.pids['kube-apiserver'];
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect(isProcessAlive(before ?? 0)).toBe(false);
    expect((await readState(dataDir))?.components.find((c) => c.name === 'kube-apiserver')?.pid).toBe(after);
    expect(await plane.kubectl(['get', 'configmap', 'survivor', '-o', 'jsonpath={.data.answer}'])).toBe('42');
    expect(await plane.kubectl(['get', 'widget', 'w1', '-o', 'jsonpath={.spec.size}'])).toBe('3');
  }, 120_000);

  it('restarts kube-apiserver through a reused handle (as a test worker would), and the owner still stops it', async () => {
    const reused = await reuseControlPlane(dataDir);
    if (reused === undefined) throw new Error('expected a running control plane');
    const before = reused.pids['kube-apiserver'];
    await reused.restartApiServer();
    const after = reused.pids['kube-apiserver'];
    expect(after).not.toBe(before);
    expect(await reused.kubectl(['get', 'configmap', 'survivor', '-o', 'jsonpath={.data.answer}'])).toBe('42');
    // The owning handle learns the new pid from state.json when it stops.
    const stopped = await plane.stop();
    expect(stopped.find((component) => component.name === 'kube-apiserver')).toEqual({ name: 'kube-apiserver', pid: after, result: 'stopped' });
    expect(isProcessAlive(after ?? 0)).toBe(false);
    plane = await startControlPlane({ dataDir, components: {} });
    expect(await plane.kubectl(['get', 'configmap', 'survivor', '-o', 'jsonpath={.data.answer}'])).toBe('42');
  }, 120_000);

  it('stops every process it started', async () => {
    const pids = Object.values(plane.pids);
    expect(pids).toHaveLength(2);
    const stopped = await plane.stop();
    expect(stopped.map((component) => component.name)).toEqual(['kube-apiserver', 'etcd']);
    stoppedPids = stopped.map((component) => component.pid);
    expect(stoppedPids.sort()).toEqual(pids.sort());
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
    expect((await readState(dataDir))?.running).toBe(false);
    expect(await reuseControlPlane(dataDir)).toBeUndefined();
    // A second stop finds nothing left to do.
    expect((await plane.stop()).every((component) => component.result === 'not-running')).toBe(true);
  }, 120_000);
});

describe('orphaned control planes', () => {
  it('are stopped by reapOrphanedControlPlanes once their owner died without stopping them', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'meshos-reap-int-'));
    const dataDir = join(parent, 'orphan-1');
    const script = join(parent, 'owner.mts');
    const harness = pathToFileURL(join(import.meta.dirname, 'control-plane.ts')).href;
    await writeFile(
      script,
      `import { startControlPlane } from ${JSON.stringify(harness)};\n` +
        `await startControlPlane({ dataDir: ${JSON.stringify(dataDir)}, components: {} });\n` +
        `console.log('READY');\nsetInterval(() => {}, 1000);\n`,
    );
    const owner = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        owner.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('READY')) resolve();
        });
        owner.on('exit', (code) => reject(new Error(`owner exited early with ${String(code)}`)));
      });
      const pids = (await readState(dataDir))?.components.map((component) => component.pid) ?? [];
      expect(pids).toHaveLength(2);
      // SIGKILL: no exit hook runs, so the components are orphaned.
      owner.kill('SIGKILL');
      await expect.poll(() => owner.exitCode !== null || owner.signalCode !== null).toBe(true);
      for (const pid of pids) expect(isProcessAlive(pid)).toBe(true);
      expect(await reapOrphanedControlPlanes(parent, 'orphan-', { removeDirs: true })).toEqual([dataDir]);
      for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
    } finally {
      owner.kill('SIGKILL');
      await stopControlPlane(dataDir).catch(() => undefined);
      await rm(parent, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('shared control plane from the global setup', () => {
  it('has four Ready kwok nodes with Mesh OS labels', async () => {
    if (process.env['MESHOS_TEST_KUBECONFIG'] !== undefined) return; // external clusters get no kwok nodes
    const kubectl = createKubectl(inject('kubectlPath'), inject('kubeconfigPath'));
    const nodes = JSON.parse(await kubectl(['get', 'nodes', '-l', 'type=kwok', '-o', 'json'])) as {
      items: { metadata: { name: string; labels: Record<string, string> }; status: { conditions: { type: string; status: string }[] } }[];
    };
    expect(nodes.items.length).toBeGreaterThanOrEqual(4);
    for (const node of nodes.items) {
      expect(node.status.conditions.find((condition) => condition.type === 'Ready')?.status).toBe('True');
      expect(node.metadata.labels[NODE_LABELS.region]).toBeTruthy();
    }
    // Creating them again is idempotent.
    expect(await createKwokNodes(kubectl, 4)).toEqual(['kwok-node-0', 'kwok-node-1', 'kwok-node-2', 'kwok-node-3']);
  });

  it('has the project CRDs established', async () => {
    const kubectl = createKubectl(inject('kubectlPath'), inject('kubeconfigPath'));
    const crds = await kubectl(['get', 'crd', '-o', 'name']);
    expect(crds).toContain('meshos.dev');
    expect(inject('apiServerPort')).toBeGreaterThan(0);
    expect((await readState(inject('dataDir')))?.running ?? process.env['MESHOS_TEST_KUBECONFIG'] !== undefined).toBe(true);
  });
});
