// Batch placement: group identical pods into classes and interchangeable nodes into types,
// solve the class x type LP relaxation (its value is a lower bound on any placement), round
// it, pack each type's share onto its real nodes, place what is left greedily, then improve
// by moving pods to better nodes with room. Without an LP solver, or when the time budget
// runs out, the result is greedy + improvement, and the result says so. Every step keeps the
// hard constraints, zone spread included (model.ts `ZoneSpread`).
import {
  commit,
  fitsResources,
  normaliserFor,
  objectiveTerms,
  release,
  staticViolation,
  weightedScore,
  cloneNode,
  ZoneSpread,
  type LatencyMatrix,
  type NodeModel,
  type Normaliser,
  type ObjectiveWeights,
  type PodDemand,
} from '../model.js';
import type { LinearProgram, LpSolver } from './lp.js';

/** LPs over what rounding left, at most (each places most of what the previous one left). */
const RESIDUAL_PASSES = 3;
/**
 * A residual LP offers each class its best types only: it places a few pods per class, so the
 * rest of the 139 types of the bench instance only made it slower (gap 0.55% with 32, 0.54% with all).
 */
const RESIDUAL_TYPES_PER_CLASS = 32;

/** Objective charge for a pod left unplaced (per priority level); any placement, even past a zone's cap, is cheaper. */
export const UNPLACED_PENALTY = 3;
/**
 * Objective charge for a replica placed past its group's zone cap: more than any score
 * difference (scores lie in [0, 1]), so the LP spreads whenever another zone has room, and
 * less than UNPLACED_PENALTY - 1, so a pod still lands when only one zone has room.
 */
export const ZONE_OVERFLOW_PENALTY = 1.5;

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
  /**
   * Sum over pods of the weighted normalised score, plus UNPLACED_PENALTY per unplaced pod
   * and ZONE_OVERFLOW_PENALTY per replica past its zone cap.
   */
  objective: number;
  /** Replicas placed past their group's zone cap (only when no other zone could take them). */
  zoneOverflow: number;
  /** The LP relaxation's value: no placement can score lower. */
  lpBound?: number;
  gapPercent?: number;
  method: 'lp' | 'greedy' | 'greedy+improve';
  /** Why the LP was not used, when it was asked for. */
  fallback?: 'time-budget' | 'solver-error';
  seconds: number;
  /** Where the time went, in milliseconds. */
  phases: { model: number; lp: number; round: number; repair: number; improve: number };
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
  /** The class's spread group when its zone rule applies (the group's nodes span two zones or more). */
  spread?: GroupSpread;
  /** For a class of the residual LP: the class of the whole batch it stands for. */
  origin?: PodClass;
}

/** Zone spread state of one group during a solve. */
interface GroupSpread {
  key: string;
  classes: PodClass[];
  /** Counts start with the replicas bound before this batch; placements and moves update them. */
  spread: ZoneSpread;
}

interface NodeType {
  index: number;
  region: string;
  zone: string;
  nodes: NodeModel[];
  capacity: { cpu: number; memory: number; pods: number };
  /** Per class: every static constraint holds (capacity and spread aside). */
  allowed: boolean[];
  /** Per class: allowed, and at the start every node of the type had room and no replica of the class's group. */
  feasible: boolean[];
  /** Per class, when known: how many pods of the class the type's nodes can take one by one (a bound on its LP column). */
  slots?: number[];
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

/** Node types: same attributes (zone included) and the same set of classes that may go there. */
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
    const bits = new Array<boolean>(classes.length);
    let signature = staticKey;
    for (const c of classes) {
      const ok = (allowed[c.index] ?? false) && fitsResources(c.pod.requests, node.free) && !(c.pod.spreadGroup !== undefined && node.groups.has(c.pod.spreadGroup));
      bits[c.index] = ok;
      signature += ok ? '1' : '0';
    }
    let type = types.get(signature);
    if (!type) {
      type = { index: types.size, region: node.region, zone: node.zone, nodes: [], capacity: { cpu: 0, memory: 0, pods: 0 }, allowed, feasible: bits };
      types.set(signature, type);
    }
    type.nodes.push(node);
    type.capacity.cpu += node.free.cpu;
    type.capacity.memory += node.free.memory;
    type.capacity.pods += node.free.pods;
  }
  return [...types.values()];
}

/** Zone spread per group: feasible zones from the types' static feasibility, replicas already bound from the nodes' groups. */
function spreadGroups(classes: readonly PodClass[], types: readonly NodeType[], nodes: readonly NodeModel[]): GroupSpread[] {
  const byGroup = new Map<string, PodClass[]>();
  for (const c of classes) {
    const group = c.pod.spreadGroup;
    if (group !== undefined) byGroup.set(group, [...(byGroup.get(group) ?? []), c]);
  }
  if (byGroup.size === 0) return [];
  const groups = new Map<string, GroupSpread>();
  for (const [key, members] of byGroup) {
    const zones = new Map<string, string>();
    for (const t of types) if (t.zone !== '' && members.some((c) => t.allowed[c.index])) zones.set(t.zone, t.region);
    const spread = new ZoneSpread(zones);
    if (!spread.active) continue;
    const group: GroupSpread = { key, classes: members, spread };
    for (const c of members) c.spread = group;
    groups.set(key, group);
  }
  for (const node of nodes) for (const key of node.groups) groups.get(key)?.spread.add(node.zone, 1);
  return [...groups.values()];
}

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
    c.spread?.spread.add(node.zone, 1);
  }
  remove(c: PodClass, key: string, from: NodeModel): string {
    release(from, c.pod);
    this.assignments.delete(key);
    const list = this.podsOnNode[c.index] as Map<string, string[]>;
    const keys = list.get(from.name) ?? [];
    keys.splice(keys.indexOf(key), 1);
    if (keys.length === 0) list.delete(from.name);
    c.spread?.spread.add(from.zone, -1);
    return key;
  }
  move(c: PodClass, key: string, from: NodeModel, to: NodeModel): void {
    this.place(c, this.remove(c, key, from), to);
  }
}

const canTake = (node: NodeModel, c: PodClass): boolean =>
  fitsResources(c.pod.requests, node.free) && !(c.pod.spreadGroup !== undefined && node.groups.has(c.pod.spreadGroup));

/** One more replica of the class may go to the zone without passing its group's cap. */
const zoneOpen = (c: PodClass, zone: string): boolean => c.spread?.spread.canAdd(zone) ?? true;
/** A replica of the class may move between the zones (ZoneSpread.canMove). */
const zoneMove = (c: PodClass, from: string, to: string): boolean => c.spread?.spread.canMove(from, to) ?? true;

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
  const groups = spreadGroups(classes, types, nodes);
  // Score of a class on a type: every node of a type has the same attributes.
  const score: Float64Array[] = classes.map((c) =>
    Float64Array.from(types, (t) => weightedScore(objectiveTerms(c.pod, t.nodes[0] as NodeModel, problem.latency, norm), problem.weights)),
  );
  const priorities = [...new Set(classes.map((c) => c.pod.priority))].sort((a, b) => a - b);
  const penalty = (c: PodClass): number => UNPLACED_PENALTY * (1 + priorities.indexOf(c.pod.priority));

  const placement = new Placement(classes.length);
  let method: PlacementResult['method'] = options.improve === false ? 'greedy' : 'greedy+improve';
  let fallback: PlacementResult['fallback'];
  let lpBound: number | undefined;

  const byScore = (c: PodClass) => (a: NodeType, b: NodeType): number => (score[c.index]?.[a.index] ?? 0) - (score[c.index]?.[b.index] ?? 0);
  // Types per class, best first: the greedy walks them in this order. The spread repair walks
  // every type the class may use (a node full at the start may have room after moves).
  const typeOrder = classes.map((c) => types.filter((t) => t.feasible[c.index]).sort(byScore(c)));
  const allowedOrder = classes.map((c) => types.filter((t) => t.allowed[c.index]).sort(byScore(c)));
  const phases = { model: performance.now() - started, lp: 0, round: 0, repair: 0, improve: 0 };

  /** Best node with room: best type first (within the zone cap, unless `overflow`), then the emptiest node (kube's LeastAllocated as tie-break). */
  const bestNode = (c: PodClass, overflow: boolean): NodeModel | undefined => {
    for (const t of typeOrder[c.index] ?? []) {
      if (!overflow && !zoneOpen(c, t.zone)) continue;
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
      // Past the zone cap only when no zone within it has room (the rule's fallback).
      const node = bestNode(c, false) ?? (c.spread ? bestNode(c, true) : undefined);
      if (node) placement.place(c, key, node);
      else placement.unplaced[c.index]?.push(key);
    }
  };

  let remaining: { c: PodClass; key: string }[] = [];
  if (options.solver) {
    const lpStarted = performance.now();
    const program = buildProgram(classes, types, score, penalty, groups);
    const solution = options.solver.solve(program.lp, { timeLimitMs: Math.max(50, deadline - performance.now()) });
    phases.lp = performance.now() - lpStarted;
    if (solution.status === 'optimal') {
      const roundStarted = performance.now();
      method = 'lp';
      lpBound = solution.objective;
      remaining = roundAndPack(program.columns, solution.values, classes, placement);
      // The relaxation allows fractions: rounding down shrinks a region's count, so its zone
      // caps; take replicas past a cap back out, to be placed within the caps below.
      for (const group of groups) unplaceOverflow(group, placement, nodeByName, remaining);
      // What rounding left (about a tenth of the pods) gets a second, much smaller LP over the
      // capacity that is left, instead of the greedy: the greedy alone places it 1% worse.
      for (let pass = 0; pass < RESIDUAL_PASSES && remaining.length > 0 && performance.now() < deadline - 200; pass++) {
        const residual = residualProblem(remaining, groups);
        const residualTypes = types.map((t) => residualType(t, residual.classes));
        const residualScore = residual.classes.map((c) => score[(c.origin ?? c).index] as Float64Array);
        const second = buildProgram(residual.classes, residualTypes, residualScore, (c) => penalty(c.origin ?? c), residual.groups, RESIDUAL_TYPES_PER_CLASS);
        const secondSolution = options.solver.solve(second.lp, { timeLimitMs: Math.max(50, deadline - performance.now()) });
        if (secondSolution.status !== 'optimal') break;
        const before = remaining.length;
        remaining = roundAndPack(second.columns, secondSolution.values, residual.classes, placement);
        for (const group of groups) unplaceOverflow(group, placement, nodeByName, remaining);
        if (remaining.length >= before) break; // rounding places none of them any more
      }
      remaining.sort((a, b) => b.c.pod.priority - a.c.pod.priority || b.c.pod.requests.cpu - a.c.pod.requests.cpu);
      phases.round = performance.now() - roundStarted;
    } else {
      fallback = solution.status === 'time-limit' ? 'time-budget' : 'solver-error';
    }
  }
  const repairStarted = performance.now();
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
  repairSpread(groups, allowedOrder, placement, nodeByName);
  phases.repair = performance.now() - repairStarted;

  if (options.improve !== false) {
    const improveStarted = performance.now();
    improve(classes, types, typeOrder, score, placement, nodeByName, deadline);
    // Moves free room; a replica past its cap may now fit in a zone within it.
    repairSpread(groups, allowedOrder, placement, nodeByName);
    phases.improve = performance.now() - improveStarted;
  }

  const unplaced = placement.unplaced.flat();
  let objective = 0;
  for (const c of classes) {
    for (const [nodeName, keys] of placement.podsOnNode[c.index] ?? []) {
      const node = nodeByName.get(nodeName) as NodeModel;
      objective += keys.length * weightedScore(objectiveTerms(c.pod, node, problem.latency, norm), problem.weights);
    }
    objective += (placement.unplaced[c.index]?.length ?? 0) * penalty(c);
  }
  let zoneOverflow = 0;
  for (const group of groups) zoneOverflow += group.spread.overflow();
  objective += zoneOverflow * ZONE_OVERFLOW_PENALTY;
  const result: PlacementResult = {
    assignments: placement.assignments,
    unplaced,
    objective,
    zoneOverflow,
    method,
    seconds: (performance.now() - started) / 1000,
    phases,
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
 * one pod per node of a type; a spread group puts at most its zone cap (less the replicas
 * already there) in a zone, or pays ZONE_OVERFLOW_PENALTY per replica beyond it.
 */
function buildProgram(
  classes: readonly PodClass[],
  types: readonly NodeType[],
  score: readonly Float64Array[],
  penalty: (c: PodClass) => number,
  groups: readonly GroupSpread[],
  typesPerClass = Infinity,
): { lp: LinearProgram; columns: { c: PodClass; t: NodeType; variable: number }[] } {
  const lp: LinearProgram = { variables: [], rows: [] };
  const columns: { c: PodClass; t: NodeType; variable: number }[] = [];
  const typeTerms = types.map(() => ({ cpu: [] as [number, number][], memory: [] as [number, number][], pods: [] as [number, number][] }));
  /** Per class: zone -> its columns there. */
  const zoneColumns = classes.map(() => new Map<string, number[]>());
  for (const c of classes) {
    const demand: [number, number][] = [];
    const memory = round6(c.pod.requests.memory / 2 ** 30);
    let usable = types.filter((t) => t.feasible[c.index]);
    if (usable.length > typesPerClass) usable = usable.sort((a, b) => (score[c.index]?.[a.index] ?? 0) - (score[c.index]?.[b.index] ?? 0)).slice(0, typesPerClass);
    for (const t of usable) {
      const column = lp.variables.length;
      const upper = t.slots?.[c.index] ?? (c.pod.spreadGroup !== undefined ? t.nodes.length : undefined);
      lp.variables.push(upper !== undefined && Number.isFinite(upper) ? { cost: round6(score[c.index]?.[t.index] ?? 0), upper } : { cost: round6(score[c.index]?.[t.index] ?? 0) });
      columns.push({ c, t, variable: column });
      demand.push([column, 1]);
      if (c.spread && t.zone !== '') {
        const inZone = zoneColumns[c.index] as Map<string, number[]>;
        const list = inZone.get(t.zone);
        if (list) list.push(column);
        else inZone.set(t.zone, [column]);
      }
      const terms = typeTerms[t.index];
      if (terms) {
        // Cores and GiB keep the coefficients within a few orders of magnitude.
        if (c.pod.requests.cpu > 0) terms.cpu.push([column, c.pod.requests.cpu / 1000]);
        if (memory > 0) terms.memory.push([column, memory]);
        if (c.pod.requests.pods > 0) terms.pods.push([column, c.pod.requests.pods]);
      }
    }
    const slack = lp.variables.length;
    lp.variables.push({ cost: penalty(c) });
    demand.push([slack, 1]);
    lp.rows.push({ terms: demand, lower: c.keys.length, upper: c.keys.length });
  }
  types.forEach((t, index) => {
    const terms = typeTerms[index];
    if (!terms) return;
    if (terms.cpu.length) lp.rows.push({ terms: terms.cpu, upper: t.capacity.cpu / 1000 });
    if (terms.memory.length) lp.rows.push({ terms: terms.memory, upper: round6(t.capacity.memory / 2 ** 30) });
    if (terms.pods.length) lp.rows.push({ terms: terms.pods, upper: t.capacity.pods });
  });
  // Zone rows, per group and zone z of a region r with Z zones: count_z <= ceil(n_r / Z) is,
  // for integers, Z count_z - n_r <= Z - 1; with x the new replicas and B those bound before:
  // (Z - 1) x_z - (x of the other zones of r) - Z o_z <= Z - 1 - Z B_z + B_r, o_z the overflow.
  for (const group of groups) {
    const { spread } = group;
    const pods = group.classes.reduce((sum, c) => sum + c.keys.length, 0);
    let bound = 0;
    for (const count of spread.regionCounts.values()) bound += count;
    if (pods + bound < 2) continue; // one replica cannot crowd a zone
    const byZone = new Map<string, number[]>();
    for (const c of group.classes) {
      for (const [zone, list] of zoneColumns[c.index] ?? []) byZone.set(zone, [...(byZone.get(zone) ?? []), ...list]);
    }
    for (const [zone, region] of spread.zoneRegion) {
      const own = byZone.get(zone);
      if (!own) continue;
      const zones = spread.zonesInRegion.get(region) ?? 1;
      const terms: [number, number][] = own.map((column) => [column, zones - 1]);
      for (const [other, otherRegion] of spread.zoneRegion) {
        if (other === zone || otherRegion !== region) continue;
        for (const column of byZone.get(other) ?? []) terms.push([column, -1]);
      }
      const overflow = lp.variables.length;
      lp.variables.push({ cost: ZONE_OVERFLOW_PENALTY });
      terms.push([overflow, -zones]);
      lp.rows.push({ terms, upper: zones - 1 - zones * (spread.counts.get(zone) ?? 0) + (spread.regionCounts.get(region) ?? 0) });
    }
  }
  return { lp, columns };
}

const round6 = (value: number): number => Math.round(value * 1e6) / 1e6;

/**
 * The zone rule's fallback, made exact: while a group has a replica past its cap in a zone and
 * a zone within the cap has a node that can take it, move it there (best score first). Each
 * move lowers the overflow, so this ends.
 */
function repairSpread(groups: readonly GroupSpread[], allowedOrder: readonly NodeType[][], placement: Placement, nodeByName: Map<string, NodeModel>): void {
  for (const { spread, classes } of groups) {
    while (spread.overflow() > 0) {
      let moved = false;
      for (const c of classes) {
        for (const [nodeName, keys] of placement.podsOnNode[c.index] ?? []) {
          const from = nodeByName.get(nodeName) as NodeModel;
          const region = spread.zoneRegion.get(from.zone);
          if (region === undefined || (spread.counts.get(from.zone) ?? 0) <= spread.capOf(region)) continue;
          // Another zone of the same region with room under the cap: the move lowers the overflow by one.
          let target: NodeModel | undefined;
          for (const t of allowedOrder[c.index] ?? []) {
            if (t.zone === from.zone || spread.zoneRegion.get(t.zone) !== region || (spread.counts.get(t.zone) ?? 0) >= spread.capOf(region)) continue;
            target = t.nodes.find((node) => canTake(node, c));
            if (target) break;
          }
          if (!target) continue;
          placement.move(c, keys[keys.length - 1] as string, from, target);
          moved = true;
          break;
        }
        if (moved) break;
      }
      if (!moved) break;
    }
  }
}

/** Rounds each class x type share down and packs it onto the type's nodes (largest pods first, best fit); returns the pods left. */
function roundAndPack(columns: readonly { c: PodClass; t: NodeType; variable: number }[], values: Float64Array, classes: readonly PodClass[], placement: Placement): { c: PodClass; key: string }[] {
  const shares: { c: PodClass; t: NodeType; count: number }[] = [];
  for (const { c, t, variable } of columns) {
    const count = Math.floor((values[variable] ?? 0) + 1e-6);
    if (count > 0) shares.push({ c, t, count });
  }
  shares.sort((a, b) => b.c.pod.requests.cpu - a.c.pod.requests.cpu || b.c.pod.requests.memory - a.c.pod.requests.memory);
  const taken = new Array<number>(classes.length).fill(0);
  for (const { c, t, count } of shares) {
    const target = c.origin ?? c;
    for (let i = 0; i < count; i++) {
      // Best fit: the fullest node that still takes the pod, so large pods find room later.
      let chosen: NodeModel | undefined;
      for (const node of t.nodes) if (canTake(node, c) && (!chosen || node.free.cpu < chosen.free.cpu)) chosen = node;
      if (!chosen) break;
      const key = c.keys[taken[c.index] ?? 0] as string;
      taken[c.index] = (taken[c.index] ?? 0) + 1;
      placement.place(target, key, chosen);
    }
  }
  const left: { c: PodClass; key: string }[] = [];
  for (const c of classes) for (const key of c.keys.slice(taken[c.index] ?? 0)) left.push({ c: c.origin ?? c, key });
  return left;
}

/** Pods of the class the node can still take: one for a spread class (distinct nodes), else what its free resources hold. */
function slotsOn(node: NodeModel, c: PodClass): number {
  if (!canTake(node, c)) return 0;
  if (c.pod.spreadGroup !== undefined) return 1;
  const { requests } = c.pod;
  return Math.min(requests.cpu > 0 ? Math.floor(node.free.cpu / requests.cpu) : Infinity, requests.memory > 0 ? Math.floor(node.free.memory / requests.memory) : Infinity, requests.pods > 0 ? Math.floor(node.free.pods / requests.pods) : Infinity);
}

/** A type as the residual LP sees it: the same nodes, the capacity left, a class feasible when one node can still take it. */
function residualType(t: NodeType, classes: readonly PodClass[]): NodeType {
  const capacity = { cpu: 0, memory: 0, pods: 0 };
  for (const node of t.nodes) {
    capacity.cpu += node.free.cpu;
    capacity.memory += node.free.memory;
    capacity.pods += node.free.pods;
  }
  const slots = classes.map((c) => ((t.allowed[(c.origin ?? c).index] ?? false) ? t.nodes.reduce((sum, node) => sum + slotsOn(node, c), 0) : 0));
  return { ...t, capacity, feasible: slots.map((n) => n > 0), slots };
}

/** The pods rounding left, as classes of their own (indexed from 0, pointing at the original class), sharing the groups' zone counts. */
function residualProblem(remaining: readonly { c: PodClass; key: string }[], groups: readonly GroupSpread[]): { classes: PodClass[]; groups: GroupSpread[] } {
  const byOrigin = new Map<PodClass, PodClass>();
  for (const { c, key } of remaining) {
    let residual = byOrigin.get(c);
    if (!residual) {
      residual = { index: byOrigin.size, pod: c.pod, keys: [], origin: c };
      byOrigin.set(c, residual);
    }
    residual.keys.push(key);
  }
  const residualGroups: GroupSpread[] = [];
  for (const group of groups) {
    const members = group.classes.map((c) => byOrigin.get(c)).filter((c): c is PodClass => c !== undefined);
    if (members.length === 0) continue;
    const residualGroup: GroupSpread = { key: group.key, classes: members, spread: group.spread };
    for (const c of members) c.spread = residualGroup;
    residualGroups.push(residualGroup);
  }
  return { classes: [...byOrigin.values()], groups: residualGroups };
}

/** Takes replicas of the group out of zones past their cap (newest placement first) until no zone is. */
function unplaceOverflow(group: GroupSpread, placement: Placement, nodeByName: Map<string, NodeModel>, remaining: { c: PodClass; key: string }[]): void {
  const { spread } = group;
  while (spread.overflow() > 0) {
    let removed = false;
    for (const c of group.classes) {
      for (const [nodeName, keys] of placement.podsOnNode[c.index] ?? []) {
        const node = nodeByName.get(nodeName) as NodeModel;
        const region = spread.zoneRegion.get(node.zone);
        if (region === undefined || (spread.counts.get(node.zone) ?? 0) <= spread.capOf(region)) continue;
        remaining.push({ c, key: placement.remove(c, keys[keys.length - 1] as string, node) });
        removed = true;
        break;
      }
      if (removed) break;
    }
    if (!removed) return; // the overflow is in replicas bound before this batch
  }
}

/** 1-moves: each pod goes to a strictly better node with room (never past its zone cap), best classes first, until nothing improves or time runs out. */
function improve(
  classes: readonly PodClass[],
  types: readonly NodeType[],
  typeOrder: readonly NodeType[][],
  score: readonly Float64Array[],
  placement: Placement,
  nodeByName: Map<string, NodeModel>,
  deadline: number,
): void {
  const typeOfNode = new Map<string, NodeType>();
  for (const t of types) for (const node of t.nodes) typeOfNode.set(node.name, t);
  for (let round = 0; round < 3; round++) {
    let moved = 0;
    for (const c of classes) {
      if (performance.now() > deadline) return;
      const scores = score[c.index] as Float64Array;
      const order = typeOrder[c.index] ?? [];
      // Unplaced pods first: any node with room beats the penalty (within the zone cap first).
      const unplaced = placement.unplaced[c.index] ?? [];
      while (unplaced.length > 0) {
        const nodes = order.flatMap((t) => t.nodes);
        const target = nodes.find((node) => canTake(node, c) && zoneOpen(c, node.zone)) ?? nodes.find((node) => canTake(node, c));
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
            if (!zoneMove(c, from.zone, t.zone)) continue;
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
