// The tally of a Proposal by the Mesh's rules. Pure: the controller and the portal both call it.
//
// - Each side (human, AI) contributes its share of the voting power times the fraction of its
//   for/against weight that is "for"; abstentions count for quorum only. A side that cast no
//   for/against vote drops out and the other side's share is scaled up to 100%.
// - On a critical Proposal AI votes are advisory: reported, never counted.
// - Veto: human "against" weight >= vetoThreshold% of the human for/against weight.
// - Quorum: human weight cast (abstentions included) >= quorumPercent% of the registered
//   human weight; without a configured quorum, at least one human ballot.
// Order of outcomes: no quorum -> Expired, veto -> Vetoed, approval >= threshold -> Approved,
// otherwise Rejected.
import type { GovernanceRules } from './rules.js';

export const CHOICES = ['against', 'for', 'abstain'] as const;
export type Choice = (typeof CHOICES)[number];

export interface WeightedVote {
  voter: string;
  weight: number;
  choice: Choice;
}

export interface SideTally {
  for: number;
  against: number;
  abstain: number;
  /** Ballots (not weight). */
  ballots: number;
}

export type TallyOutcome = 'Approved' | 'Rejected' | 'Vetoed' | 'Expired';

export interface TallyResult {
  outcome: TallyOutcome;
  human: SideTally & { registeredWeight: number };
  ai: SideTally & { counted: boolean };
  /** Weighted approval of the for/against votes counted, percent (0 when nothing counted). */
  approvalPercent: number;
  /** Human against / human for+against, percent. */
  humanAgainstPercent: number;
  /** Human weight cast / registered human weight, percent. */
  humanTurnoutPercent: number;
  quorumMet: boolean;
  vetoed: boolean;
  thresholds: { approval: number; veto: number; quorum: number | null; humanWeight: number; aiWeight: number };
  /** One sentence saying why the outcome is what it is. */
  reason: string;
}

export interface TallyInput {
  rules: GovernanceRules;
  human: readonly WeightedVote[];
  ai: readonly WeightedVote[];
  /** Sum of the weights of the registered human voters. */
  registeredHumanWeight: number;
  critical: boolean;
}

// Floating-point sums of weights are compared with a small tolerance so that, e.g., exactly
// 70% of the weight does not fail a 70% threshold by 1e-15.
const EPSILON = 1e-9;
const round = (value: number): number => Math.round(value * 1e4) / 1e4;

function sideOf(votes: readonly WeightedVote[]): SideTally {
  const side: SideTally = { for: 0, against: 0, abstain: 0, ballots: 0 };
  for (const vote of votes) {
    if (!(vote.weight > 0) || !Number.isFinite(vote.weight)) throw new RangeError(`vote of ${vote.voter}: weight must be a positive finite number, got ${vote.weight}`);
    side[vote.choice] += vote.weight;
    side.ballots += 1;
  }
  return side;
}

export function tally(input: TallyInput): TallyResult {
  const { rules } = input;
  const human = sideOf(input.human);
  const ai = sideOf(input.ai);
  const aiCounted = !input.critical && rules.aiWeight > 0;

  const humanDecisive = human.for + human.against;
  const aiDecisive = ai.for + ai.against;
  let powerCounted = 0;
  let powerFor = 0;
  if (humanDecisive > 0 && rules.humanWeight > 0) {
    powerCounted += rules.humanWeight;
    powerFor += (rules.humanWeight * human.for) / humanDecisive;
  }
  if (aiCounted && aiDecisive > 0) {
    powerCounted += rules.aiWeight;
    powerFor += (rules.aiWeight * ai.for) / aiDecisive;
  }
  const approvalPercent = powerCounted > 0 ? (100 * powerFor) / powerCounted : 0;
  const humanAgainstPercent = humanDecisive > 0 ? (100 * human.against) / humanDecisive : 0;
  const humanCast = human.for + human.against + human.abstain;
  const humanTurnoutPercent = input.registeredHumanWeight > 0 ? (100 * humanCast) / input.registeredHumanWeight : 0;
  const quorumMet =
    rules.quorumPercent === undefined ? human.ballots > 0 : human.ballots > 0 && humanTurnoutPercent + EPSILON >= rules.quorumPercent;
  const vetoed = humanDecisive > 0 && humanAgainstPercent + EPSILON >= rules.vetoThreshold;

  let outcome: TallyOutcome;
  let reason: string;
  if (!quorumMet) {
    outcome = 'Expired';
    reason =
      rules.quorumPercent === undefined
        ? 'no human ballot was cast, so the quorum of human voting power was not met'
        : `human turnout ${round(humanTurnoutPercent)}% is below the quorum of ${rules.quorumPercent}%`;
  } else if (vetoed) {
    outcome = 'Vetoed';
    reason = `${round(humanAgainstPercent)}% of the human vote is against, at or above the veto threshold of ${rules.vetoThreshold}%`;
  } else if (powerCounted > 0 && approvalPercent + EPSILON >= rules.approvalThreshold) {
    outcome = 'Approved';
    reason = `weighted approval ${round(approvalPercent)}% reaches the threshold of ${rules.approvalThreshold}%`;
  } else {
    outcome = 'Rejected';
    reason = `weighted approval ${round(approvalPercent)}% is below the threshold of ${rules.approvalThreshold}%`;
  }
  if (input.critical && ai.ballots > 0) reason += '; AI votes were advisory (critical proposal)';

  return {
    outcome,
    human: { ...roundSide(human), registeredWeight: round(input.registeredHumanWeight) },
    ai: { ...roundSide(ai), counted: aiCounted },
    approvalPercent: round(approvalPercent),
    humanAgainstPercent: round(humanAgainstPercent),
    humanTurnoutPercent: round(humanTurnoutPercent),
    quorumMet,
    vetoed,
    thresholds: {
      approval: rules.approvalThreshold,
      veto: rules.vetoThreshold,
      quorum: rules.quorumPercent ?? null,
      humanWeight: rules.humanWeight,
      aiWeight: rules.aiWeight,
    },
    reason,
  };
}

function roundSide(side: SideTally): SideTally {
  return { for: round(side.for), against: round(side.against), abstain: round(side.abstain), ballots: side.ballots };
}
