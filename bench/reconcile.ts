// npm run bench:reconcile [-- --agents N --replicas R]
// Applies N Agents to a fresh local control plane and measures how long the operator takes
// until every Agent has status.observedGeneration == metadata.generation and its Deployment
// exists, and the operator's peak memory (VmHWM), on a fresh control plane with every component
// at its defaults. Baseline, in the same run on a second fresh plane: kube-controller-manager's
// Deployment controller (Go, client-go, client limit lifted) reconciling N Deployments until each
// has status.observedGeneration == metadata.generation; then the operator again on that plane,
// competing with the unthrottled kube-controller-manager for the cores (the contended figure).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Agent } from '../crds/types.js';
import { Informer } from '../operator/informer/informer.js';
import { KubeClient } from '../operator/kube/client.js';
import { loadClusterConnection } from '../operator/kube/config.js';
import type { KubeObject } from '../operator/kube/object.js';
import { CoreResources, MeshOsResources, type ResourceType } from '../operator/kube/resources.js';
import type { Deployment } from '../operator/controllers/workload.js';
import { installCrds, startControlPlane, type ComponentName, type ControlPlane } from '../test/harness/control-plane.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '2000' },
    replicas: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '32' },
  },
});
const agents = Number(values.agents);
const replicas = Number(values.replicas);
const concurrency = Number(values.concurrency);
const root = new URL('..', import.meta.url).pathname;

async function createAll<T extends KubeObject>(client: KubeClient, type: ResourceType, objects: T[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < objects.length) {
        const object = objects[next++] as T;
        await client.create(type, object);
      }
    }),
  );
}

/** Resolves when `done` holds for `count` objects in the informer's cache. */
async function waitUntilAll<T extends KubeObject>(informer: Informer<T>, count: number, done: (object: T) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const finished = informer.store.list().filter(done).length;
    if (finished >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${finished}/${count} done after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function peakRssMb(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then((text) => {
    const match = /VmHWM:\s+(\d+) kB/.exec(text);
    return match ? Number(match[1]) / 1024 : 0;
  });
}

interface OperatorRun {
  seconds: number;
  applySeconds: number;
  operatorPeakRssMb: number;
  cpuSeconds: Record<string, number>;
  operatorApiRequests: Record<string, number>;
}

/**
 * Starts the built operator against `plane`, applies N Agents in `namespace` and waits until
 * every one has status.observedGeneration == metadata.generation and its Deployment exists.
 */
async function measureOperator(plane: ControlPlane, client: KubeClient, namespace: string, stop: AbortSignal): Promise<OperatorRun> {
  await client.create(CoreResources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const runEnded = new AbortController();
  const operator = spawn(process.execPath, ['dist/operator/main.js', '--kubeconfig', plane.kubeconfigPath, '--health-bind-address', '127.0.0.1:0'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MESHOS_LOG_LEVEL: 'info' },
  });
  let operatorLog = '';
  let operatorPort = 0;
  operator.stderr.on('data', (chunk: Buffer) => {
    operatorLog = (operatorLog + chunk.toString()).slice(-20_000);
    operatorPort ||= Number(/"port":(\d+)/.exec(operatorLog)?.[1] ?? 0);
  });
  // This run's watches end with it (or with the whole benchmark).
  const watches = AbortSignal.any([stop, runEnded.signal]);
  try {
    const agentInformer = new Informer<Agent>(client, MeshOsResources.agent, { namespace });
    const ownDeployments = new Informer<Deployment>(client, CoreResources.deployment, { namespace });
    const informerRuns = [agentInformer.run(watches), ownDeployments.run(watches)];
    await Promise.all([agentInformer.waitForSync(), ownDeployments.waitForSync()]);
    // Let the operator win its lease and sync before the clock starts.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const agentObjects = Array.from({ length: agents }, (_, i) => testAgent(namespace, `agent-${i}`, 'bench', replicas));
    process.stderr.write(`Mesh OS: creating ${agents} Agents in ${namespace}...\n`);
    const pids = { ...plane.pids, operator: operator.pid ?? 0 };
    const cpuAtStart = await cpuSnapshot(pids);
    const benchCpuAtStart = process.cpuUsage();
    const start = performance.now();
    await createAll(client, MeshOsResources.agent, agentObjects);
    const applySeconds = (performance.now() - start) / 1000;
    await waitUntilAll(
      agentInformer,
      agents,
      (a) => a.status?.observedGeneration === a.metadata.generation && ownDeployments.store.get(`${namespace}/${a.metadata.name}`) !== undefined,
      600_000,
    ).catch((error: unknown) => {
      process.stderr.write(operatorLog.slice(-4000));
      throw error;
    });
    const seconds = (performance.now() - start) / 1000;
    const operatorPeakRssMb = Math.round(await peakRssMb(operator.pid ?? 0));
    const cpuSeconds = diffCpu(await cpuSnapshot(pids), cpuAtStart);
    const benchCpu = process.cpuUsage(benchCpuAtStart);
    cpuSeconds['benchProcess'] = round((benchCpu.user + benchCpu.system) / 1e6);
    const operatorApiRequests = await apiRequestCounts(operatorPort);
    runEnded.abort();
    await Promise.allSettled(informerRuns);
    return { seconds, applySeconds, operatorPeakRssMb, cpuSeconds, operatorApiRequests };
  } finally {
    runEnded.abort();
    operator.kill('SIGTERM');
    await new Promise((resolve) => (operator.exitCode !== null ? resolve(undefined) : operator.once('exit', resolve)));
  }
}

/** kube-controller-manager's Deployment controller reconciling N Deployments to observedGeneration. */
async function measureBaseline(plane: ControlPlane, client: KubeClient, stop: AbortSignal): Promise<{ seconds: number; cpuSeconds: Record<string, number> }> {
  const namespace = 'bench-baseline';
  await client.create(CoreResources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const runEnded = new AbortController();
  const deployments = new Informer<Deployment>(client, CoreResources.deployment, { namespace });
  const informerRun = deployments.run(AbortSignal.any([stop, runEnded.signal]));
  await deployments.waitForSync();
  const baselineObjects: Deployment[] = Array.from({ length: agents }, (_, i) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `baseline-${i}`, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: `baseline-${i}` } },
      template: { metadata: { labels: { app: `baseline-${i}` } }, spec: { containers: [{ name: 'agent', image: 'registry.k8s.io/pause:3.10' }] } },
    },
  }));
  process.stderr.write(`Baseline: creating ${agents} Deployments for kube-controller-manager...\n`);
  const cpuAtStart = await cpuSnapshot(plane.pids);
  const start = performance.now();
  await createAll(client, CoreResources.deployment, baselineObjects);
  await waitUntilAll(deployments, agents, (d) => d.status?.observedGeneration === d.metadata.generation, 600_000);
  const seconds = (performance.now() - start) / 1000;
  const cpuSeconds = diffCpu(await cpuSnapshot(plane.pids), cpuAtStart);
  runEnded.abort();
  await informerRun.catch(() => undefined);
  return { seconds, cpuSeconds };
}

/** Runs `body` against a fresh control plane with kube-controller-manager, then stops it. */
async function withControlPlane<T>(extraArgs: Partial<Record<ComponentName, string[]>>, body: (plane: ControlPlane, client: KubeClient, stop: AbortSignal) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshos-bench-'));
  const plane = await startControlPlane({
    dataDir,
    components: { controllerManager: true },
    extraArgs,
    onProgress: (message) => process.stderr.write(`${message}\n`),
  });
  const stop = new AbortController();
  const client = new KubeClient(await loadClusterConnection(plane.kubeconfigPath), { qps: 5000, burst: 5000 });
  try {
    await installCrds(plane.kubectl);
    await client.create(MeshOsResources.mesh, testMesh('bench'));
    return await body(plane, client, stop.signal);
  } finally {
    stop.abort();
    await client.destroy();
    await plane.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

// kube-controller-manager's default client limit (20 QPS, burst 30) would make the baseline
// measure its throttle; the baseline plane lifts it so the Deployment controller shows its pace.
const UNTHROTTLED_KCM = ['--kube-api-qps=500', '--kube-api-burst=1000'];

async function main(): Promise<void> {
  process.stderr.write('Building the operator (tsc)...\n');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });

  // The headline: the control plane as `mesh dev up` and the tests run it (every component at
  // its defaults), which is where a platform team applies Agents.
  const meshos = await withControlPlane({}, (plane, client, stop) => measureOperator(plane, client, 'bench-meshos', stop));
  // The baseline, and the operator again on the same plane while kube-controller-manager runs
  // unthrottled and competes for the two cores (it turns every Deployment the operator creates
  // into a ReplicaSet and pods at full speed): the contended figure.
  const { baseline, contended } = await withControlPlane({ 'kube-controller-manager': UNTHROTTLED_KCM }, async (plane, client, stop) => ({
    baseline: await measureBaseline(plane, client, stop),
    contended: await measureOperator(plane, client, 'bench-meshos-contended', stop),
  }));

  const agentsPerSecond = agents / meshos.seconds;
  const baselinePerSecond = agents / baseline.seconds;
  const contendedPerSecond = agents / contended.seconds;
  const result = {
    agents,
    seconds: round(meshos.seconds),
    agentsPerSecond: round(agentsPerSecond),
    operatorPeakRssMb: meshos.operatorPeakRssMb,
    replicasPerAgent: replicas,
    applySeconds: round(meshos.applySeconds),
    controlPlane: 'fresh local control plane, every component at its defaults (as mesh dev up starts it): kube-controller-manager at its default client limit of 20 QPS',
    baseline: {
      name: 'kube-controller-manager Deployment controller (Deployments reconciled to observedGeneration), client limit lifted to 500 QPS',
      objects: agents,
      seconds: round(baseline.seconds),
      perSecond: round(baselinePerSecond),
    },
    ratioToBaseline: round(agentsPerSecond / baselinePerSecond),
    contended: {
      name: 'the operator on the baseline plane, kube-controller-manager unthrottled (500 QPS) turning its Deployments into ReplicaSets and pods on the same two cores',
      seconds: round(contended.seconds),
      agentsPerSecond: round(contendedPerSecond),
      operatorPeakRssMb: contended.operatorPeakRssMb,
      ratioToBaseline: round(contendedPerSecond / baselinePerSecond),
    },
    operatorApiRequests: meshos.operatorApiRequests,
    cpuSeconds: { meshos: meshos.cpuSeconds, baseline: baseline.cpuSeconds, contended: contended.cpuSeconds },
    targets: { agentsPerSecond: 100, operatorPeakRssMb: 300 },
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version, loadAverage: (await import('node:os')).loadavg().map(round) },
  };
  await writeFile(join(root, 'bench/results/reconcile.json'), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(
    `reconcile: ${agents} Agents in ${result.seconds} s = ${result.agentsPerSecond}/s (target >= 100), peak RSS ${result.operatorPeakRssMb} MB (target < 300)\n` +
      `baseline:  kube-controller-manager ${agents} Deployments in ${result.baseline.seconds} s = ${result.baseline.perSecond}/s; ratio ${result.ratioToBaseline}\n` +
      `contended: ${result.contended.agentsPerSecond}/s with kube-controller-manager unthrottled alongside; ratio ${result.contended.ratioToBaseline}\n` +
      `wrote bench/results/reconcile.json\n`,
  );
}

/** utime + stime of a process, in seconds (clock ticks are 100 per second on Linux). */
async function cpuSecondsOf(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).split(') ')[1]?.split(' ') ?? [];
  return round((Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100);
}

async function cpuSnapshot(pids: Record<string, number | undefined>): Promise<Record<string, number>> {
  const snapshot: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) if (pid) snapshot[name] = await cpuSecondsOf(pid);
  return snapshot;
}

function diffCpu(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([name, value]) => [name, round(value - (before[name] ?? 0))]));
}

/** The operator's own count of API requests by verb, from its /metrics. */
async function apiRequestCounts(port: number): Promise<Record<string, number>> {
  if (!port) return {};
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^meshos_api_requests_total\{verb="(\w+)",code="(\d+)"\} (\d+)/gm)) {
    const key = `${match[1]} ${match[2]}`;
    counts[key] = (counts[key] ?? 0) + Number(match[3]);
  }
  return counts;
}

const round = (value: number): number => Math.round(value * 100) / 100;

main().catch((error: unknown) => {
  process.stderr.write(`bench:reconcile failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
