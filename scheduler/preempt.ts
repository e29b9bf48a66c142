// Preemption, pure: when a pod of higher priority fits nowhere, find the node where evicting
// the fewest pods, of the lowest priority, makes it fit, without spending more disruptions
// than any PodDisruptionBudget allows, and on a node whose zone keeps the pod's Agent spread
// (a zone past its cap only when no zone within it has such a node).
import { fitsResources, staticViolation, type LatencyMatrix, type NodeModel, type PodDemand, type Resources, type ZoneSpread } from './model.js';

export interface RunningPod {
  key: string;
  priority: number;
  requests: Resources;
  spreadGroup?: string;
  /** PodDisruptionBudgets (namespace/name) that select this pod. */
  budgets: string[];
}

export interface PreemptionChoice {
  node: string;
  victims: string[];
}

/** Order of preference between candidate victim sets: fewest victims, then lowest highest priority, then lowest total priority. */
function better(a: RunningPod[], b: RunningPod[]): boolean {
  if (a.length !== b.length) return a.length < b.length;
  const maxA = Math.max(...a.map((p) => p.priority));
  const maxB = Math.max(...b.map((p) => p.priority));
  if (maxA !== maxB) return maxA < maxB;
  return a.reduce((s, p) => s + p.priority, 0) < b.reduce((s, p) => s + p.priority, 0);
}

/**
 * The best node and victims for `pod`, or undefined when no eviction of lower-priority pods
 * (within the budgets' allowed disruptions) makes room. `running` lists the pods on each node;
 * `disruptionsAllowed` is each budget's status.disruptionsAllowed; `spread` is the zone spread
 * of the pod's Agent (model.ts zoneSpreadOf): nodes in zones within their cap come first.
 */
export function chooseVictims(
  pod: PodDemand,
  nodes: readonly NodeModel[],
  running: ReadonlyMap<string, readonly RunningPod[]>,
  disruptionsAllowed: ReadonlyMap<string, number>,
  matrix: LatencyMatrix,
  spread?: ZoneSpread,
): PreemptionChoice | undefined {
  let best: { node: string; victims: RunningPod[] } | undefined;
  let bestWithinCap: { node: string; victims: RunningPod[] } | undefined;
  for (const node of nodes) {
    if (staticViolation(pod, node, matrix) !== undefined) continue;
    const onNode = running.get(node.name) ?? [];
    const lower = onNode.filter((p) => p.priority < pod.priority);
    // A replica of the same spread group that cannot be evicted keeps the node out.
    if (pod.spreadGroup !== undefined && onNode.some((p) => p.spreadGroup === pod.spreadGroup && p.priority >= pod.priority)) continue;
    const free: Resources = { ...node.free };
    const budget = new Map(disruptionsAllowed);
    const victims: RunningPod[] = [];
    const take = (victim: RunningPod): void => {
      victims.push(victim);
      free.cpu += victim.requests.cpu;
      free.memory += victim.requests.memory;
      free.pods += victim.requests.pods;
      for (const b of victim.budgets) budget.set(b, (budget.get(b) ?? 0) - 1);
    };
    const evictable = (victim: RunningPod): boolean => victim.budgets.every((b) => (budget.get(b) ?? 0) > 0);
    // Same-group replicas must go for spread to hold.
    for (const victim of lower.filter((p) => pod.spreadGroup !== undefined && p.spreadGroup === pod.spreadGroup)) {
      if (!evictable(victim)) break;
      take(victim);
    }
    if (pod.spreadGroup !== undefined && lower.some((p) => p.spreadGroup === pod.spreadGroup && !victims.includes(p))) continue;
    // Lowest priority first, largest first within a priority, until the pod fits.
    const order = lower.filter((p) => !victims.includes(p)).sort((a, b) => a.priority - b.priority || b.requests.cpu - a.requests.cpu || b.requests.memory - a.requests.memory);
    for (const victim of order) {
      if (fitsResources(pod.requests, free)) break;
      if (evictable(victim)) take(victim);
    }
    if (!fitsResources(pod.requests, free)) continue;
    // Reprieve: give back victims (highest priority first) the pod does not need.
    for (const victim of [...victims].sort((a, b) => b.priority - a.priority)) {
      if (pod.spreadGroup !== undefined && victim.spreadGroup === pod.spreadGroup) continue;
      const after = { cpu: free.cpu - victim.requests.cpu, memory: free.memory - victim.requests.memory, pods: free.pods - victim.requests.pods };
      if (fitsResources(pod.requests, after)) {
        victims.splice(victims.indexOf(victim), 1);
        Object.assign(free, after);
      }
    }
    if (victims.length === 0) continue; // it fits without preemption: not a preemption case
    if (!best || better(victims, best.victims)) best = { node: node.name, victims };
    if ((!spread || spread.canAdd(node.zone)) && (!bestWithinCap || better(victims, bestWithinCap.victims))) bestWithinCap = { node: node.name, victims };
  }
  const chosen = bestWithinCap ?? best;
  return chosen ? { node: chosen.node, victims: chosen.victims.map((v) => v.key) } : undefined;
}
