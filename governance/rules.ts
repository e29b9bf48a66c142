// The voting rules of a Mesh, read from `spec.governance` with the CRD defaults filled in.
import { DEFAULT_GOVERNANCE, type Mesh } from '../crds/types.js';

export interface GovernanceRules {
  /** Share of the voting power of human voters, percent. */
  humanWeight: number;
  /** Share of the voting power of AI representatives, percent (advisory on critical Proposals). */
  aiWeight: number;
  /** Weighted "for" percentage of the for/against votes cast a Proposal needs to pass. */
  approvalThreshold: number;
  /** Percentage of the human for/against voting weight voting against that vetoes. */
  vetoThreshold: number;
  /**
   * Percentage of the registered human voting weight that must cast a ballot (abstentions
   * count). Unset in the Mesh: at least one human ballot, so AI votes alone never decide.
   */
  quorumPercent: number | undefined;
}

export function governanceRules(mesh: Mesh): GovernanceRules {
  const g = mesh.spec.governance ?? {};
  return {
    humanWeight: g.humanWeight ?? DEFAULT_GOVERNANCE.humanWeight,
    aiWeight: g.aiWeight ?? DEFAULT_GOVERNANCE.aiWeight,
    approvalThreshold: g.approvalThreshold ?? DEFAULT_GOVERNANCE.approvalThreshold,
    vetoThreshold: g.vetoThreshold ?? DEFAULT_GOVERNANCE.vetoThreshold,
    quorumPercent: g.quorumPercent,
  };
}
