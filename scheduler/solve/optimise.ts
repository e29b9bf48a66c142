// Batch placement: group identical pods into classes and interchangeable nodes into types,
// solve the class x type LP relaxation (its value is a lower bound on any placement), round
// it, pack each type's share onto its real nodes, place what is left greedily, then improve
// by moving pods to better nodes with room. Without an LP solver, or when the time budget
// runs out, the result is greedy + improvement, and the result says so.
import {
  commit,
  fitsResources,
  normaliserFor,
  objectiveTerms,
  release,
  staticViolation,
  weightedScore,
  cloneNode,
  type LatencyMatrix,
  type NodeModel,
  type Normaliser,
  type ObjectiveWeights,
  type PodDemand,
} from '../model.js';
import type { LinearProgram, LpSolver } from './lp.js';

/** Objective charge for a pod left unplaced; any placement (score <= 1) is cheaper. */
export const UNPLACED_PENALTY = 2;

export interface PlacementProblem {
  nodes: readonly NodeModel[];
  pods: readonly PodDemand[];
  weights: ObjectiveWeights;
  latency: LatencyMatrix;
  /** Defaults to normaliserFor(nodes, latency). */
  normaliser?: Normaliser;
}

export interface PlacementResult {
  /** Pod key -> node name. */
  assignments: Map<string, string>;
  unplaced: string[];
  /** Sum over pods of the weighted normalised score, plus UNPLACED_PENALTY per unplaced pod. */
  objective: number;
  /** The LP relaxation's value: no placement can score lower. */
  lpBound?: number;
  gapPercent?: number;
  method: 'lp' | 'greedy' | 'greedy+improve';
  /** Why the LP was not used, when it was asked for. */
  fallback?: 'time-budget' | 'solver-error';
  seconds: number;
  classes: number;
  nodeTypes: number;
  /** Nodes after the placement (free capacity taken). */
  nodesAfter: NodeModel[];
}

export interface SolveOptions {
  /** The LP solver; without one the result is greedy (+ improvement). */
  solver?: LpSolver;
  /** Wall-clock budget for the whole solve (default 2000 ms). */
  timeBudgetMs?: number;
  /** Local search after construction (default true). */
  improve?: boolean;
  /** Greedy order: 'arrival' (queue order, as kube-scheduler) or 'regret' (hardest choices first). */
  greedyOrder?: 'arrival' | 'regret';
}

interface PodClass {
  index: number;
  pod: PodDemand;
  keys: string[];
}

interface NodeType {
  index: number;
  nodes: NodeModel[];
  capacity: { cpu: number; memory: number; pods: number };
}

/** Pods that the solver may treat as interchangeable. */
export function classKey(pod: PodDemand): string {
  return JSON.stringify([
    pod.requests.cpu,
    pod.requests.memory,
    pod.requests.pods,
    pod.tolerations,
    pod.nodeSelector,
    pod.requiredTerms,
    pod.usersRegion ?? '',
    pod.maxLatencyMs ?? -1,
    pod.minTrust ?? -1,
    pod.spreadGroup ?? '',
    pod.priority,
  ]);
}

export function groupClasses(pods: readonly PodDemand[]): PodClass[] {
  const byKey = new Map<string, PodClass>();
  for (const pod of pods) {
    const key = classKey(pod);
    let found = byKey.get(key);
    if (!found) {
      found = { index: byKey.size, pod, keys: [] };
      byKey.set(key, found);
    }
    found.keys.push(pod.key);
  }
  return [...byKey.values()];
}

/** Label keys any class looks at; nodes that agree on these (and on the rest) are interchangeable. */
function referencedLabelKeys(classes: readonly PodClass[]): string[] {
  const keys = new Set<string>();
  for (const { pod } of classes) {
    for (const key of Object.keys(pod.nodeSelector)) keys.add(key);
    for (const term of pod.requiredTerms) for (const requirement of term.matchExpressions ?? []) keys.add(requirement.key);
  }
  return [...keys].sort();
}

/** Node types: same attributes and the same set of classes that may go there. Also returns class x node feasibility. */
function groupNodeTypes(nodes: NodeModel[], classes: readonly PodClass[], latency: LatencyMatrix): NodeType[] {
  const labelKeys = referencedLabelKeys(classes);
  const staticCache = new Map<string, boolean[]>();
  const types = new Map<string, NodeType>();
  for (const node of nodes) {
    const staticKey = JSON.stringify([node.region, node.zone, node.costPerHour, node.allocatable.cpu, node.carbonIntensity, node.trustLevel, node.taints, labelKeys.map((key) => node.labels[key] ?? null)]);
    let allowed = staticCache.get(staticKey);
    if (!allowed) {
      allowed = classes.map((c) => staticViolation(c.pod, node, latency) === undefined);
      staticCache.set(staticKey, allowed);
    }
    let signature = staticKey;
    const bits: string[] = [];
    for (const c of classes) {
      const ok = (allowed[c.index] ?? false) && fitsResources(c.pod.requests, node.free) && !(c.pod.spreadGroup !== undefined && node.groups.has(c.pod.spreadGroup));
      bits.push(ok ? '1' : '0');
    }
    signature += bits.join('');
    let type = types.get(signature);
    if (!type) {
      type = { index: types.size, nodes: [], capacity: { cpu: 0, memory: 0, pods: 0 } };
      types.set(signature, type);
      typeFeasible.set(type, bits.map((bit) => bit === '1'));
    }
    type.nodes.push(node);
    type.capacity.cpu += node.free.cpu;
    type.capacity.memory += node.free.memory;
    type.capacity.pods += node.free.pods;
  }
  return [...types.values()];
}

const typeFeasible = new WeakMap<NodeType, boolean[]>();

class Placement {
  readonly assignments = new Map<string, string>();
  /** Per class: node name -> pods of the class there (keys). */
  readonly podsOnNode: Map<string, string[]>[];
  readonly unplaced: string[][];
  constructor(classCount: number) {
    this.podsOnNode = Array.from({ length: classCount }, () => new Map<string, string[]>());
    this.unplaced = Array.from({ length: classCount }, () => []);
  }
  place(c: PodClass, key: string, node: NodeModel): void {
    commit(node, c.pod);
    this.assignments.set(key, node.name);
    const list = this.podsOnNode[c.index] as Map<string, string[]>;
    const keys = list.get(node.name);
    if (keys) keys.push(key);
    else list.set(node.name, [key]);
  }
  move(c: PodClass, key: string, from: NodeModel, to: NodeModel): void {
    release(from, c.pod);
    const list = this.podsOnNode[c.index] as Map<string, string[]>;
    const keys = list.get(from.name) ?? [];
    keys.splice(keys.indexOf(key), 1);
    if (keys.length === 0) list.delete(from.name);
    this.place(c, key, to);
  }
}

const canTake = (node: NodeModel, c: PodClass): boolean =>
  fitsResources(c.pod.requests, node.free) && !(c.pod.spreadGroup !== undefined && node.groups.has(c.pod.spreadGroup));

/** Solves one batch. Nodes are cloned: the caller's objects are not changed. */
export function solvePlacement(problem: PlacementProblem, options: SolveOptions = {}): PlacementResult {
  const started = performance.now();
  const budget = options.timeBudgetMs ?? 2000;
  const deadline = started + budget;
  const nodes = problem.nodes.map(cloneNode);
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));
  const norm = problem.normaliser ?? normaliserFor(nodes, problem.latency);
  const classes = groupClasses(problem.pods);
  const types = groupNodeTypes(nodes, classes, problem.latency);
  // Score of a class on a type: every node of a type has the same attributes.
  const score: Float64Array[] = classes.map((c) =>
    Float64Array.from(types, (t) => weightedScore(objectiveTerms(c.pod, t.nodes[0] as NodeModel, problem.latency, norm), problem.weights)),
  );
  const feasible = (c: PodClass, t: NodeType): boolean => typeFeasible.get(t)?.[c.index] ?? false;
  const priorities = [...new Set(classes.map((c) => c.pod.priority))].sort((a, b) => a - b);
  const penalty = (c: PodClass): number => UNPLACED_PENALTY * (1 + priorities.indexOf(c.pod.priority));

  const placement = new Placement(classes.length);
  let method: PlacementResult['method'] = options.improve === false ? 'greedy' : 'greedy+improve';
  let fallback: PlacementResult['fallback'];
  let lpBound: number | undefined;

  // Types per class, best first: the greedy and the repair both walk them in this order.
  const typeOrder = classes.map((c) =>
    types.filter((t) => feasible(c, t)).sort((a, b) => (score[c.index]?.[a.index] ?? 0) - (score[c.index]?.[b.index] ?? 0)),
  );

  /** Best node with room for a pod of the class: best type first, then the emptiest node (kube's LeastAllocated as tie-break). */
  const bestNode = (c: PodClass): NodeModel | undefined => {
    for (const t of typeOrder[c.index] ?? []) {
      let chosen: NodeModel | undefined;
      for (const node of t.nodes) {
        if (canTake(node, c) && (!chosen || node.free.cpu > chosen.free.cpu)) chosen = node;
      }
      if (chosen) return chosen;
    }
    return undefined;
  };

  const greedy = (pending: { c: PodClass; key: string }[]): void => {
    for (const { c, key } of pending) {
      const node = bestNode(c);
      if (node) placement.place(c, key, node);
      else placement.unplaced[c.index]?.push(key);
    }
  };

  let remaining: { c: PodClass; key: string }[] = [];
  if (options.solver) {
    const program = buildProgram(classes, types, score, feasible, penalty);
    const solution = options.solver.solve(program.lp, { timeLimitMs: Math.max(50, deadline - performance.now()) });
    if (solution.status === 'optimal') {
      method = 'lp';
      lpBound = solution.objective;
      // Round down each class x type share and pack it onto the type's nodes, largest pods first.
      const shares: { c: PodClass; t: NodeType; count: number }[] = [];
      const taken = new Array<number>(classes.length).fill(0);
      program.columns.forEach(({ c, t, variable }) => {
        const count = Math.floor((solution.values[variable] ?? 0) + 1e-6);
        if (count > 0) shares.push({ c, t, count });
      });
      shares.sort((a, b) => b.c.pod.requests.cpu - a.c.pod.requests.cpu || b.c.pod.requests.memory - a.c.pod.requests.memory);
      for (const { c, t, count } of shares) {
        for (let i = 0; i < count; i++) {
          // Best fit: the fullest node that still takes the pod, so large pods find room later.
          let chosen: NodeModel | undefined;
          for (const node of t.nodes) if (canTake(node, c) && (!chosen || node.free.cpu < chosen.free.cpu)) chosen = node;
          if (!chosen) break;
          const key = c.keys[taken[c.index] ?? 0] as string;
          taken[c.index] = (taken[c.index] ?? 0) + 1;
          placement.place(c, key, chosen);
        }
      }
      for (const c of classes) for (const key of c.keys.slice(taken[c.index] ?? 0)) remaining.push({ c, key });
      remaining.sort((a, b) => b.c.pod.priority - a.c.pod.priority || b.c.pod.requests.cpu - a.c.pod.requests.cpu);
    } else {
      fallback = solution.status === 'time-limit' ? 'time-budget' : 'solver-error';
    }
  }
  if (method !== 'lp') {
    const classOf = new Map<string, PodClass>();
    for (const c of classes) for (const key of c.keys) classOf.set(key, c);
    remaining = problem.pods.map((pod) => ({ c: classOf.get(pod.key) as PodClass, key: pod.key }));
    // Higher priority first, as kube-scheduler's queue; 'regret' then puts pods that lose most by missing their best type first.
    const regret = (c: PodClass): number => {
      const order = typeOrder[c.index] ?? [];
      const first = order[0];
      if (!first) return 0;
      const best = score[c.index]?.[first.index] ?? 0;
      // The next strictly worse type: types of equal score (same zone, other sizes) are no fallback cost.
      const next = order.find((t) => (score[c.index]?.[t.index] ?? 0) > best + 1e-9);
      return (next ? (score[c.index]?.[next.index] ?? 1) : 1) - best;
    };
    const arrival = new Map(problem.pods.map((pod, i) => [pod.key, i]));
    remaining.sort(
      (a, b) =>
        b.c.pod.priority - a.c.pod.priority ||
        (options.greedyOrder === 'regret' ? regret(b.c) - regret(a.c) : 0) ||
        (arrival.get(a.key) ?? 0) - (arrival.get(b.key) ?? 0),
    );
  }
  greedy(remaining);

  if (options.improve !== false) improve(classes, typeOrder, score, placement, nodeByName, deadline);

  const unplaced = placement.unplaced.flat();
  let objective = 0;
  for (const c of classes) {
    for (const [nodeName, keys] of placement.podsOnNode[c.index] ?? []) {
      const node = nodeByName.get(nodeName) as NodeModel;
      objective += keys.length * weightedScore(objectiveTerms(c.pod, node, problem.latency, norm), problem.weights);
    }
    objective += (placement.unplaced[c.index]?.length ?? 0) * penalty(c);
  }
  const result: PlacementResult = {
    assignments: placement.assignments,
    unplaced,
    objective,
    method,
    seconds: (performance.now() - started) / 1000,
    classes: classes.length,
    nodeTypes: types.length,
    nodesAfter: nodes,
  };
  if (lpBound !== undefined) {
    result.lpBound = lpBound;
    result.gapPercent = lpBound > 0 ? ((objective - lpBound) / lpBound) * 100 : 0;
  }
  if (fallback) result.fallback = fallback;
  return result;
}

/**
 * The class x type relaxation: x[c,t] pods of class c on type t; each class is placed or
 * charged its penalty; each type's pooled free capacity holds; spread classes take at most
 * one pod per node of a type.
 */
export function buildProgram(
  classes: readonly PodClass[],
  types: readonly NodeType[],
  score: readonly Float64Array[],
  feasible: (c: PodClass, t: NodeType) => boolean,
  penalty: (c: PodClass) => number,
): { lp: LinearProgram; columns: { c: PodClass; t: NodeType; variable: number }[] } {
  const lp: LinearProgram = { variables: [], rows: [] };
  const columns: { c: PodClass; t: NodeType; variable: number }[] = [];
  const typeTerms = types.map(() => ({ cpu: [] as [number, number][], memory: [] as [number, number][], pods: [] as [number, number][] }));
  for (const c of classes) {
    const demand: [number, number][] = [];
    for (const t of types) {
      if (!feasible(c, t)) continue;
      const column = lp.variables.length;
      lp.variables.push({ name: `x${c.index}_${t.index}`, cost: round6(score[c.index]?.[t.index] ?? 0), ...(c.pod.spreadGroup !== undefined ? { upper: t.nodes.length } : {}) });
      columns.push({ c, t, variable: column });
      demand.push([column, 1]);
      const terms = typeTerms[t.index];
      if (terms) {
        // Cores and GiB keep the coefficients within a few orders of magnitude.
        if (c.pod.requests.cpu > 0) terms.cpu.push([column, c.pod.requests.cpu / 1000]);
        if (c.pod.requests.memory > 0) terms.memory.push([column, round6(c.pod.requests.memory / 2 ** 30)]);
        if (c.pod.requests.pods > 0) terms.pods.push([column, c.pod.requests.pods]);
      }
    }
    const slack = lp.variables.length;
    lp.variables.push({ name: `u${c.index}`, cost: penalty(c) });
    demand.push([slack, 1]);
    lp.rows.push({ name: `demand${c.index}`, terms: demand, lower: c.keys.length, upper: c.keys.length });
  }
  types.forEach((t, index) => {
    const terms = typeTerms[index];
    if (!terms) return;
    if (terms.cpu.length) lp.rows.push({ name: `cpu${index}`, terms: terms.cpu, upper: t.capacity.cpu / 1000 });
    if (terms.memory.length) lp.rows.push({ name: `mem${index}`, terms: terms.memory, upper: round6(t.capacity.memory / 2 ** 30) });
    if (terms.pods.length) lp.rows.push({ name: `pods${index}`, terms: terms.pods, upper: t.capacity.pods });
  });
  return { lp, columns };
}

const round6 = (value: number): number => Math.round(value * 1e6) / 1e6;

/** 1-moves: each pod goes to a strictly better node with room, best classes first, until nothing improves or time runs out. */
function improve(
  classes: readonly PodClass[],
  typeOrder: readonly NodeType[][],
  score: readonly Float64Array[],
  placement: Placement,
  nodeByName: Map<string, NodeModel>,
  deadline: number,
): void {
  const typeOfNode = new Map<string, NodeType>();
  for (const order of typeOrder) for (const t of order) for (const node of t.nodes) typeOfNode.set(node.name, t);
  for (let round = 0; round < 3; round++) {
    let moved = 0;
    for (const c of classes) {
      if (performance.now() > deadline) return;
      const scores = score[c.index] as Float64Array;
      const order = typeOrder[c.index] ?? [];
      // Unplaced pods first: any node with room beats the penalty.
      const unplaced = placement.unplaced[c.index] ?? [];
      while (unplaced.length > 0) {
        const target = order.flatMap((t) => t.nodes).find((node) => canTake(node, c));
        if (!target) break;
        placement.place(c, unplaced.pop() as string, target);
        moved++;
      }
      const onNodes = placement.podsOnNode[c.index] as Map<string, string[]>;
      const worstFirst = [...onNodes.keys()].sort((a, b) => (scores[typeOfNode.get(b)?.index ?? 0] ?? 0) - (scores[typeOfNode.get(a)?.index ?? 0] ?? 0));
      for (const nodeName of worstFirst) {
        const from = nodeByName.get(nodeName) as NodeModel;
        const fromScore = scores[typeOfNode.get(nodeName)?.index ?? 0] ?? 0;
        for (const key of [...(onNodes.get(nodeName) ?? [])]) {
          let target: NodeModel | undefined;
          for (const t of order) {
            if ((scores[t.index] ?? 0) >= fromScore - 1e-9) break;
            target = t.nodes.find((node) => canTake(node, c));
            if (target) break;
          }
          if (!target) break;
          placement.move(c, key, from, target);
          moved++;
        }
      }
    }
    if (moved === 0) return;
  }
}
