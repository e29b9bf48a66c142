// npm run bench:reconcile [-- --agents N --replicas R]
// Applies N Agents to a fresh local control plane and measures how long the operator takes
// until every Agent has status.observedGeneration == metadata.generation and its Deployment
// exists, and the operator's peak memory (VmHWM). Baseline, on the same API server in the same
// run: kube-controller-manager's Deployment controller (Go, client-go) reconciling N
// Deployments until each has status.observedGeneration == metadata.generation.
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
import { installCrds, startControlPlane } from '../test/harness/control-plane.js';
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

async function main(): Promise<void> {
  process.stderr.write('Building the operator (tsc)...\n');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  const dataDir = await mkdtemp(join(tmpdir(), 'meshos-bench-'));
  const plane = await startControlPlane({
    dataDir,
    components: { controllerManager: true },
    // kube-controller-manager's default client limit (20 QPS) would make the baseline measure
    // its throttle; give it the operator's limit so the two controllers compete on equal terms.
    extraArgs: { 'kube-controller-manager': ['--kube-api-qps=500', '--kube-api-burst=1000'] },
    onProgress: (message) => process.stderr.write(`${message}\n`),
  });
  const stop = new AbortController();
  let operator: ReturnType<typeof spawn> | undefined;
  try {
    await installCrds(plane.kubectl);
    const client = new KubeClient(await loadClusterConnection(plane.kubeconfigPath), { qps: 5000, burst: 5000 });
    for (const name of ['bench-baseline', 'bench-meshos']) {
      await client.create(CoreResources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    await client.create(MeshOsResources.mesh, testMesh('bench'));

    // Baseline: the same number of Deployments, reconciled by kube-controller-manager.
    const deployments = new Informer<Deployment>(client, CoreResources.deployment, { namespace: 'bench-baseline' });
    const deploymentsRun = deployments.run(stop.signal);
    await deployments.waitForSync();
    const baselineObjects: Deployment[] = Array.from({ length: agents }, (_, i) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `baseline-${i}`, namespace: 'bench-baseline' },
      spec: {
        replicas,
        selector: { matchLabels: { app: `baseline-${i}` } },
        template: { metadata: { labels: { app: `baseline-${i}` } }, spec: { containers: [{ name: 'agent', image: 'registry.k8s.io/pause:3.10' }] } },
      },
    }));
    process.stderr.write(`Baseline: creating ${agents} Deployments for kube-controller-manager...\n`);
    const cpuAtBaselineStart = await cpuSnapshot(plane.pids);
    const baselineStart = performance.now();
    await createAll(client, CoreResources.deployment, baselineObjects);
    await waitUntilAll(deployments, agents, (d) => d.status?.observedGeneration === d.metadata.generation, 600_000);
    const baselineSeconds = (performance.now() - baselineStart) / 1000;
    const baselineCpu = diffCpu(await cpuSnapshot(plane.pids), cpuAtBaselineStart);

    // Mesh OS: the operator process reconciling N Agents into Deployments + Services.
    operator = spawn(process.execPath, ['dist/operator/main.js', '--kubeconfig', plane.kubeconfigPath, '--health-bind-address', '127.0.0.1:0'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MESHOS_LOG_LEVEL: 'info' },
    });
    let operatorLog = '';
    let operatorPort = 0;
    operator.stderr?.on('data', (chunk: Buffer) => {
      operatorLog = (operatorLog + chunk.toString()).slice(-20_000);
      operatorPort ||= Number(/"port":(\d+)/.exec(operatorLog)?.[1] ?? 0);
    });
    const agentInformer = new Informer<Agent>(client, MeshOsResources.agent, { namespace: 'bench-meshos' });
    const ownDeployments = new Informer<Deployment>(client, CoreResources.deployment, { namespace: 'bench-meshos' });
    const informerRuns = [agentInformer.run(stop.signal), ownDeployments.run(stop.signal)];
    await Promise.all([agentInformer.waitForSync(), ownDeployments.waitForSync()]);
    // Let the operator win its lease and sync before the clock starts.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const agentObjects = Array.from({ length: agents }, (_, i) => testAgent('bench-meshos', `agent-${i}`, 'bench', replicas));
    process.stderr.write(`Mesh OS: creating ${agents} Agents...\n`);
    const cpuAtStart = await cpuSnapshot({ ...plane.pids, operator: operator.pid ?? 0 });
    const benchCpuAtStart = process.cpuUsage();
    const start = performance.now();
    await createAll(client, MeshOsResources.agent, agentObjects);
    const appliedSeconds = (performance.now() - start) / 1000;
    await waitUntilAll(
      agentInformer,
      agents,
      (a) => a.status?.observedGeneration === a.metadata.generation && ownDeployments.store.get(`bench-meshos/${a.metadata.name}`) !== undefined,
      600_000,
    ).catch((error: unknown) => {
      process.stderr.write(operatorLog.slice(-4000));
      throw error;
    });
    const seconds = (performance.now() - start) / 1000;
    const operatorPeakRssMb = Math.round(await peakRssMb(operator.pid ?? 0));
    const cpuSeconds = diffCpu(await cpuSnapshot({ ...plane.pids, operator: operator.pid ?? 0 }), cpuAtStart);
    const benchCpu = process.cpuUsage(benchCpuAtStart);
    cpuSeconds['benchProcess'] = round((benchCpu.user + benchCpu.system) / 1e6);
    const operatorRequests = await apiRequestCounts(operatorPort);
    stop.abort();
    await Promise.allSettled([deploymentsRun, ...informerRuns]);
    await client.destroy();

    const agentsPerSecond = agents / seconds;
    const baselinePerSecond = agents / baselineSeconds;
    const result = {
      agents,
      seconds: round(seconds),
      agentsPerSecond: round(agentsPerSecond),
      operatorPeakRssMb,
      replicasPerAgent: replicas,
      applySeconds: round(appliedSeconds),
      baseline: {
        name: 'kube-controller-manager Deployment controller (Deployments reconciled to observedGeneration)',
        objects: agents,
        seconds: round(baselineSeconds),
        perSecond: round(baselinePerSecond),
      },
      ratioToBaseline: round(agentsPerSecond / baselinePerSecond),
      operatorApiRequests: operatorRequests,
      cpuSeconds: { meshos: cpuSeconds, baseline: baselineCpu },
      targets: { agentsPerSecond: 100, operatorPeakRssMb: 300 },
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    };
    await writeFile(join(root, 'bench/results/reconcile.json'), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(
      `reconcile: ${agents} Agents in ${result.seconds} s = ${result.agentsPerSecond}/s (target >= 100), peak RSS ${operatorPeakRssMb} MB (target < 300)\n` +
        `baseline:  kube-controller-manager ${agents} Deployments in ${result.baseline.seconds} s = ${result.baseline.perSecond}/s; ratio ${result.ratioToBaseline}\n` +
        `wrote bench/results/reconcile.json\n`,
    );
  } finally {
    stop.abort();
    operator?.kill('SIGTERM');
    await plane.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
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
