// Which agent pods to move off failed nodes, pure. Pods on a failed node are not serving, so
// moving them never takes a serving replica away; healthy replicas elsewhere are left alone.

export interface AgentPod {
  namespace: string;
  name: string;
  uid: string;
  /** `namespace/name` of the Agent the pod belongs to. */
  agent: string;
  mesh: string;
  nodeName?: string;
  ready: boolean;
  terminating: boolean;
}

export interface FailoverPlan {
  agent: string;
  mesh: string;
  pods: { name: string; uid: string; node: string }[];
  /** Ready replicas of the Agent on healthy nodes while its pods move. */
  servingElsewhere: number;
}

export interface PlanInput {
  pods: readonly AgentPod[];
  /** Nodes failed and tainted by Mesh OS: their pods may move. */
  tainted: ReadonlySet<string>;
  /** Nodes failed at all (tainted or not): not counted as serving. */
  failed: ReadonlySet<string>;
  /** Pod uids already moved in the current incidents: never moved twice. */
  moved: ReadonlySet<string>;
  /** Under a suspected partition only Agents with no replica serving elsewhere move. */
  partition: boolean;
}

/** One plan per Agent with pods on tainted failed nodes, sorted for a stable order. */
export function planFailover(input: PlanInput): FailoverPlan[] {
  const byAgent = new Map<string, AgentPod[]>();
  for (const pod of input.pods) byAgent.set(pod.agent, [...(byAgent.get(pod.agent) ?? []), pod]);
  const plans: FailoverPlan[] = [];
  for (const [agent, pods] of byAgent) {
    const stranded = pods.filter((p) => p.nodeName !== undefined && input.tainted.has(p.nodeName) && !input.moved.has(p.uid));
    if (stranded.length === 0) continue;
    const servingElsewhere = pods.filter((p) => p.ready && !p.terminating && p.nodeName !== undefined && !input.failed.has(p.nodeName)).length;
    if (input.partition && servingElsewhere > 0) continue;
    plans.push({
      agent,
      mesh: stranded[0]?.mesh ?? '',
      pods: stranded.map((p) => ({ name: p.name, uid: p.uid, node: p.nodeName ?? '' })).sort((a, b) => a.name.localeCompare(b.name)),
      servingElsewhere,
    });
  }
  return plans.sort((a, b) => a.agent.localeCompare(b.agent));
}

/**
 * How many recovered nodes to untaint now: the ramp lets the scheduler use returning capacity a
 * few nodes at a time (a tenth of them per step, at least one), so a node that comes back sick
 * does not take a wave of new pods at once.
 */
export function rampBatch(recovered: number, lastUntaintAt: number | undefined, now: number, rampIntervalMs: number): number {
  if (recovered === 0) return 0;
  if (lastUntaintAt !== undefined && now - lastUntaintAt < rampIntervalMs) return 0;
  return Math.max(1, Math.ceil(recovered / 10));
}
