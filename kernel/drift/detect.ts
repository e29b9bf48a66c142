// Drift: contradictions between what was decided and what is. Pure detectors over plain objects;
// the drift module turns their findings into conditions and corrective actions, `mesh drift`
// prints them.
import { isDeepStrictEqual } from 'node:util';
import type { Agent, Mesh, Proposal } from '../../crds/types.js';
import type { ActionTarget } from '../contract.js';

export const SCHEDULED_NODE_ANNOTATION = 'meshos.dev/scheduled-node';

export interface Correction {
  /** Action kind the drift module proposes (the loop's policy decides), or `manual` for a human. */
  kind: 'reapply-proposal' | 'reschedule-pod' | 'manual';
  description: string;
  /** Proposed to the loop with this risk when automatic. */
  risk: number;
  params?: Record<string, unknown>;
}

export interface Drift {
  /** Stable identity, so a drift seen twice is one drift. */
  id: string;
  kind: 'mesh-settings' | 'agent-sla' | 'agent-replicas' | 'placement';
  target: ActionTarget;
  /** 0 (negligible) .. 1 (complete contradiction). */
  score: number;
  /** The two sides that disagree, e.g. ["Proposal ns/p1 (executed)", "Mesh demo spec"]. */
  systems: string[];
  evidence: string[];
  corrections: Correction[];
}

const clamp01 = (value: number): number => Math.max(0, Math.min(1, value));
const round2 = (value: number): number => Math.round(value * 100) / 100;

/** Leaf paths and values of a merge patch (null means "removed"). */
export function patchLeaves(patch: unknown, prefix = ''): { path: string; value: unknown }[] {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return [{ path: prefix, value: patch }];
  return Object.entries(patch as Record<string, unknown>).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? patchLeaves(value, path) : [{ path, value }];
  });
}

function valueAt(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/**
 * The Mesh's live settings against the proposals applied to it: each leaf a later proposal did
 * not change must still hold the value its proposal set. Score: the share of such leaves that differ.
 */
export function meshSettingsDrift(mesh: Mesh, proposals: readonly Proposal[]): Drift[] {
  const applied = mesh.status?.appliedProposals ?? [];
  const expected = new Map<string, { value: unknown; proposal: string }>();
  for (const record of applied) {
    const proposal = proposals.find((p) => p.metadata.name === record.name && p.metadata.namespace === record.namespace);
    if (!proposal) continue;
    for (const leaf of patchLeaves(proposal.spec.change.patch)) expected.set(leaf.path, { value: leaf.value, proposal: `${record.namespace}/${record.name}` });
  }
  if (expected.size === 0) return [];
  const differing = [...expected.entries()].filter(([path, { value }]) => (value === null ? valueAt(mesh, path) !== undefined : !isDeepStrictEqual(valueAt(mesh, path), value)));
  if (differing.length === 0) return [];
  const name = mesh.metadata.name ?? '';
  const proposalNames = [...new Set(differing.map(([, e]) => e.proposal))];
  return [
    {
      id: `mesh-settings/${name}`,
      kind: 'mesh-settings',
      target: { kind: 'Mesh', name, mesh: name },
      score: round2(clamp01(differing.length / expected.size)),
      systems: [`executed Proposal(s) ${proposalNames.join(', ')}`, `Mesh ${name} spec`],
      evidence: differing.map(([path, e]) => `${path} is ${JSON.stringify(valueAt(mesh, path))}, Proposal ${e.proposal} set ${JSON.stringify(e.value)}`),
      corrections: proposalNames.map((proposal) => ({
        kind: 'reapply-proposal' as const,
        description: `re-apply the change of Proposal ${proposal} to Mesh ${name}`,
        risk: 0.4,
        params: { proposal },
      })),
    },
  ];
}

/** An Agent's declared SLA against what it shows: p95 latency above maxLatencyMs, uptime below uptimeTarget. */
export function agentSlaDrift(agent: Agent): Drift[] {
  const sla = agent.spec.sla;
  const observed = agent.status?.availability;
  if (!sla || !observed) return [];
  const evidence: string[] = [];
  let score = 0;
  const latency = observed.latencyP95Ms ?? observed.latencyP50Ms;
  if (sla.maxLatencyMs !== undefined && latency !== undefined && latency > sla.maxLatencyMs) {
    score = Math.max(score, clamp01((latency - sla.maxLatencyMs) / sla.maxLatencyMs));
    evidence.push(`p95 latency ${latency} ms exceeds the SLA's ${sla.maxLatencyMs} ms`);
  }
  if (sla.uptimeTarget !== undefined && observed.uptimePercent !== undefined && observed.uptimePercent < sla.uptimeTarget) {
    // Missing one point of a 99.9 target is serious: score by the share of the error budget used beyond 100%.
    const budget = Math.max(0.01, 100 - sla.uptimeTarget);
    score = Math.max(score, clamp01((sla.uptimeTarget - observed.uptimePercent) / budget / 2));
    evidence.push(`uptime ${observed.uptimePercent}% is below the SLA's ${sla.uptimeTarget}%`);
  }
  if (evidence.length === 0) return [];
  const name = agent.metadata.name ?? '';
  return [
    {
      id: `agent-sla/${agent.metadata.namespace ?? ''}/${name}`,
      kind: 'agent-sla',
      target: { kind: 'Agent', name, namespace: agent.metadata.namespace ?? '', mesh: agent.spec.meshRef },
      score: round2(score),
      systems: [`Agent ${name} spec.sla (declared)`, `Agent ${name} status.availability (observed)`],
      evidence,
      corrections: [{ kind: 'manual', description: 'scale the agent out or relax its SLA; its declared capability does not match what it delivers', risk: 0 }],
    },
  ];
}

/** Desired against ready replicas, once the workload had time to converge (the Agent is not Progressing). */
export function agentReplicaDrift(agent: Agent): Drift[] {
  const desired = agent.status?.replicas;
  const ready = agent.status?.readyReplicas ?? 0;
  const progressing = agent.status?.conditions?.some((c) => c.type === 'Progressing' && c.status === 'True');
  if (desired === undefined || desired === 0 || ready >= desired || progressing) return [];
  const name = agent.metadata.name ?? '';
  return [
    {
      id: `agent-replicas/${agent.metadata.namespace ?? ''}/${name}`,
      kind: 'agent-replicas',
      target: { kind: 'Agent', name, namespace: agent.metadata.namespace ?? '', mesh: agent.spec.meshRef },
      score: round2(clamp01((desired - ready) / desired)),
      systems: [`Agent ${name} spec.runtime.replicas (desired)`, `Deployment ${name} ready replicas (actual)`],
      evidence: [`${ready} of ${desired} replicas ready`],
      corrections: [{ kind: 'manual', description: 'the workload is not converging: check the Deployment and its pods (healing takes over failed nodes)', risk: 0 }],
    },
  ];
}

export interface PlacedPod {
  metadata: { name?: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: { nodeName?: string };
}

/** Pods the Mesh OS scheduler placed (it records its choice in an annotation) that now run elsewhere. */
export function placementDrift(pods: readonly PlacedPod[], meshOf: (pod: PlacedPod) => string | undefined): Drift[] {
  return pods.flatMap((pod) => {
    const decided = pod.metadata.annotations?.[SCHEDULED_NODE_ANNOTATION];
    const actual = pod.spec?.nodeName;
    const mesh = meshOf(pod);
    if (!decided || !actual || decided === actual || !mesh) return [];
    const name = pod.metadata.name ?? '';
    return [
      {
        id: `placement/${pod.metadata.namespace ?? ''}/${name}`,
        kind: 'placement' as const,
        target: { kind: 'Pod' as const, name, namespace: pod.metadata.namespace ?? '', mesh },
        score: 1,
        systems: [`scheduler decision (node ${decided})`, `pod ${name} spec.nodeName (node ${actual})`],
        evidence: [`pod runs on ${actual}, the scheduler placed it on ${decided}`],
        corrections: [{ kind: 'reschedule-pod' as const, description: `delete pod ${name} so its Deployment recreates it and the scheduler places it again`, risk: 0.3 }],
      },
    ];
  });
}

/** Every drift in a set of objects, highest score first. */
export function detectDrift(input: { meshes: readonly Mesh[]; agents: readonly Agent[]; proposals: readonly Proposal[]; pods?: readonly PlacedPod[] }): Drift[] {
  const drifts = [
    ...input.meshes.flatMap((mesh) => meshSettingsDrift(mesh, input.proposals)),
    ...input.agents.flatMap((agent) => [...agentSlaDrift(agent), ...agentReplicaDrift(agent)]),
    ...placementDrift(input.pods ?? [], (pod) => pod.metadata.labels?.['meshos.dev/mesh']),
  ];
  return drifts.sort((a, b) => b.score - a.score);
}
