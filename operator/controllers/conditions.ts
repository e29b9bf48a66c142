/** Standard condition types and the reasons the controllers set, as named constants. */
export const ConditionType = {
  Ready: 'Ready',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
} as const;

export const Reason = {
  // Agent
  MeshNotFound: 'MeshNotFound',
  WorkloadCreated: 'WorkloadCreated',
  WorkloadUpdated: 'WorkloadUpdated',
  WorkloadConflict: 'WorkloadConflict',
  WorkloadFailed: 'WorkloadFailed',
  ReplicasReady: 'ReplicasReady',
  ReplicasNotReady: 'ReplicasNotReady',
  ScaledToZero: 'ScaledToZero',
  RolloutStalled: 'RolloutStalled',
  AsExpected: 'AsExpected',
  // Mesh
  AllAgentsReady: 'AllAgentsReady',
  AgentsNotReady: 'AgentsNotReady',
  AgentsDegraded: 'AgentsDegraded',
  NoAgents: 'NoAgents',
  // Proposal
  VotingOpen: 'VotingOpen',
  InvalidPeriod: 'InvalidPeriod',
} as const;

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/**
 * Merges `updates` into `current`: `lastTransitionTime` changes only when a condition's status
 * changes (as Kubernetes conventions require); other conditions are kept as they are.
 */
export function setConditions(current: readonly Condition[] | undefined, updates: readonly ConditionInput[], now: Date): Condition[] {
  const result = [...(current ?? [])];
  for (const update of updates) {
    const index = result.findIndex((c) => c.type === update.type);
    const existing = index >= 0 ? result[index] : undefined;
    const lastTransitionTime =
      existing && existing.status === update.status ? existing.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const next: Condition = { ...update, lastTransitionTime };
    if (index >= 0) result[index] = next;
    else result.push(next);
  }
  return result;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
