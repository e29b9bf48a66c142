// When to isolate an Agent and when to let it go, pure. An Agent is quarantined when its trust
// falls below the Mesh's threshold or something flags a policy violation on it; it is released
// when its trust is back a margin above the threshold (so a score hovering at the line does not
// flap) and no violation is flagged, or at once when an operator overrides.
import type { Agent } from '../crds/types.js';

export const QUARANTINE_CONDITION = 'Quarantined';
/** Set (with a reason as value) by whatever detects a policy violation of the Agent. */
export const POLICY_VIOLATION_ANNOTATION = 'meshos.dev/policy-violation';
/** `release` releases the Agent and keeps it out of quarantine while the annotation stays. */
export const QUARANTINE_OVERRIDE_ANNOTATION = 'meshos.dev/quarantine-override';
export const RELEASE_MARGIN = 5;

export type QuarantineDecision = { action: 'quarantine' | 'release'; reason: string } | { action: 'none' };

export function isQuarantined(agent: Agent): boolean {
  return agent.status?.conditions?.some((c) => c.type === QUARANTINE_CONDITION && c.status === 'True') ?? false;
}

export function quarantineDecision(agent: Agent, threshold: number | undefined): QuarantineDecision {
  const quarantined = isQuarantined(agent);
  const override = agent.metadata.annotations?.[QUARANTINE_OVERRIDE_ANNOTATION] === 'release';
  if (override) return quarantined ? { action: 'release', reason: `operator override (${QUARANTINE_OVERRIDE_ANNOTATION}=release)` } : { action: 'none' };
  const violation = agent.metadata.annotations?.[POLICY_VIOLATION_ANNOTATION];
  const score = agent.status?.trust?.score;
  if (violation !== undefined) return quarantined ? { action: 'none' } : { action: 'quarantine', reason: `policy violation: ${violation || 'flagged'}` };
  if (threshold !== undefined && score !== undefined && score < threshold) {
    return quarantined ? { action: 'none' } : { action: 'quarantine', reason: `trust score ${score} is below the Mesh's quarantine threshold ${threshold}` };
  }
  if (!quarantined) return { action: 'none' };
  if (threshold === undefined || score === undefined) return { action: 'release', reason: 'no trust threshold applies any more and no violation is flagged' };
  if (score >= threshold + RELEASE_MARGIN) return { action: 'release', reason: `trust score ${score} recovered to at least ${threshold} + ${RELEASE_MARGIN} and no violation is flagged` };
  return { action: 'none' };
}

/** The NetworkPolicy isolating an Agent's pods: no ingress, no egress. */
export function quarantinePolicy(agent: Agent, agentLabel: string): Record<string, unknown> {
  const name = agent.metadata.name ?? '';
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: `${name}-quarantine`.slice(0, 253),
      namespace: agent.metadata.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'meshos', [agentLabel]: name },
      ownerReferences: [{ apiVersion: 'meshos.dev/v1alpha1', kind: 'Agent', name, uid: agent.metadata.uid ?? '', controller: false, blockOwnerDeletion: false }],
    },
    spec: { podSelector: { matchLabels: { [agentLabel]: name } }, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] },
  };
}
