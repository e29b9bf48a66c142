// The placement model: nodes with the attributes the Mesh optimises (region, cost, carbon,
// trust, free capacity), pods with their demand and hard constraints, the region latency
// matrix, and the ONE function that scores a placement (lower is better). Everything here is
// pure and plain data, so the solver, the live scheduler, migration and the bench share it.

/** Node labels the scheduler reads. */
export const LABELS = {
  region: 'topology.kubernetes.io/region',
  zone: 'topology.kubernetes.io/zone',
  costPerHour: 'meshos.dev/cost-per-hour',
  carbonIntensity: 'meshos.dev/carbon-intensity',
  trustLevel: 'meshos.dev/trust-level',
} as const;

/** Resources the model tracks: CPU in millicores, memory in bytes, pod slots. */
export interface Resources {
  cpu: number;
  memory: number;
  pods: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** One term of required node affinity: all its expressions must hold (terms are ORed). */
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
}

export interface NodeModel {
  name: string;
  labels: Record<string, string>;
  taints: Taint[];
  region: string;
  zone: string;
  /** US dollars per hour for the whole node. */
  costPerHour: number;
  /** gCO2e per kWh of the node's grid. */
  carbonIntensity: number;
  /** 0..100. */
  trustLevel: number;
  allocatable: Resources;
  /** Allocatable minus what bound (and reserved) pods request. */
  free: Resources;
  /** Spread groups (Agents) that already have a pod here. */
  groups: Set<string>;
}

export interface PodDemand {
  /** `namespace/name`. */
  key: string;
  requests: Resources;
  tolerations: Toleration[];
  nodeSelector: Record<string, string>;
  requiredTerms: NodeSelectorTerm[];
  /** Region the pod's users are in (latency is measured from there); unset = no latency term. */
  usersRegion?: string;
  /** SLA: the node's region must be at most this far (ms) from the users' region. */
  maxLatencyMs?: number;
  /** Nodes with a lower trust level are never chosen. */
  minTrust?: number;
  /** Replicas of one spread group (an Agent) go to distinct nodes. */
  spreadGroup?: string;
  /** Pod priority (from its PriorityClass); higher may preempt lower. */
  priority: number;
}

export interface ObjectiveWeights {
  cost: number;
  latency: number;
  trust: number;
  carbon: number;
}

export const DEFAULT_WEIGHTS: ObjectiveWeights = { cost: 1, latency: 1, trust: 1, carbon: 1 };

/** Milliseconds between regions; symmetric lookups, with a fallback for unknown pairs. */
export type LatencyMatrix = Record<string, Record<string, number>>;

/**
 * Round-trip times between common cloud regions (ms), the order of magnitude public
 * inter-region measurements show; the ConfigMap overrides any pair.
 */
export const DEFAULT_LATENCY: LatencyMatrix = {
  'eu-west': { 'eu-central': 15, 'us-east': 75, 'us-west': 140, 'ap-south': 120, 'ap-northeast': 220 },
  'eu-central': { 'us-east': 90, 'us-west': 150, 'ap-south': 110, 'ap-northeast': 230 },
  'us-east': { 'us-west': 65, 'ap-south': 190, 'ap-northeast': 150 },
  'us-west': { 'ap-south': 220, 'ap-northeast': 100 },
  'ap-south': { 'ap-northeast': 120 },
};
/** Latency within one region (between its zones). */
export const SAME_REGION_MS = 2;
/** Unknown pairs: same continent prefix (eu-, us-, ap-) or not. */
const SAME_CONTINENT_MS = 40;
const OTHER_CONTINENT_MS = 180;

export function latencyMs(matrix: LatencyMatrix, from: string, to: string): number {
  if (from === to) return matrix[from]?.[to] ?? SAME_REGION_MS;
  const known = matrix[from]?.[to] ?? matrix[to]?.[from] ?? DEFAULT_LATENCY[from]?.[to] ?? DEFAULT_LATENCY[to]?.[from];
  if (known !== undefined) return known;
  return from.split('-')[0] === to.split('-')[0] ? SAME_CONTINENT_MS : OTHER_CONTINENT_MS;
}

/** Validates a latency matrix from user input (ConfigMap data), naming the bad entry. */
export function parseLatencyMatrix(input: unknown, field = 'latency matrix'): LatencyMatrix {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error(`${field}: must be an object of region -> {region: milliseconds}`);
  const matrix: LatencyMatrix = {};
  for (const [from, row] of Object.entries(input as Record<string, unknown>)) {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new Error(`${field}.${from}: must be an object of region -> milliseconds`);
    matrix[from] = {};
    for (const [to, value] of Object.entries(row as Record<string, unknown>)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${field}.${from}.${to}: must be a non-negative number of milliseconds, got ${JSON.stringify(value)}`);
      (matrix[from])[to] = value;
    }
  }
  return matrix;
}

/** Power a busy core draws, to turn carbon intensity into grams per hour. */
export const WATTS_PER_CORE = 10;

/** Scale factors so that each objective term lies in [0, 1] for every node of the cluster. */
export interface Normaliser {
  maxCostPerCoreHour: number;
  maxCarbonIntensity: number;
  maxLatencyMs: number;
}

export const costPerCoreHour = (node: Pick<NodeModel, 'costPerHour' | 'allocatable'>): number =>
  node.costPerHour / Math.max(node.allocatable.cpu / 1000, 1e-3);

/** Normalisation from the cluster itself (not from a placement), so two placements compare fairly. */
export function normaliserFor(nodes: readonly NodeModel[], matrix: LatencyMatrix): Normaliser {
  let maxCost = 0;
  let maxCarbon = 0;
  const regions = new Set<string>();
  for (const node of nodes) {
    maxCost = Math.max(maxCost, costPerCoreHour(node));
    maxCarbon = Math.max(maxCarbon, node.carbonIntensity);
    regions.add(node.region);
  }
  for (const [from, row] of Object.entries(matrix)) {
    regions.add(from);
    for (const to of Object.keys(row)) regions.add(to);
  }
  let maxLatency = SAME_REGION_MS;
  for (const from of regions) for (const to of regions) maxLatency = Math.max(maxLatency, latencyMs(matrix, from, to));
  return { maxCostPerCoreHour: maxCost || 1, maxCarbonIntensity: maxCarbon || 1, maxLatencyMs: maxLatency };
}

/** The four normalised terms (each 0 best .. 1 worst) of putting a pod on a node. */
export interface ObjectiveTerms {
  cost: number;
  latency: number;
  trust: number;
  carbon: number;
}

export function objectiveTerms(pod: Pick<PodDemand, 'usersRegion'>, node: NodeModel, matrix: LatencyMatrix, norm: Normaliser): ObjectiveTerms {
  return {
    cost: Math.min(1, costPerCoreHour(node) / norm.maxCostPerCoreHour),
    latency: pod.usersRegion === undefined ? 0 : Math.min(1, latencyMs(matrix, pod.usersRegion, node.region) / norm.maxLatencyMs),
    trust: 1 - Math.min(100, Math.max(0, node.trustLevel)) / 100,
    carbon: Math.min(1, node.carbonIntensity / norm.maxCarbonIntensity),
  };
}

/** Weighted mean of the terms: weights are relative, so {cost: 2, ...: 1} means cost counts twice. */
export function weightedScore(terms: ObjectiveTerms, weights: ObjectiveWeights): number {
  const total = weights.cost + weights.latency + weights.trust + weights.carbon;
  if (total <= 0) return 0;
  return (weights.cost * terms.cost + weights.latency * terms.latency + weights.trust * terms.trust + weights.carbon * terms.carbon) / total;
}

export interface PlacementSummary {
  pods: number;
  placed: number;
  /** Mean weighted normalised objective over placed pods (lower is better). */
  weightedObjective: number;
  /** Dollars per hour: each pod pays its node's price per core for the cores it requests. */
  cost: number;
  /** gCO2e per hour at WATTS_PER_CORE per requested core. */
  carbon: number;
  /** Mean latency from users' region to the node's region, over pods that name a users' region. */
  meanLatencyMs: number;
  /** Mean trust level of the nodes the pods run on. */
  meanTrust: number;
}

/**
 * THE placement objective: the one function the solver's costs, the live scheduler's events,
 * migration's gain and the bench's comparison of meshos-scheduler with kube-scheduler use.
 */
export function placementObjective(
  placements: Iterable<{ pod: Pick<PodDemand, 'usersRegion' | 'requests'>; node: NodeModel }>,
  weights: ObjectiveWeights,
  matrix: LatencyMatrix,
  norm: Normaliser,
): PlacementSummary {
  let placed = 0;
  let score = 0;
  let cost = 0;
  let carbon = 0;
  let latencySum = 0;
  let latencyCount = 0;
  let trust = 0;
  for (const { pod, node } of placements) {
    placed++;
    score += weightedScore(objectiveTerms(pod, node, matrix, norm), weights);
    const cores = pod.requests.cpu / 1000;
    cost += costPerCoreHour(node) * cores;
    carbon += (node.carbonIntensity * cores * WATTS_PER_CORE) / 1000;
    if (pod.usersRegion !== undefined) {
      latencySum += latencyMs(matrix, pod.usersRegion, node.region);
      latencyCount++;
    }
    trust += node.trustLevel;
  }
  return {
    pods: placed,
    placed,
    weightedObjective: placed ? score / placed : 0,
    cost,
    carbon,
    meanLatencyMs: latencyCount ? latencySum / latencyCount : 0,
    meanTrust: placed ? trust / placed : 0,
  };
}

// ---- hard constraints ----

function tolerates(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return t.key === undefined || t.key === '' || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

function requirementHolds(labels: Record<string, string>, requirement: NodeSelectorRequirement): boolean {
  const value = labels[requirement.key];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** Why a pod may not go on a node, or undefined when every static constraint holds (capacity and spread aside). */
export function staticViolation(pod: PodDemand, node: NodeModel, matrix: LatencyMatrix): string | undefined {
  for (const taint of node.taints) {
    if ((taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerates(pod.tolerations, taint)) return `taint ${taint.key}=${taint.value ?? ''}:${taint.effect} not tolerated`;
  }
  for (const [key, value] of Object.entries(pod.nodeSelector)) {
    if (node.labels[key] !== value) return `nodeSelector ${key}=${value} does not match`;
  }
  if (pod.requiredTerms.length > 0 && !pod.requiredTerms.some((term) => (term.matchExpressions ?? []).every((r) => requirementHolds(node.labels, r)))) {
    return 'required node affinity does not match';
  }
  if (pod.minTrust !== undefined && node.trustLevel < pod.minTrust) return `trust level ${node.trustLevel} below ${pod.minTrust}`;
  if (pod.maxLatencyMs !== undefined && pod.usersRegion !== undefined) {
    const latency = latencyMs(matrix, pod.usersRegion, node.region);
    if (latency > pod.maxLatencyMs) return `latency ${latency} ms from ${pod.usersRegion} exceeds SLA ${pod.maxLatencyMs} ms`;
  }
  return undefined;
}

export const fitsResources = (requests: Resources, free: Resources): boolean =>
  requests.cpu <= free.cpu && requests.memory <= free.memory && requests.pods <= free.pods;

/** Every hard constraint, against the node's current free capacity and spread groups. */
export function violation(pod: PodDemand, node: NodeModel, matrix: LatencyMatrix): string | undefined {
  if (!fitsResources(pod.requests, node.free)) return 'insufficient free resources';
  if (pod.spreadGroup !== undefined && node.groups.has(pod.spreadGroup)) return `node already runs a replica of ${pod.spreadGroup}`;
  return staticViolation(pod, node, matrix);
}

// ---- zone spread ----

/**
 * Zone spread of one spread group (an Agent): a hard rule with a fallback. Zones are failure
 * domains inside a region, so the rule holds per region: in a region where the group may use
 * nodes of two or more zones (static constraints; full nodes count, so the rule does not shift
 * as nodes fill), each zone holds at most cap = ceil(replicas in the region / those zones)
 * replicas, counting replicas already bound. A zone goes past its cap only when no other zone
 * of the region can take the replica. Nodes without a zone label are outside the rule (as
 * topology spread ignores nodes without the key). Which regions an Agent runs in stays the
 * objective's choice (latency from its users): spreading one Agent over continents would trade
 * its users' latency for a failover the zones of one region already give.
 */
export class ZoneSpread {
  /** Zone -> replicas there now. */
  readonly counts = new Map<string, number>();
  /** Region -> replicas in its zones under the rule. */
  readonly regionCounts = new Map<string, number>();
  /** Zone -> its region, for the zones under the rule. */
  readonly zoneRegion = new Map<string, string>();
  /** Region -> zones the group may use there (two or more). */
  readonly zonesInRegion = new Map<string, number>();

  /** `zones`: zone -> region, of the zones the group may use; regions with one such zone are left out. */
  constructor(zones: ReadonlyMap<string, string>) {
    const perRegion = new Map<string, number>();
    for (const region of zones.values()) perRegion.set(region, (perRegion.get(region) ?? 0) + 1);
    for (const [zone, region] of zones) if ((perRegion.get(region) ?? 0) >= 2) this.zoneRegion.set(zone, region);
    for (const [region, count] of perRegion) if (count >= 2) this.zonesInRegion.set(region, count);
  }

  /** False when no region has two zones for the group: the rule cannot bind. */
  get active(): boolean {
    return this.zonesInRegion.size > 0;
  }

  add(zone: string, delta: number): void {
    const region = this.zoneRegion.get(zone);
    if (region === undefined) return;
    this.counts.set(zone, (this.counts.get(zone) ?? 0) + delta);
    this.regionCounts.set(region, (this.regionCounts.get(region) ?? 0) + delta);
  }

  /** ceil(replicas in the region / its zones), with `extra` replicas added to the region. */
  capOf(region: string, extra = 0): number {
    return zoneCap((this.regionCounts.get(region) ?? 0) + extra, this.zonesInRegion.get(region) ?? 1);
  }

  /** Replicas past their zone's cap in one region (all regions when omitted). */
  overflow(region?: string): number {
    let over = 0;
    for (const [zone, count] of this.counts) {
      const of = this.zoneRegion.get(zone) as string;
      if (region !== undefined && of !== region) continue;
      over += Math.max(0, count - this.capOf(of));
    }
    return over;
  }

  /** One more replica may go to `zone` within its cap. */
  canAdd(zone: string): boolean {
    const region = this.zoneRegion.get(zone);
    return region === undefined || (this.counts.get(zone) ?? 0) + 1 <= this.capOf(region, 1);
  }

  /** A replica may move from one zone to another: the target stays within its cap and the source region gains no overflow. */
  canMove(from: string, to: string): boolean {
    if (from === to) return true;
    const fromRegion = this.zoneRegion.get(from);
    const toRegion = this.zoneRegion.get(to);
    if (fromRegion === undefined && toRegion === undefined) return true;
    const before = fromRegion === undefined ? 0 : this.overflow(fromRegion);
    this.add(from, -1);
    this.add(to, 1);
    const ok = (toRegion === undefined || (this.counts.get(to) ?? 0) <= this.capOf(toRegion)) && (fromRegion === undefined || fromRegion === toRegion || this.overflow(fromRegion) <= before);
    this.add(to, -1);
    this.add(from, 1);
    return ok;
  }
}

export const zoneCap = (replicas: number, zones: number): number => Math.ceil(replicas / Math.max(1, zones));

/** The zone spread of `pod`'s group over `nodes`, replicas counted from the nodes' groups; undefined when the rule cannot bind. */
export function zoneSpreadOf(pod: PodDemand, nodes: readonly NodeModel[], matrix: LatencyMatrix): ZoneSpread | undefined {
  const group = pod.spreadGroup;
  if (group === undefined) return undefined;
  const zones = new Map<string, string>();
  for (const node of nodes) if (node.zone !== '' && !zones.has(node.zone) && staticViolation(pod, node, matrix) === undefined) zones.set(node.zone, node.region);
  const spread = new ZoneSpread(zones);
  if (!spread.active) return undefined;
  for (const node of nodes) if (node.groups.has(group)) spread.add(node.zone, 1);
  return spread;
}

/** Takes a pod's requests from a node (the caller checked it fits). */
export function commit(node: NodeModel, pod: Pick<PodDemand, 'requests' | 'spreadGroup'>): void {
  node.free = { cpu: node.free.cpu - pod.requests.cpu, memory: node.free.memory - pod.requests.memory, pods: node.free.pods - pod.requests.pods };
  if (pod.spreadGroup !== undefined) node.groups.add(pod.spreadGroup);
}

/** Gives a pod's requests back to a node. */
export function release(node: NodeModel, pod: Pick<PodDemand, 'requests' | 'spreadGroup'>): void {
  node.free = { cpu: node.free.cpu + pod.requests.cpu, memory: node.free.memory + pod.requests.memory, pods: node.free.pods + pod.requests.pods };
  if (pod.spreadGroup !== undefined) node.groups.delete(pod.spreadGroup);
}

export const cloneNode = (node: NodeModel): NodeModel => ({ ...node, free: { ...node.free }, groups: new Set(node.groups) });
