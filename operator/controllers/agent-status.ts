import type { Agent } from '../../crds/types.js';
import { ConditionType, Reason, setConditions, type Condition, type ConditionInput } from './conditions.js';
import { isDeepStrictEqual } from 'node:util';
import { AGENT_LABEL, type Deployment, type Pod } from './workload.js';

export type AgentPhase = 'Pending' | 'Progressing' | 'Ready' | 'Degraded' | 'Failed' | 'Quarantined';

/** The part of Agent status the Agent controller owns (server-side apply field manager). */
export interface AgentWorkloadStatus {
  observedGeneration: number;
  phase: AgentPhase;
  replicas: number;
  readyReplicas: number;
  replicaSummary: string;
  selector: string;
  nodes: string[];
  nodeSummary: string;
  workload?: { deployment: string; service: string };
  conditions: Condition[];
}

export interface AgentObservation {
  agent: Agent;
  meshFound: boolean;
  deployment?: Deployment | undefined;
  pods: readonly Pod[];
  /** Set when a Deployment or Service of the Agent's name exists but belongs to someone else. */
  conflict?: string | undefined;
  /** Set when applying the workload failed (the reconcile is retried with backoff). */
  failure?: string | undefined;
}

const MAX_NODE_SUMMARY = 120;

/** Derives the Agent's workload status from what the caches show. Pure. */
export function computeAgentStatus(observation: AgentObservation, now: Date): AgentWorkloadStatus {
  const { agent, deployment, pods } = observation;
  const generation = agent.metadata.generation ?? 0;
  const name = agent.metadata.name ?? '';
  const desired = agent.spec.runtime.replicas ?? 1;
  const current = (agent.status?.conditions ?? []) as Condition[];

  const deploymentCurrent = deployment?.status?.observedGeneration !== undefined &&
    deployment.metadata.generation !== undefined &&
    deployment.status.observedGeneration >= deployment.metadata.generation;
  const readyReplicas = deployment?.status?.readyReplicas ?? 0;
  const nodes = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => !!n))].sort();
  let nodeSummary = nodes.join(',');
  if (nodeSummary.length > MAX_NODE_SUMMARY) nodeSummary = `${nodeSummary.slice(0, MAX_NODE_SUMMARY - 1)}…`;

  const stalled = deployment?.status?.conditions?.find((c) => c.type === 'Progressing' && c.status === 'False');

  let phase: AgentPhase;
  let ready: ConditionInput;
  let progressing: ConditionInput;
  let degraded: ConditionInput;
  const base = { observedGeneration: generation };
  if (!observation.meshFound) {
    phase = 'Pending';
    const message = `Mesh ${agent.spec.meshRef} not found; the workload is created once it exists`;
    ready = { ...base, type: ConditionType.Ready, status: 'False', reason: Reason.MeshNotFound, message };
    progressing = { ...base, type: ConditionType.Progressing, status: 'False', reason: Reason.MeshNotFound, message };
    degraded = { ...base, type: ConditionType.Degraded, status: 'False', reason: Reason.AsExpected, message: '' };
  } else if (observation.conflict) {
    phase = 'Failed';
    ready = { ...base, type: ConditionType.Ready, status: 'False', reason: Reason.WorkloadConflict, message: observation.conflict };
    progressing = { ...base, type: ConditionType.Progressing, status: 'False', reason: Reason.WorkloadConflict, message: observation.conflict };
    degraded = { ...base, type: ConditionType.Degraded, status: 'True', reason: Reason.WorkloadConflict, message: observation.conflict };
  } else if (observation.failure) {
    phase = deployment ? 'Degraded' : 'Pending';
    const message = observation.failure;
    ready = { ...base, type: ConditionType.Ready, status: 'False', reason: Reason.WorkloadFailed, message };
    progressing = { ...base, type: ConditionType.Progressing, status: 'True', reason: Reason.WorkloadFailed, message };
    degraded = { ...base, type: ConditionType.Degraded, status: 'True', reason: Reason.WorkloadFailed, message };
  } else if (stalled) {
    phase = 'Degraded';
    const message = `Rollout stalled: ${stalled.message ?? stalled.reason ?? 'progress deadline exceeded'}`;
    ready = { ...base, type: ConditionType.Ready, status: readyReplicas >= desired ? 'True' : 'False', reason: Reason.RolloutStalled, message };
    progressing = { ...base, type: ConditionType.Progressing, status: 'False', reason: Reason.RolloutStalled, message };
    degraded = { ...base, type: ConditionType.Degraded, status: 'True', reason: Reason.RolloutStalled, message };
  } else if (deployment && deploymentCurrent && readyReplicas >= desired) {
    phase = 'Ready';
    const reason = desired === 0 ? Reason.ScaledToZero : Reason.ReplicasReady;
    const message = desired === 0 ? 'Scaled to zero replicas' : `${readyReplicas}/${desired} replicas ready`;
    ready = { ...base, type: ConditionType.Ready, status: 'True', reason, message };
    progressing = { ...base, type: ConditionType.Progressing, status: 'False', reason, message };
    degraded = { ...base, type: ConditionType.Degraded, status: 'False', reason: Reason.AsExpected, message: '' };
  } else {
    const previouslyReady = current.find((c) => c.type === ConditionType.Ready)?.status === 'True';
    // An Agent that was serving and lost replicas is Degraded; one still coming up is Progressing.
    phase = previouslyReady && desired > 0 && readyReplicas < desired ? 'Degraded' : 'Progressing';
    const message = `${readyReplicas}/${desired} replicas ready`;
    ready = { ...base, type: ConditionType.Ready, status: 'False', reason: Reason.ReplicasNotReady, message };
    progressing = { ...base, type: ConditionType.Progressing, status: 'True', reason: Reason.ReplicasNotReady, message };
    degraded =
      phase === 'Degraded'
        ? { ...base, type: ConditionType.Degraded, status: 'True', reason: Reason.ReplicasNotReady, message }
        : { ...base, type: ConditionType.Degraded, status: 'False', reason: Reason.AsExpected, message: '' };
  }

  // The healing module isolates an Agent with a Quarantined condition; the phase says so, and
  // discovery, which lists only Ready Agents, leaves it out.
  if (current.some((c) => c.type === 'Quarantined' && c.status === 'True')) phase = 'Quarantined';

  const ownConditions = current.filter((c) => c.type === ConditionType.Ready || c.type === ConditionType.Progressing || c.type === ConditionType.Degraded);
  const status: AgentWorkloadStatus = {
    observedGeneration: generation,
    phase,
    replicas: desired,
    readyReplicas,
    replicaSummary: `${readyReplicas}/${desired}`,
    selector: `${AGENT_LABEL}=${name}`,
    nodes,
    nodeSummary,
    conditions: setConditions(ownConditions, [ready, progressing, degraded], now),
  };
  if (deployment) status.workload = { deployment: deployment.metadata.name ?? name, service: name };
  return status;
}

/** True when the live status already says everything `next` says (so no write is needed). */
export function agentStatusUpToDate(agent: Agent, next: AgentWorkloadStatus): boolean {
  const live = (agent.status ?? {}) as Record<string, unknown>;
  for (const [field, value] of Object.entries(next)) {
    if (field === 'conditions') continue;
    if (!isDeepStrictEqual(live[field], value)) return false;
  }
  const liveConditions = (agent.status?.conditions ?? []) as Condition[];
  return next.conditions.every((condition) => {
    const found = liveConditions.find((c) => c.type === condition.type);
    return found !== undefined && isDeepStrictEqual(normaliseCondition(found), normaliseCondition(condition));
  });
}

function normaliseCondition(c: Condition): Condition {
  return {
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message ?? '',
    lastTransitionTime: c.lastTransitionTime,
    ...(c.observedGeneration !== undefined ? { observedGeneration: c.observedGeneration } : {}),
  };
}
