// Migration as a kernel module: periodically re-optimise placed pods. A pod whose best
// alternative node (with room now, every hard constraint holding) beats its current node by
// more than a threshold is proposed for a move; moves are rate-limited, skip pods whose
// PodDisruptionBudget allows no disruption, go through the kernel's policy gate, and are
// rolled back (the replacement is steered back) when the Agent's measured placement got worse.
import type { Action, ExecutionResult, KernelModule, ModuleContext, ProposedAction } from '../kernel/contract.js';
import { getErrorMessage } from '../operator/kube/errors.js';
import { objectKey } from '../operator/kube/object.js';
import { CoreResources, objectPath } from '../operator/kube/resources.js';
import { SCHEDULED_NODE_ANNOTATION, agentKeyOf, holdsResources, weightsOf, type PodObject } from './cluster.js';
import {
  cloneNode,
  commit,
  normaliserFor,
  objectiveTerms,
  release,
  violation,
  weightedScore,
  zoneSpreadOf,
  type LatencyMatrix,
  type NodeModel,
  type Normaliser,
  type ObjectiveWeights,
  type PodDemand,
  type ZoneSpread,
} from './model.js';
import { PDB, type MeshScheduler, type PodDisruptionBudget } from './scheduler.js';

export const NAME = 'scheduler-migration';

export interface PlacedDemand {
  pod: PodDemand;
  node: string;
  weights: ObjectiveWeights;
  /** False when a PodDisruptionBudget allows no disruption now. */
  disruptable: boolean;
}

export interface Move {
  pod: string;
  from: string;
  to: string;
  gain: number;
  before: number;
  after: number;
}

/**
 * Pure: the moves worth making, best gain first, at most `limit`, each target's capacity taken
 * by earlier moves so two moves never count on the same room. A move never takes an Agent's
 * replica into a zone at its cap (model.ts ZoneSpread): re-optimising must not collapse an
 * Agent into one zone.
 */
export function proposeMoves(placed: readonly PlacedDemand[], nodes: readonly NodeModel[], matrix: LatencyMatrix, norm: Normaliser, threshold: number, limit: number): Move[] {
  const byName = new Map(nodes.map((n) => [n.name, cloneNode(n)]));
  const spreads = new Map<string, ZoneSpread | undefined>();
  const spreadOf = (pod: PodDemand): ZoneSpread | undefined => {
    if (pod.spreadGroup === undefined) return undefined;
    if (!spreads.has(pod.spreadGroup)) spreads.set(pod.spreadGroup, zoneSpreadOf(pod, [...byName.values()], matrix));
    return spreads.get(pod.spreadGroup);
  };
  const candidates: (Move & { demand: PodDemand })[] = [];
  for (const { pod, node, weights, disruptable } of placed) {
    const current = byName.get(node);
    if (!current || !disruptable) continue;
    const before = weightedScore(objectiveTerms(pod, current, matrix, norm), weights);
    const spread = spreadOf(pod);
    let best: { node: NodeModel; score: number } | undefined;
    for (const target of byName.values()) {
      if (target.name === node || violation(pod, target, matrix) !== undefined) continue;
      if (spread && !spread.canMove(current.zone, target.zone)) continue;
      const score = weightedScore(objectiveTerms(pod, target, matrix, norm), weights);
      if (!best || score < best.score) best = { node: target, score };
    }
    if (best && before - best.score > threshold) candidates.push({ pod: pod.key, from: node, to: best.node.name, gain: before - best.score, before, after: best.score, demand: pod });
  }
  candidates.sort((a, b) => b.gain - a.gain);
  const moves: Move[] = [];
  const movedGroups = new Set<string>();
  for (const candidate of candidates) {
    if (moves.length >= limit) break;
    const target = byName.get(candidate.to) as NodeModel;
    // One replica of an Agent per round: the Agent keeps serving while one replica moves.
    if (candidate.demand.spreadGroup !== undefined && movedGroups.has(candidate.demand.spreadGroup)) continue;
    if (violation(candidate.demand, target, matrix) !== undefined) continue;
    const source = byName.get(candidate.from) as NodeModel;
    const spread = spreadOf(candidate.demand);
    if (spread && !spread.canMove(source.zone, target.zone)) continue;
    commit(target, candidate.demand);
    release(source, candidate.demand);
    spread?.add(source.zone, -1);
    spread?.add(target.zone, 1);
    if (candidate.demand.spreadGroup !== undefined) movedGroups.add(candidate.demand.spreadGroup);
    const { demand: _demand, ...move } = candidate;
    moves.push(move);
  }
  return moves;
}

export interface MigrationOptions {
  /** The running scheduler (present while the operator leads with --scheduler). */
  scheduler: () => MeshScheduler | undefined;
  /** Minimum gain in weighted score (0..1) for a move; default 0.05. */
  threshold?: number;
  /** At most this many moves per hour; default 20. */
  maxMovesPerHour?: number;
  /** At most this many moves proposed per analysis; default 3. */
  maxMovesPerAnalysis?: number;
  /** How long after a move its Agent's placement is measured; default 60 s. */
  verifyWindowMs?: number;
}

export function createMigrationModule(options: MigrationOptions): KernelModule {
  const executed: number[] = [];
  const threshold = options.threshold ?? 0.05;

  /** Mean weighted score of an Agent's placed pods (lower is better), as the scheduler sees them now. */
  async function agentScore(agent: string): Promise<number | undefined> {
    const scheduler = options.scheduler();
    if (!scheduler) return undefined;
    const matrix = await scheduler.latencyMatrix();
    const nodes = new Map(scheduler.nodes.store.list().map((n) => [n.metadata.name ?? '', scheduler.nodeNow(n)]));
    const norm = normaliserFor([...nodes.values()], matrix);
    let total = 0;
    let count = 0;
    for (const pod of scheduler.pods.store.list()) {
      if (agentKeyOf(pod) !== agent || !holdsResources(pod) || pod.metadata.deletionTimestamp) continue;
      const node = nodes.get(pod.spec?.nodeName ?? '');
      if (!node) continue;
      const { demand, mesh } = scheduler.demandOf(pod);
      total += weightedScore(objectiveTerms(demand, node, matrix, norm), weightsOf(mesh));
      count++;
    }
    return count ? total / count : undefined;
  }

  async function evict(context: ModuleContext, namespace: string, name: string): Promise<void> {
    await context.client.request('POST', objectPath(CoreResources.pod, namespace, name, 'eviction'), {
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
    });
  }

  return {
    name: NAME,
    observes: ['Pod', 'Node', 'Agent', 'Mesh'],
    actions: ['migrate-pod'],

    async analyse(context: ModuleContext): Promise<ProposedAction[]> {
      const scheduler = options.scheduler();
      if (!scheduler) return [];
      const now = context.now().getTime();
      while (executed.length && (executed[0] ?? 0) < now - 3_600_000) executed.shift();
      const budget = Math.min(options.maxMovesPerAnalysis ?? 3, (options.maxMovesPerHour ?? 20) - executed.length);
      if (budget <= 0) return [];
      const matrix = await scheduler.latencyMatrix();
      const nodes = scheduler.nodeModels();
      const norm = normaliserFor(nodes, matrix);
      const budgets = (await context.client.list<PodDisruptionBudget>(PDB)).items;
      const placed: PlacedDemand[] = [];
      const meshOf = new Map<string, string>();
      for (const pod of scheduler.pods.store.list()) {
        // Only pods this scheduler placed, running where it put them.
        if (!holdsResources(pod) || pod.metadata.deletionTimestamp || pod.metadata.annotations?.[SCHEDULED_NODE_ANNOTATION] !== pod.spec?.nodeName) continue;
        const { demand, mesh } = scheduler.demandOf(pod);
        if (!mesh) continue;
        meshOf.set(demand.key, mesh.metadata.name ?? '');
        const blocked = budgets.some((b) => b.metadata.namespace === pod.metadata.namespace && selects(b, pod) && (b.status?.disruptionsAllowed ?? 0) < 1);
        placed.push({ pod: demand, node: pod.spec?.nodeName ?? '', weights: weightsOf(mesh), disruptable: !blocked });
      }
      const moves = proposeMoves(placed, nodes, matrix, norm, threshold, budget);
      return moves.map((move) => {
        const [namespace = '', name = ''] = move.pod.split('/');
        const pod = scheduler.pods.store.get(move.pod) as PodObject;
        return {
          module: NAME,
          kind: 'migrate-pod',
          target: { kind: 'Pod', name, namespace, mesh: meshOf.get(move.pod) ?? '' },
          reason: `move ${move.pod} from ${move.from} to ${move.to}: placement score ${move.before.toFixed(3)} -> ${move.after.toFixed(3)} (gain ${move.gain.toFixed(3)} > ${threshold})`,
          risk: 0.2,
          expectedEffect: { metric: 'agent-placement-score', direction: 'decrease', tolerance: 0.01 },
          verifyWindowMs: options.verifyWindowMs ?? 60_000,
          remediation: false,
          agentsTouched: 1,
          params: { ...move, agent: agentKeyOf(pod) ?? '', requests: scheduler.demandOf(pod).demand.requests },
        };
      });
    },

    async execute(action: Action, context: ModuleContext): Promise<ExecutionResult> {
      const scheduler = options.scheduler();
      if (!scheduler) throw new Error('migration: the scheduler is not running');
      const { to, from, agent, requests } = action.params as { to: string; from: string; agent: string; requests: PodDemand['requests'] };
      // Hold room on the target for the Agent: the Deployment's replacement pod lands there.
      const hold = scheduler.addHold({ node: to, requests, agent, expiresAt: Date.now() + 120_000, reason: 'migration' });
      try {
        await evict(context, action.target.namespace ?? '', action.target.name);
      } catch (error) {
        scheduler.releaseHold(hold.id);
        throw new Error(`eviction of ${action.target.namespace ?? ''}/${action.target.name} refused: ${getErrorMessage(error)}`);
      }
      executed.push(context.now().getTime());
      scheduler.metrics?.migrations.inc({ result: 'executed' });
      return { message: `evicted ${action.target.namespace ?? ''}/${action.target.name} from ${from}; its replacement is held a place on ${to}`, undo: { agent, from, to, requests } };
    },

    async measure(action: Action): Promise<number | undefined> {
      return agentScore(String(action.params['agent']));
    },

    async rollback(action: Action, result: ExecutionResult, context: ModuleContext): Promise<ExecutionResult> {
      const scheduler = options.scheduler();
      if (!scheduler) throw new Error('migration: the scheduler is not running');
      const { agent, from, to, requests } = result.undo as { agent: string; from: string; to: string; requests: PodDemand['requests'] };
      const moved = scheduler.pods.store.list().find((p) => agentKeyOf(p) === agent && p.spec?.nodeName === to && !p.metadata.deletionTimestamp);
      if (!moved) return { message: `nothing of ${agent} runs on ${to} any more; nothing to roll back` };
      scheduler.addHold({ node: from, requests, agent, expiresAt: Date.now() + 120_000, reason: 'migration' });
      await evict(context, moved.metadata.namespace ?? '', moved.metadata.name ?? '');
      scheduler.metrics?.migrations.inc({ result: 'rolled-back' });
      return { message: `evicted ${objectKey(moved)} from ${to}; its replacement is held a place back on ${from}` };
    },
  };
}

function selects(budget: PodDisruptionBudget, pod: PodObject): boolean {
  const labels = pod.metadata.labels ?? {};
  const matchLabels = budget.spec?.selector?.matchLabels ?? {};
  return Object.keys(matchLabels).length > 0 && Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
}
