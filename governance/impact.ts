// Impact analysis: the Proposal's change simulated on the recorded state before anyone votes.
// For trust weights, every Agent of the Mesh is scored with the weights in force and with the
// proposed weights (kernel/trust), and the analysis reports how many change tier and by how much.
import type { Agent, Mesh } from '../crds/types.js';
import { validateResource } from '../crds/validate.js';
import { computeAgentTrust, meshTrustState, planWeights, specWeights, TRUST_COMPONENTS, type TrustComputeOptions, type TrustWeights } from '../kernel/trust/index.js';
import { applyMergePatch, patchedPaths } from './merge-patch.js';

export interface AgentImpact {
  agent: string;
  before: number;
  after: number;
  delta: number;
  tierBefore: string;
  tierAfter: string;
}

export interface TrustImpact {
  weightsBefore: TrustWeights;
  weightsAfter: TrustWeights;
  agents: number;
  tierChanges: number;
  upgrades: number;
  downgrades: number;
  meanAbsDelta: number;
  maxAbsDelta: number;
  /** `low->medium: 3` style counts. */
  transitions: Record<string, number>;
  /** The Agents that move most (at most 10). */
  largest: AgentImpact[];
}

export interface ImpactAnalysis {
  /** Mesh fields the change sets or deletes. */
  paths: string[];
  touches: { trustWeights: boolean; governance: boolean; policy: boolean; scheduling: boolean; healing: boolean };
  /** Problems that make the change inapplicable (schema violations of the patched Mesh). */
  invalid: string[];
  trust?: TrustImpact;
  /** Whether the change is phased in (trust weights with a transition period). */
  transitionPeriod?: string;
  /** Human voting power before/after, when governance weights change. */
  humanWeightBefore?: number;
  humanWeightAfter?: number;
  vetoThresholdBefore?: number;
  vetoThresholdAfter?: number;
  riskCeilingBefore?: number;
  riskCeilingAfter?: number;
  analyzedAt: string;
  summary: string;
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** The Mesh as it would be after the change (metadata and status untouched). */
export function patchedMesh(mesh: Mesh, patch: Record<string, unknown>): Mesh {
  const spec = applyMergePatch(mesh.spec, patch['spec'] ?? {}) as Mesh['spec'];
  return { ...mesh, spec };
}

export function analyzeImpact(
  mesh: Mesh,
  agents: readonly Agent[],
  patch: Record<string, unknown>,
  now: Date,
  options: TrustComputeOptions & { transitionPeriod?: string } = {},
): ImpactAnalysis {
  const paths = patchedPaths(patch);
  const invalid = paths.filter((p) => !p.startsWith('spec.')).map((p) => `${p}: a Proposal may only change the Mesh's spec`);
  const after = patchedMesh(mesh, patch);
  if (after.spec.did !== mesh.spec.did) invalid.push('spec.did: immutable once set');
  for (const issue of validateResource({ ...after, status: undefined })) invalid.push(`${issue.path}: ${issue.message}`);
  const touches = {
    trustWeights: paths.some((p) => p.startsWith('spec.trust.weights')),
    governance: paths.some((p) => p.startsWith('spec.governance')),
    policy: paths.some((p) => p.startsWith('spec.policy')),
    scheduling: paths.some((p) => p.startsWith('spec.scheduling')),
    healing: paths.some((p) => p.startsWith('spec.healing')),
  };
  const analysis: ImpactAnalysis = { paths, touches, invalid, analyzedAt: now.toISOString(), summary: '' };
  if (touches.governance) {
    analysis.humanWeightBefore = mesh.spec.governance?.humanWeight ?? 60;
    analysis.humanWeightAfter = after.spec.governance?.humanWeight ?? 60;
    analysis.vetoThresholdBefore = mesh.spec.governance?.vetoThreshold ?? 80;
    analysis.vetoThresholdAfter = after.spec.governance?.vetoThreshold ?? 80;
  }
  if (touches.policy) {
    if (mesh.spec.policy?.riskCeiling !== undefined) analysis.riskCeilingBefore = mesh.spec.policy.riskCeiling;
    if (after.spec.policy?.riskCeiling !== undefined) analysis.riskCeilingAfter = after.spec.policy.riskCeiling;
  }
  const transition = options.transitionPeriod ?? after.spec.trust?.transitionPeriod;
  if (transition !== undefined) analysis.transitionPeriod = transition;
  if (touches.trustWeights) analysis.trust = trustImpact(mesh, after, agents, now, options);
  analysis.summary = summarize(analysis);
  return analysis;
}

function trustImpact(mesh: Mesh, after: Mesh, agents: readonly Agent[], now: Date, options: TrustComputeOptions): TrustImpact {
  const nowMs = now.getTime();
  // The weights in force now (a transition in progress is honoured), and the proposed ones applied at once.
  const before = planWeights(mesh, meshTrustState(mesh), nowMs);
  const proposed = specWeights(after);
  const proposedPlan = { ...before, effectiveWeights: proposed, version: 'proposed' };
  const members = agents.filter((a) => a.spec.meshRef === mesh.metadata.name);
  const impacts: AgentImpact[] = members.map((agent) => {
    const b = computeAgentTrust(agent, before, now, options);
    const a = computeAgentTrust(agent, proposedPlan, now, options);
    return { agent: b.key, before: b.status.score, after: a.status.score, delta: round(a.status.score - b.status.score), tierBefore: b.tier, tierAfter: a.tier };
  });
  const order = ['low', 'medium', 'high', 'verified'];
  const transitions: Record<string, number> = {};
  let upgrades = 0;
  let downgrades = 0;
  for (const impact of impacts) {
    if (impact.tierBefore === impact.tierAfter) continue;
    const key = `${impact.tierBefore}->${impact.tierAfter}`;
    transitions[key] = (transitions[key] ?? 0) + 1;
    if (order.indexOf(impact.tierAfter) > order.indexOf(impact.tierBefore)) upgrades += 1;
    else downgrades += 1;
  }
  const abs = impacts.map((i) => Math.abs(i.delta));
  return {
    weightsBefore: before.effectiveWeights,
    weightsAfter: Object.fromEntries(TRUST_COMPONENTS.map((c) => [c, proposed[c]])) as TrustWeights,
    agents: impacts.length,
    tierChanges: upgrades + downgrades,
    upgrades,
    downgrades,
    meanAbsDelta: abs.length ? round(abs.reduce((s, v) => s + v, 0) / abs.length) : 0,
    maxAbsDelta: abs.length ? round(Math.max(...abs)) : 0,
    transitions,
    largest: [...impacts].sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta)).slice(0, 10),
  };
}

function summarize(analysis: ImpactAnalysis): string {
  const parts: string[] = [`changes ${analysis.paths.length} field(s): ${analysis.paths.join(', ') || 'none'}`];
  if (analysis.invalid.length) parts.push(`cannot be applied: ${analysis.invalid.join('; ')}`);
  const trust = analysis.trust;
  if (trust) {
    parts.push(`${trust.tierChanges} of ${trust.agents} agents change trust tier (${trust.upgrades} up, ${trust.downgrades} down); scores move ${trust.meanAbsDelta} points on average, at most ${trust.maxAbsDelta}`);
  }
  if (analysis.humanWeightAfter !== undefined && analysis.humanWeightAfter !== analysis.humanWeightBefore) {
    parts.push(`human voting power ${analysis.humanWeightBefore}% -> ${analysis.humanWeightAfter}%`);
  }
  return parts.join('; ');
}
