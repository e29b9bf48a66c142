// The AI representatives: four voters in the operator, each applying explicit rules to the
// impact analysis. Each vote carries a confidence (0-1, also its weight within the AI side)
// and an explanation citing the numbers it used. No outside service is called.
import type { ImpactAnalysis } from './impact.js';
import type { Choice } from './tally.js';

export const REPRESENTATIVES = ['meta-coordinator', 'compliance', 'economic', 'ethics'] as const;
export type Representative = (typeof REPRESENTATIVES)[number];

export interface AiVote {
  representative: Representative;
  choice: Choice;
  confidence: number;
  explanation: string;
}

const pct = (part: number, whole: number): number => (whole > 0 ? Math.round((1000 * part) / whole) / 10 : 0);

/** Against anything that cannot be applied; shared by every representative. */
function invalidVote(representative: Representative, analysis: ImpactAnalysis): AiVote | undefined {
  if (analysis.invalid.length === 0) return undefined;
  return { representative, choice: 'against', confidence: 1, explanation: `The change cannot be applied: ${analysis.invalid.join('; ')}.` };
}

/** Stability of the mesh: how many Agents would change trust tier. */
export function metaCoordinatorVote(analysis: ImpactAnalysis): AiVote {
  const invalid = invalidVote('meta-coordinator', analysis);
  if (invalid) return invalid;
  const trust = analysis.trust;
  if (!trust) return { representative: 'meta-coordinator', choice: 'for', confidence: 0.6, explanation: `No trust score changes; the change touches ${analysis.paths.join(', ')}.` };
  const share = pct(trust.tierChanges, trust.agents);
  if (share <= 10) return { representative: 'meta-coordinator', choice: 'for', confidence: 0.8, explanation: `${trust.tierChanges} of ${trust.agents} agents (${share}%, at most 10%) change tier: placements stay stable.` };
  if (share <= 30) return { representative: 'meta-coordinator', choice: 'abstain', confidence: 0.5, explanation: `${trust.tierChanges} of ${trust.agents} agents (${share}%) change tier: noticeable re-placement, neither clearly safe nor harmful.` };
  return { representative: 'meta-coordinator', choice: 'against', confidence: 0.8, explanation: `${trust.tierChanges} of ${trust.agents} agents (${share}%, over 30%) change tier: too much re-placement at once.` };
}

/** Verifiable evidence must not lose weight; autonomy and human oversight must not loosen. */
export function complianceVote(analysis: ImpactAnalysis): AiVote {
  const invalid = invalidVote('compliance', analysis);
  if (invalid) return invalid;
  const trust = analysis.trust;
  if (trust) {
    const verifiable = (w: typeof trust.weightsBefore): number => w.credentials + w.attestations + w.compliance;
    const total = (w: typeof trust.weightsBefore): number => w.credentials + w.history + w.attestations + w.compliance + w.uptime;
    const before = pct(verifiable(trust.weightsBefore), total(trust.weightsBefore));
    const after = pct(verifiable(trust.weightsAfter), total(trust.weightsAfter));
    if (after < before) return { representative: 'compliance', choice: 'against', confidence: 0.75, explanation: `Verifiable evidence (credentials, attestations, compliance) falls from ${before}% to ${after}% of the trust score.` };
  }
  if (analysis.riskCeilingAfter !== undefined && analysis.riskCeilingAfter > (analysis.riskCeilingBefore ?? 0)) {
    return { representative: 'compliance', choice: 'against', confidence: 0.8, explanation: `The risk ceiling rises from ${analysis.riskCeilingBefore ?? 'unset'} to ${analysis.riskCeilingAfter}: more actions run without approval.` };
  }
  if (analysis.humanWeightAfter !== undefined && analysis.humanWeightAfter < (analysis.humanWeightBefore ?? 60)) {
    return { representative: 'compliance', choice: 'against', confidence: 0.85, explanation: `Human voting power falls from ${analysis.humanWeightBefore}% to ${analysis.humanWeightAfter}%: weaker human oversight.` };
  }
  return { representative: 'compliance', choice: 'for', confidence: 0.7, explanation: 'No loss of verifiable evidence in trust scores and no loosening of oversight.' };
}

/** Cost of disruption: Agents that drop a tier lose placements and revenue. */
export function economicVote(analysis: ImpactAnalysis): AiVote {
  const invalid = invalidVote('economic', analysis);
  if (invalid) return invalid;
  const trust = analysis.trust;
  if (!trust) return { representative: 'economic', choice: analysis.touches.scheduling ? 'abstain' : 'for', confidence: 0.5, explanation: analysis.touches.scheduling ? 'Placement objectives change; their cost effect is not simulated.' : 'No trust or placement change: no migration cost.' };
  const share = pct(trust.downgrades, trust.agents);
  if (share > 20) return { representative: 'economic', choice: 'against', confidence: 0.7, explanation: `${trust.downgrades} of ${trust.agents} agents (${share}%, over 20%) drop a tier and may be moved off trust-constrained nodes.` };
  return { representative: 'economic', choice: 'for', confidence: 0.65, explanation: `${trust.downgrades} agents (${share}%) drop a tier; mean score change ${trust.meanAbsDelta} points: migration cost acceptable.` };
}

/** Fairness to individual Agents, gradual change, and human control. */
export function ethicsVote(analysis: ImpactAnalysis, critical: boolean): AiVote {
  const invalid = invalidVote('ethics', analysis);
  if (invalid) return invalid;
  if (analysis.humanWeightAfter !== undefined && analysis.humanWeightAfter < (analysis.humanWeightBefore ?? 60)) {
    return { representative: 'ethics', choice: 'against', confidence: critical ? 0.95 : 0.85, explanation: `Human voting power would fall from ${analysis.humanWeightBefore}% to ${analysis.humanWeightAfter}%.` };
  }
  if (analysis.vetoThresholdAfter !== undefined && analysis.vetoThresholdAfter > (analysis.vetoThresholdBefore ?? 80)) {
    return { representative: 'ethics', choice: 'against', confidence: 0.85, explanation: `The human veto would need ${analysis.vetoThresholdAfter}% instead of ${analysis.vetoThresholdBefore}%.` };
  }
  const trust = analysis.trust;
  if (trust && trust.maxAbsDelta > 15) {
    const worst = trust.largest[0];
    return { representative: 'ethics', choice: 'against', confidence: 0.7, explanation: `One agent's score moves ${trust.maxAbsDelta} points (${worst?.agent ?? ''}: ${worst?.before ?? ''} -> ${worst?.after ?? ''}), over 15: a disproportionate effect on individual agents.` };
  }
  if (trust && trust.tierChanges > 0 && !analysis.transitionPeriod) {
    return { representative: 'ethics', choice: 'abstain', confidence: 0.6, explanation: `${trust.tierChanges} agents change tier at once; a transition period would let them adapt.` };
  }
  return { representative: 'ethics', choice: 'for', confidence: 0.7, explanation: trust ? `Score changes are bounded (at most ${trust.maxAbsDelta} points)${analysis.transitionPeriod ? ` and phased in over ${analysis.transitionPeriod}` : ''}.` : 'No effect on agents\' scores or on human control.' };
}

export function representativeVotes(analysis: ImpactAnalysis, critical: boolean): AiVote[] {
  return [metaCoordinatorVote(analysis), complianceVote(analysis), economicVote(analysis), ethicsVote(analysis, critical)];
}
