// Proposal: a governance change to a Mesh. What voters vote on (title, proposer, change)
// is immutable after creation, enforced by CEL transition rules.
import { Type } from '@sinclair/typebox';
import {
  API_VERSION,
  DID,
  DNS1123_SUBDOMAIN,
  bool,
  dateTime,
  duration,
  freeObject,
  immutable,
  jsonObject,
  obj,
  optional,
  parseGoDuration,
  str,
  stringEnum,
  withRules,
} from './common.js';
import { ObjectMetaSchema, conditionsField, observedGenerationField } from './meta.js';

export const PROPOSAL_PHASES = [
  'Analyzing',
  'Voting',
  'Approved',
  'Rejected',
  'Vetoed',
  'Executed',
  'Expired',
  'Failed',
] as const;
export const PROPOSER_KINDS = ['human', 'ai'] as const;

const ProposerSchema = withRules(
  obj('Who proposes the change. Immutable after creation.', {
    did: str('DID of the proposer (did:<method>:<id>).', { maxLength: 512, pattern: DID }),
    kind: stringEnum('Whether the proposer is a human or an AI agent: human or ai.', PROPOSER_KINDS),
  }),
  [immutable('spec.proposer', 'votes were cast on it')],
);

const ChangeSchema = withRules(
  obj('The change to apply to the Mesh when the Proposal is approved. Immutable after creation.', {
    patch: jsonObject(
      'JSON merge patch (RFC 7386) applied to the Mesh named by meshRef, such as {"spec": {"trust": {"weights": {...}}}}.',
      'Any JSON value of the merge patch.',
      { maxProperties: 16 },
    ),
  }),
  [immutable('spec.change', 'votes were cast on it')],
);

export const ProposalSpecSchema = obj('Desired state of the Proposal: what changes, who proposes it and how long voting lasts.', {
  meshRef: withRules(
    str('Name of the Mesh the Proposal changes. Immutable after creation.', {
      minLength: 1,
      maxLength: 253,
      pattern: DNS1123_SUBDOMAIN,
    }),
    [immutable('spec.meshRef', 'votes were cast on it')],
  ),
  title: withRules(
    str('One-line title of the Proposal (1-200 characters). Immutable after creation.', { minLength: 1, maxLength: 200 }),
    [immutable('spec.title', 'votes were cast on it')],
  ),
  summary: optional(str('Rationale and details for voters (Markdown).', { maxLength: 20000 })),
  proposer: ProposerSchema,
  critical: optional(
    bool('A critical Proposal changes safety-relevant settings: voters see it flagged and the human veto applies. Default false.', {
      default: false,
    }),
  ),
  change: ChangeSchema,
  votingPeriod: optional(
    withRules(
      duration("How long voting stays open, as a positive Go duration (72h, 90m); overrides the Mesh's spec.governance.votingPeriod."),
      [
        {
          rule: "duration(self) > duration('0s')",
          message: 'spec.votingPeriod must be a positive duration such as 72h',
          check: (self) => (parseGoDuration(self) ?? 0) > 0,
        },
      ],
    ),
  ),
  transitionPeriod: optional(
    duration("After execution, how long the change is phased in (Go duration such as 24h); overrides the Mesh's spec.trust.transitionPeriod."),
  ),
});

export const ProposalStatusSchema = obj('Observed state of the Proposal, written by the operator.', {
  observedGeneration: optional(observedGenerationField('Proposal')),
  conditions: optional(conditionsField('Proposal')),
  phase: optional(
    stringEnum('Lifecycle phase: Analyzing, Voting, Approved, Rejected, Vetoed, Executed, Expired or Failed.', PROPOSAL_PHASES),
  ),
  votingStartsAt: optional(dateTime('When voting opened (RFC 3339).')),
  votingEndsAt: optional(dateTime('When voting closes (RFC 3339).')),
  executedAt: optional(dateTime('When the change was applied to the Mesh (RFC 3339).')),
  impact: optional(freeObject('Impact analysis: the change simulated on recorded history.')),
  tally: optional(freeObject("Votes so far, human and AI, with the AI representatives' explanations.")),
  anchor: optional(freeObject('On-chain anchor of the Proposal and its result (chain id, contract, transaction hash).')),
});

export const ProposalSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION, { description: 'meshos.dev/v1alpha1' }),
    kind: Type.Literal('Proposal', { description: 'Proposal' }),
    metadata: ObjectMetaSchema,
    spec: ProposalSpecSchema,
    status: optional(ProposalStatusSchema),
  },
  {
    additionalProperties: false,
    description:
      'A Proposal is a governance change to a Mesh (for example new trust weights): proposed by a human or an AI, voted by humans and AI representatives, and applied as a merge patch when approved.',
  },
);
