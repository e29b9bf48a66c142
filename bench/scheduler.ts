// npm run bench:scheduler [-- --nodes 1000 --pods 5000 --skip-e2e --skip-solver --js-lp-max-pods 10000]
// (solver part only: --skip-e2e; --js-lp-max-pods 1000 skips javascript-lp-solver's minutes-long 10,000-pod run)
// Two parts, written to bench/results/scheduler.json:
// - solver: generated instances (fixed seeds) of 1,000 pods x 100 nodes and 10,000 x 1,000,
//   solved by each LP solver (HiGHS, javascript-lp-solver) and by a kube-scheduler-style greedy
//   score-and-pick baseline; objective, the LP-relaxation bound and the gap.
// - e2e: a fresh control plane with kwok nodes carrying the attributes; the same pods bound once
//   by meshos-scheduler (its own process) and once by the built kube-scheduler (default
//   configuration); throughput and the resulting placement scored by ONE function for both.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Agent, Mesh } from '../crds/types.js';
import { Informer } from '../operator/informer/informer.js';
import { KubeClient } from '../operator/kube/client.js';
import { loadClusterConnection } from '../operator/kube/config.js';
import type { KubeObject } from '../operator/kube/object.js';
import { CoreResources, MeshOsResources, collectionPath, type ResourceType } from '../operator/kube/resources.js';
import { nodeModel, podDemand, type NodeObject, type PodObject } from '../scheduler/cluster.js';
import { generateInstance, generateNodes, generateAgents, ACCELERATOR_LABEL, GPU_TAINT, type GeneratedAgent } from '../scheduler/instances.js';
import { DEFAULT_LATENCY, DEFAULT_WEIGHTS, ZoneSpread, latencyMs, normaliserFor, placementObjective, staticViolation, type NodeModel } from '../scheduler/model.js';
import { solvePlacement } from '../scheduler/solve/optimise.js';
import { lpSolver } from '../scheduler/solve/registry.js';
import { installCrds, kwokNodeManifest, startControlPlane } from '../test/harness/control-plane.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    pods: { type: 'string', default: '5000' },
    'skip-e2e': { type: 'boolean', default: false },
    'skip-solver': { type: 'boolean', default: false },
    'js-lp-max-pods': { type: 'string', default: '10000' },
    seed: { type: 'string', default: '42' },
  },
});
const root = new URL('..', import.meta.url).pathname;
const seed = Number(values.seed);
const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;
const log = (message: string): void => void process.stderr.write(`${message}\n`);

interface SolverFigures {
  seconds: number;
  objective: number;
  lpBound: number;
  gapPercent: number;
  [extra: string]: unknown;
}

async function solverPart(previousSolver: Record<string, Record<string, SolverFigures>> | undefined): Promise<Record<string, Record<string, SolverFigures>>> {
  const out: Record<string, Record<string, SolverFigures>> = {};
  const skipped: { label: string; name: string; earlier: SolverFigures }[] = [];
  for (const [pods, nodes] of [[1000, 100], [10_000, 1000]] as const) {
    const label = `${pods}x${nodes}`;
    const instance = generateInstance(pods, nodes, seed);
    const problem = { nodes: instance.nodes, pods: instance.pods, weights: DEFAULT_WEIGHTS, latency: DEFAULT_LATENCY };
    const row: Record<string, SolverFigures> = {};
    let bound = NaN;
    for (const name of ['highs', 'jsLpSolver']) {
      if (name === 'jsLpSolver' && pods > Number(values['js-lp-max-pods'])) {
        // Minutes per run: keep the figures of an earlier run only when they are of the same LP (same bound).
        const earlier = previousSolver?.[label]?.[name];
        if (earlier) skipped.push({ label, name, earlier });
        continue;
      }
      const solver = await lpSolver(name);
      log(`solver ${label}: ${name}...`);
      const budget = name === 'highs' ? 10_000 : 3_600_000;
      // HiGHS: the first solve of a process pays for JavaScript's JIT; a running scheduler has
      // solved batches before (and warms up at start), so the figure is the median of 3 warm
      // solves, the cold one kept beside it. javascript-lp-solver takes minutes: one run.
      const runs = [solvePlacement(problem, { solver, timeBudgetMs: budget })];
      if (name === 'highs') for (let i = 0; i < 3; i++) runs.push(solvePlacement(problem, { solver, timeBudgetMs: budget }));
      const cold = runs[0] as (typeof runs)[number];
      const warm = name === 'highs' ? runs.slice(1).sort((a, b) => a.seconds - b.seconds) : runs;
      const result = warm[Math.floor(warm.length / 2)] as (typeof runs)[number];
      if (result.lpBound === undefined) throw new Error(`${name} did not solve ${label}: ${result.fallback ?? ''}`);
      bound = result.lpBound;
      row[name] = {
        seconds: round(result.seconds),
        ...(name === 'highs' ? { secondsCold: round(cold.seconds), secondsWarmRuns: warm.map((r) => round(r.seconds)) } : {}),
        objective: round(result.objective),
        lpBound: round(result.lpBound),
        gapPercent: round(result.gapPercent ?? 0),
        unplaced: result.unplaced.length,
        zoneOverflow: result.zoneOverflow,
        classes: result.classes,
        nodeTypes: result.nodeTypes,
        phasesMs: Object.fromEntries(Object.entries(result.phases).map(([phase, ms]) => [phase, Math.round(ms)])),
      };
    }
    // kube-scheduler style: pods one by one in queue order, each to its best-scoring feasible node.
    const greedy = solvePlacement(problem, { improve: false, greedyOrder: 'arrival' });
    row['greedy'] = { seconds: round(greedy.seconds), objective: round(greedy.objective), lpBound: round(bound), gapPercent: round(((greedy.objective - bound) / bound) * 100), unplaced: greedy.unplaced.length, zoneOverflow: greedy.zoneOverflow };
    const fallback = solvePlacement(problem, { greedyOrder: 'arrival' });
    row['greedyImproved'] = { seconds: round(fallback.seconds), objective: round(fallback.objective), lpBound: round(bound), gapPercent: round(((fallback.objective - bound) / bound) * 100), unplaced: fallback.unplaced.length, zoneOverflow: fallback.zoneOverflow };
    for (const { label: at, name, earlier } of skipped.splice(0)) {
      if (at === label && Math.abs(earlier.lpBound - bound) < 1e-3) row[name] = { ...earlier, measuredInEarlierRun: true };
    }
    out[label] = row;
    log(`solver ${label}: ${JSON.stringify(row)}`);
  }
  return out;
}

interface E2EFigures {
  podsPerSecond: number;
  weightedObjective: number;
  cost: number;
  carbon: number;
  meanLatencyMs: number;
  meanTrust: number;
  seconds: number;
  bound: number;
  unbound: number;
  /** Bound pods whose node breaks one of the Agent's hard constraints (SLA latency, trust). */
  constraintViolations: number;
  /** Replicas past their zone's cap (model.ts ZoneSpread: per Agent and region, ceil(replicas in the region / its feasible zones)). */
  zoneOverflow: number;
}

const POD_NAMESPACES = { meshos: 'bench-meshos', kubeScheduler: 'bench-kube' } as const;

function agentObject(agent: GeneratedAgent, namespace: string): Agent {
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Agent',
    metadata: { name: agent.name, namespace },
    spec: {
      meshRef: 'bench',
      description: `Bench agent ${agent.name}`,
      ...(agent.maxLatencyMs !== undefined ? { sla: { maxLatencyMs: agent.maxLatencyMs } } : {}),
      scheduling: { usersRegion: agent.usersRegion, ...(agent.minTrust !== undefined ? { minNodeTrust: agent.minTrust } : {}), spread: true },
      runtime: { image: 'registry.k8s.io/pause:3.10', replicas: agent.replicas, resources: { requests: { cpu: agent.cpu, memory: agent.memory } } },
    },
  };
}

function podObjects(agents: readonly GeneratedAgent[], namespace: string, schedulerName: string): PodObject[] {
  const pods = agents.flatMap((agent) =>
    Array.from({ length: agent.replicas }, (_, i) => {
      const manifest: unknown = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${agent.name}-${i}`, namespace, labels: { 'meshos.dev/agent': agent.name, app: agent.name } },
        spec: {
          schedulerName,
          containers: [{ name: 'agent', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: agent.cpu, memory: agent.memory } } }],
          ...(agent.gpu ? { nodeSelector: { [ACCELERATOR_LABEL]: 'gpu' }, tolerations: [{ key: GPU_TAINT.key, operator: 'Exists', effect: 'NoSchedule' }] } : {}),
          terminationGracePeriodSeconds: 0,
        },
      };
      return manifest as PodObject;
    }),
  );
  // Interleave Agents, as rollouts of many Agents arrive.
  return pods.sort((a, b) => Number(a.metadata.name?.split('-').pop()) - Number(b.metadata.name?.split('-').pop()));
}

async function createAll<T extends KubeObject>(client: KubeClient, type: ResourceType, objects: T[], concurrency = 32): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < objects.length) await client.create(type, objects[next++] as T);
    }),
  );
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Binds all pods of one namespace with one scheduler and scores the placement. */
async function runScheduler(
  client: KubeClient,
  which: 'meshos' | 'kubeScheduler',
  agents: readonly GeneratedAgent[],
  nodeModels: Map<string, NodeModel>,
  mesh: Mesh,
): Promise<E2EFigures> {
  const namespace = POD_NAMESPACES[which];
  await client.create(CoreResources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const agentObjects = agents.map((a) => agentObject(a, namespace));
  await createAll(client, MeshOsResources.agent, agentObjects);
  const stop = new AbortController();
  const pods = new Informer<PodObject>(client, CoreResources.pod, { namespace });
  const running = pods.run(stop.signal);
  await pods.waitForSync();
  const objects = podObjects(agents, namespace, which === 'meshos' ? 'meshos-scheduler' : 'default-scheduler');
  const decided = (): number => pods.store.list().filter((p) => p.spec?.nodeName || p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')).length;
  log(`e2e ${which}: creating ${objects.length} pods...`);
  const start = performance.now();
  await createAll(client, CoreResources.pod, objects, 64);
  log(`e2e ${which}: created in ${round((performance.now() - start) / 1000, 1)} s; waiting for bindings...`);
  let lastBound = 0;
  let lastBoundAt = performance.now();
  let lastChange = Date.now();
  for (;;) {
    const bound = pods.store.list().filter((p) => p.spec?.nodeName).length;
    if (bound !== lastBound) {
      lastBound = bound;
      lastBoundAt = performance.now();
      lastChange = Date.now();
    }
    if (decided() >= objects.length && bound === lastBound && Date.now() - lastChange > 3000) break;
    if (Date.now() - lastChange > 60_000) {
      log(`e2e ${which}: no progress for 60 s (${bound}/${objects.length} bound); stopping the wait`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const seconds = (lastBoundAt - start) / 1000;
  const agentByName = new Map(agentObjects.map((a) => [a.metadata.name ?? '', a]));
  const placements: { pod: ReturnType<typeof podDemand>; node: NodeModel }[] = [];
  let violations = 0;
  for (const pod of pods.store.list()) {
    const node = pod.spec?.nodeName ? nodeModels.get(pod.spec.nodeName) : undefined;
    if (!node) continue;
    const demand = podDemand(pod, agentByName.get(pod.metadata.labels?.['meshos.dev/agent'] ?? ''), mesh);
    placements.push({ pod: demand, node });
    const tooFar = demand.maxLatencyMs !== undefined && demand.usersRegion !== undefined && latencyOf(demand.usersRegion, node.region) > demand.maxLatencyMs;
    if (tooFar || (demand.minTrust !== undefined && node.trustLevel < demand.minTrust)) violations++;
  }
  const summary = placementObjective(placements, DEFAULT_WEIGHTS, DEFAULT_LATENCY, normaliserFor([...nodeModels.values()], DEFAULT_LATENCY));
  // The zone rule, measured the same way for both placements.
  const byAgent = new Map<string, typeof placements>();
  for (const placement of placements) byAgent.set(placement.pod.spreadGroup ?? placement.pod.key, [...(byAgent.get(placement.pod.spreadGroup ?? placement.pod.key) ?? []), placement]);
  let zoneOverflow = 0;
  for (const members of byAgent.values()) {
    const first = members[0];
    if (!first || first.pod.spreadGroup === undefined) continue;
    const zones = new Map<string, string>();
    for (const node of nodeModels.values()) if (node.zone !== '' && staticViolation(first.pod, node, DEFAULT_LATENCY) === undefined) zones.set(node.zone, node.region);
    const spread = new ZoneSpread(zones);
    for (const { node } of members) spread.add(node.zone, 1);
    zoneOverflow += spread.overflow();
    if (spread.overflow() > 0 && process.env['BENCH_DEBUG']) log(`e2e ${which}: ${first.pod.spreadGroup} past its zone caps: zones ${JSON.stringify([...spread.counts])} regions ${JSON.stringify([...spread.regionCounts])} of ${JSON.stringify([...spread.zonesInRegion])}`);
  }
  stop.abort();
  await running;
  return {
    podsPerSecond: round(placements.length / seconds, 1),
    weightedObjective: round(summary.weightedObjective, 4),
    cost: round(summary.cost, 2),
    carbon: round(summary.carbon, 1),
    meanLatencyMs: round(summary.meanLatencyMs, 1),
    meanTrust: round(summary.meanTrust, 2),
    seconds: round(seconds, 2),
    bound: placements.length,
    unbound: objects.length - placements.length,
    constraintViolations: violations,
    zoneOverflow,
  };
}

const latencyOf = (from: string, to: string): number => latencyMs(DEFAULT_LATENCY, from, to);

async function deletePods(client: KubeClient, namespace: string): Promise<void> {
  await client.request('DELETE', collectionPath(CoreResources.pod, namespace), { query: { gracePeriodSeconds: 0 } });
  for (let i = 0; i < 600; i++) {
    const left = await client.list(CoreResources.pod, namespace, { limit: 1 });
    if (left.items.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`pods of ${namespace} not gone after 300 s`);
}

async function e2ePart(nodeCount: number, podCount: number): Promise<Record<string, unknown>> {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshos-bench-sched-'));
  const plane = await startControlPlane({ dataDir, components: { scheduler: true, kwok: true, controllerManager: true }, onProgress: log });
  let scheduler: ReturnType<typeof spawn> | undefined;
  try {
    await installCrds(plane.kubectl);
    const client = new KubeClient(await loadClusterConnection(plane.kubeconfigPath), { qps: 5000, burst: 5000 });
    const generated = generateNodes(nodeCount, seed);
    log(`e2e: creating ${nodeCount} kwok nodes...`);
    const manifests = generated.map((n) => {
      const manifest = kwokNodeManifest(n.name, n.labels, { cpu: n.cpu, memory: n.memory, pods: n.pods });
      if (n.taints.length) manifest.spec = { ...manifest.spec, taints: n.taints };
      return manifest;
    });
    for (let i = 0; i < manifests.length; i += 250) {
      await plane.kubectl(['apply', '--server-side', '--field-manager=meshos-bench', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests.slice(i, i + 250) }));
    }
    const nodes = new Informer<NodeObject>(client, CoreResources.node, { labelSelector: 'type=kwok' });
    const stopNodes = new AbortController();
    const nodesRun = nodes.run(stopNodes.signal);
    await nodes.waitForSync();
    await waitFor('nodes Ready', () => nodes.store.list().filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length >= nodeCount, 300_000);
    // The node lifecycle controller taints new nodes not-ready (NoSchedule) until it has seen them
    // Ready; a scheduler started before that sees whole zones as unusable for its first batches.
    await waitFor('nodes without lifecycle taints', () => nodes.store.list().every((n) => !(n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/'))), 300_000);
    const nodeModels = new Map(nodes.store.list().filter((n) => generated.some((g) => g.name === n.metadata.name)).map((n) => [n.metadata.name ?? '', nodeModel(n)]));
    stopNodes.abort();
    await nodesRun;
    const mesh: Mesh = { apiVersion: 'meshos.dev/v1alpha1', kind: 'Mesh', metadata: { name: 'bench' }, spec: { did: 'did:mesh:bench:bench', scheduling: { schedulerName: 'meshos-scheduler' } } };
    await client.create(MeshOsResources.mesh, mesh);
    const agents = generateAgents(podCount, nodeCount, seed + 1);

    log('e2e: starting meshos-scheduler (its own process)...');
    scheduler = spawn(process.execPath, ['--import', 'tsx', 'scheduler/main.ts', '--kubeconfig', plane.kubeconfigPath, '--namespace', POD_NAMESPACES.meshos, '--node-selector', 'type=kwok'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MESHOS_LOG_LEVEL: 'info' },
    });
    let schedulerLog = '';
    let started = false;
    scheduler.stderr?.on('data', (chunk: Buffer) => {
      schedulerLog = (schedulerLog + chunk.toString()).slice(-20_000);
      started ||= schedulerLog.includes('Scheduler meshos-scheduler started');
    });
    // The clock starts when the scheduler has synced its caches and loaded HiGHS, as kube-scheduler has.
    await waitFor('meshos-scheduler started', () => started, 120_000);
    const meshos = await runScheduler(client, 'meshos', agents, nodeModels, mesh).catch((error: unknown) => {
      log(schedulerLog.slice(-4000));
      throw error;
    });
    log(`e2e meshos: ${JSON.stringify(meshos)}`);
    const batches = [...schedulerLog.matchAll(/"pods":(\d+),"placed":\d+,"unplaced":\d+,"solveMs":(\d+),"queuedBinds":(\d+)/g)].map((m) => `${m[1]}:${m[2]}ms:${m[3]}q`);
    log(`e2e meshos: batches in the log tail (pods:solve:queued binds) ${batches.join(' ')}`);
    scheduler.kill('SIGTERM');
    log('e2e: deleting the meshos pods before the kube-scheduler run...');
    await deletePods(client, POD_NAMESPACES.meshos);
    const kube = await runScheduler(client, 'kubeScheduler', agents, nodeModels, mesh);
    log(`e2e kube-scheduler: ${JSON.stringify(kube)}`);
    await client.destroy();
    return {
      nodes: nodeCount,
      pods: podCount,
      meshos,
      kubeScheduler: kube,
      throughputRatio: round(meshos.podsPerSecond / kube.podsPerSecond, 2),
      objectiveImprovementPercent: round(((kube.weightedObjective - meshos.weightedObjective) / kube.weightedObjective) * 100, 1),
      notes:
        'Pods created directly (labelled with their Agent) at 64 parallel creates, timed from the first create to the last binding. meshos-scheduler ran as its own process (default flags: HiGHS, 100 ms batch window, QPS 500); kube-scheduler with the harness defaults (its client QPS 50). Both placements scored by scheduler/model.ts placementObjective with the default weights.',
    };
  } finally {
    scheduler?.kill('SIGTERM');
    await plane.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const path = join(root, 'bench/results/scheduler.json');
  const previous = JSON.parse(await readFile(path, 'utf8').catch(() => '{}')) as Record<string, unknown>;
  const result: Record<string, unknown> = { ...previous, machine: { cpus: cpus().length, node: process.version } };
  if (!values['skip-solver']) result['solver'] = await solverPart(previous['solver'] as Record<string, Record<string, SolverFigures>> | undefined);
  if (!values['skip-e2e']) result['e2e'] = await e2ePart(Number(values.nodes), Number(values.pods));
  result['targets'] = { solverGapPercentAt10000x1000: 1, solverSecondsAt10000x1000: 2, e2eThroughputRatioToKubeScheduler: 1, e2eObjectiveImprovementPercent: 20 };
  await writeFile(path, JSON.stringify(result, null, 2) + '\n');
  const solver = result['solver'] as Record<string, Record<string, SolverFigures>> | undefined;
  const big = solver?.['10000x1000'];
  if (big) process.stdout.write(`solver 10000x1000: highs ${big['highs']?.seconds} s gap ${big['highs']?.gapPercent}%; jsLpSolver ${big['jsLpSolver']?.seconds ?? '-'} s; greedy gap ${big['greedy']?.gapPercent}%\n`);
  const e2e = result['e2e'] as { meshos: E2EFigures; kubeScheduler: E2EFigures; objectiveImprovementPercent: number } | undefined;
  if (e2e) process.stdout.write(`e2e: meshos ${e2e.meshos.podsPerSecond} pods/s objective ${e2e.meshos.weightedObjective}; kube-scheduler ${e2e.kubeScheduler.podsPerSecond} pods/s objective ${e2e.kubeScheduler.weightedObjective}; ${e2e.objectiveImprovementPercent}% better\n`);
  process.stdout.write('wrote bench/results/scheduler.json\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:scheduler failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
