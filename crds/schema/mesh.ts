// Mesh: a cluster-scoped federation domain; its spec holds the rules every kernel module
// reads (scheduling objectives, trust weights, healing, autoscaling, governance, policy).
import { Type } from '@sinclair/typebox';
import {
  API_VERSION,
  DID,
  DNS1123_SUBDOMAIN,
  EVM_ADDRESS,
  HTTP_URL,
  IANA_TIME_ZONE,
  MESH_DID,
  TIME_OF_DAY,
  VOTER_ID,
  bool,
  dateTime,
  duration,
  freeObject,
  immutable,
  int,
  keyedList,
  list,
  num,
  obj,
  optional,
  parseGoDuration,
  str,
  stringEnum,
  withRules,
} from './common.js';
import { ObjectMetaSchema, conditionsField, observedGenerationField } from './meta.js';

export const DEFAULT_SCHEDULER_NAME = 'meshos-scheduler';
export const DEFAULT_OBJECTIVES = { cost: 1, latency: 1, trust: 1, carbon: 1 } as const;
export const DEFAULT_TRUST_WEIGHTS = { credentials: 30, history: 25, attestations: 20, compliance: 15, uptime: 10 } as const;
export const DEFAULT_HEALING = { heartbeatTimeoutSeconds: 30, maxUnhealthyPercent: 30 } as const;
export const DEFAULT_AUTOSCALING = { predictive: false, horizonHours: 24 } as const;
export const DEFAULT_GOVERNANCE = {
  humanWeight: 60,
  aiWeight: 40,
  approvalThreshold: 70,
  vetoThreshold: 80,
  votingPeriod: '72h',
} as const;
export const FAILOVER_MODES = ['ActiveActive', 'ActivePassive'] as const;
export const VOTER_GROUPS = ['council', 'technical-committee', 'community'] as const;
export const APPROVAL_MODES = ['Human', 'Coordinators', 'HumanOrCoordinators'] as const;

/** `(has(self.a) ? self.a : 30) + ...`: a sum that holds whether or not defaulting ran. */
function celSum(defaults: Readonly<Record<string, number>>, literal: (n: number) => string): string {
  return Object.entries(defaults)
    .map(([field, fallback]) => `(has(self.${field}) ? self.${field} : ${literal(fallback)})`)
    .join(' + ');
}

function sumWithDefaults<K extends string>(
  value: { readonly [P in NoInfer<K>]?: number },
  defaults: Readonly<Record<K, number>>,
): number {
  return (Object.keys(defaults) as K[]).reduce((sum, key) => sum + (value[key] ?? defaults[key]), 0);
}

const objective = (name: string, meaning: string) =>
  optional(
    num(`Relative weight of ${name} in placement: ${meaning} 0 ignores it. Default 1.`, {
      minimum: 0,
      maximum: 1000,
      default: DEFAULT_OBJECTIVES[name as keyof typeof DEFAULT_OBJECTIVES],
    }),
  );

const ObjectivesSchema = withRules(
  obj(
    'Weights of the placement objectives the Mesh OS scheduler minimises together. Only ratios matter; at least one must be greater than 0.',
    {
      cost: objective('cost', 'prefer nodes with a lower hourly price.'),
      latency: objective('latency', "prefer nodes close to the agent's callers."),
      trust: objective('trust', 'prefer nodes with a higher trust level.'),
      carbon: objective('carbon', 'prefer nodes with a lower carbon intensity.'),
    },
    { default: {} },
  ),
  [
    {
      rule: `${(['cost', 'latency', 'trust', 'carbon'] as const)
        .map((f) => `(has(self.${f}) ? self.${f} : 1.0) > 0.0`)
        .join(' || ')}`,
      message: 'spec.scheduling.objectives: at least one of cost, latency, trust, carbon must be greater than 0',
      check: (self) =>
        (['cost', 'latency', 'trust', 'carbon'] as const).some((f) => (self[f] ?? DEFAULT_OBJECTIVES[f]) > 0),
    },
  ],
);

const SchedulingSchema = obj(
  'How agents of this mesh are placed on nodes.',
  {
    objectives: optional(ObjectivesSchema),
    schedulerName: optional(
      str(
        "Scheduler that binds the agents' pods: meshos-scheduler (the Mesh OS multi-objective scheduler, default) or another scheduler such as default-scheduler. A DNS-1123 subdomain.",
        { maxLength: 253, pattern: DNS1123_SUBDOMAIN, default: DEFAULT_SCHEDULER_NAME },
      ),
    ),
    minTrustScore: optional(
      num('Nodes whose trust level is below this score (0-100) are never chosen. Unset means no floor.', {
        minimum: 0,
        maximum: 100,
      }),
    ),
  },
  { default: {} },
);

const weight = (name: string, meaning: string) =>
  optional(
    int(
      `Percentage of the trust score that comes from ${meaning} (0-100). Default ${DEFAULT_TRUST_WEIGHTS[name as keyof typeof DEFAULT_TRUST_WEIGHTS]}.`,
      { minimum: 0, maximum: 100, default: DEFAULT_TRUST_WEIGHTS[name as keyof typeof DEFAULT_TRUST_WEIGHTS] },
    ),
  );

const TrustWeightsSchema = withRules(
  obj(
    'Weights of the trust score components, in percent; they must sum to 100. Default credentials 30, history 25, attestations 20, compliance 15, uptime 10.',
    {
      credentials: weight('credentials', 'verified credentials and certifications'),
      history: weight('history', "the agent's track record of completed work"),
      attestations: weight('attestations', 'attestations by other agents and humans'),
      compliance: weight('compliance', 'policy compliance'),
      uptime: weight('uptime', 'measured availability against the SLA'),
    },
    { default: { ...DEFAULT_TRUST_WEIGHTS } },
  ),
  [
    {
      rule: `${celSum(DEFAULT_TRUST_WEIGHTS, String)} == 100`,
      message: 'spec.trust.weights: credentials+history+attestations+compliance+uptime must sum to 100',
      check: (self) => sumWithDefaults(self, DEFAULT_TRUST_WEIGHTS) === 100,
    },
  ],
);

const TrustSchema = obj(
  "How agents' trust scores (0-100) are computed.",
  {
    weights: optional(TrustWeightsSchema),
    attestationIssuers: optional(
      list(
        'Issuers whose signed attestations count towards agents\' trust: an attestation is counted only when its Ed25519 signature verifies with its issuer\'s key here.',
        obj('An attestation issuer: another agent or mesh, by DID, with its public key.', {
          did: str('DID of the issuer, as attestations name it.', { maxLength: 512, pattern: DID }),
          publicKey: str('Ed25519 public key of the issuer, PEM (SPKI), that verifies its attestations.', {
            minLength: 40,
            maxLength: 1000,
            pattern: '^-----BEGIN PUBLIC KEY-----[\\s\\S]+-----END PUBLIC KEY-----\\s*$',
          }),
        }),
        { maxItems: 64 },
      ),
    ),
    transitionPeriod: optional(
      duration(
        'When the weights change, how long the trust module blends old and new scores before the new weights apply fully (Go duration such as 24h). Unset or 0s switches at once.',
      ),
    ),
  },
  { default: {} },
);

const HealingSchema = obj(
  'Failure detection and remediation for the agents of this mesh.',
  {
    heartbeatTimeoutSeconds: optional(
      int('Seconds without a heartbeat (node lease or agent probe) before a node or replica counts as failed (1-600). Default 30.', {
        minimum: 1,
        maximum: 600,
        default: DEFAULT_HEALING.heartbeatTimeoutSeconds,
      }),
    ),
    maxUnhealthyPercent: optional(
      num("Remediation pauses when more than this percentage (0-100) of the mesh's agents are unhealthy at once, to avoid cascades. Default 30.", {
        minimum: 0,
        maximum: 100,
        default: DEFAULT_HEALING.maxUnhealthyPercent,
      }),
    ),
    failoverMode: optional(
      stringEnum(
        'ActiveActive: every replica serves and failed ones are replaced. ActivePassive: standby replicas take over when the active one fails.',
        FAILOVER_MODES,
      ),
    ),
    quarantineTrustThreshold: optional(
      num('An agent whose trust score falls below this value (0-100) is quarantined: removed from discovery and isolated.', {
        minimum: 0,
        maximum: 100,
      }),
    ),
    predictiveDrain: optional(
      bool("Drain a node (through the policy gate) when the anomaly detector over its heartbeat gaps warns that it is about to fail. Default false.", { default: false }),
    ),
    rollbackWindowSeconds: optional(
      int("How long a new revision of an agent runs before its health is compared with the previous revision's; a clearly less healthy one is rolled back (10-86400). Default 300.", {
        minimum: 10,
        maximum: 86400,
      }),
    ),
  },
  { default: {} },
);

const AutoscalingSchema = obj(
  'Replica autoscaling of the agents of this mesh.',
  {
    predictive: optional(
      bool('Scale ahead of forecast demand instead of only reacting to current load. Default false.', {
        default: DEFAULT_AUTOSCALING.predictive,
      }),
    ),
    horizonHours: optional(
      int('How far ahead the demand forecast looks, in hours (1-168). Default 24.', {
        minimum: 1,
        maximum: 168,
        default: DEFAULT_AUTOSCALING.horizonHours,
      }),
    ),
  },
  { default: {} },
);

const VoterSchema = obj('A registered governance voter.', {
  id: str('Identity of the voter: an EVM address (0x followed by 40 hex digits) or a DID. Unique in the list.', {
    maxLength: 256,
    pattern: VOTER_ID,
  }),
  group: optional(
    stringEnum('Voter group: council, technical-committee or community.', VOTER_GROUPS),
  ),
  weight: optional(
    num('Voting weight of this voter within the human vote; must be greater than 0. Default 1.', {
      exclusiveMinimum: 0,
      maximum: 1_000_000,
      default: 1,
    }),
  ),
  displayName: optional(str("Name shown in the voters' portal.", { maxLength: 128 })),
});

const ChainSchema = obj('The EVM chain that anchors proposals, tallies and agent identities.', {
  rpcUrl: optional(str('JSON-RPC endpoint of the chain (http or https).', { maxLength: 2048, pattern: HTTP_URL })),
  chainId: optional(int('EIP-155 chain id (31337 for a local Hardhat node).', { minimum: 1 })),
  governorAddress: optional(str('Address of the governance contract.', { pattern: EVM_ADDRESS })),
  registryAddress: optional(str('Address of the DID registry contract (ERC-1056).', { pattern: EVM_ADDRESS })),
});

const GovernanceSchema = withRules(
  obj(
    'How Proposals against this mesh are voted and decided.',
    {
      humanWeight: optional(
        int('Share of the voting power held by human voters, in percent (0-100). humanWeight+aiWeight must be 100. Default 60.', {
          minimum: 0,
          maximum: 100,
          default: DEFAULT_GOVERNANCE.humanWeight,
        }),
      ),
      aiWeight: optional(
        int('Share of the voting power held by AI representatives, in percent (0-100). Default 40.', {
          minimum: 0,
          maximum: 100,
          default: DEFAULT_GOVERNANCE.aiWeight,
        }),
      ),
      approvalThreshold: optional(
        num('Weighted yes percentage a Proposal needs to pass; greater than 50 and at most 100. Default 70.', {
          exclusiveMinimum: 50,
          maximum: 100,
          default: DEFAULT_GOVERNANCE.approvalThreshold,
        }),
      ),
      vetoThreshold: optional(
        num('Percentage of human voting power voting no that vetoes a Proposal regardless of the AI vote; greater than 50 and at most 100. Default 80.', {
          exclusiveMinimum: 50,
          maximum: 100,
          default: DEFAULT_GOVERNANCE.vetoThreshold,
        }),
      ),
      quorumPercent: optional(
        num('Minimum percentage (0-100) of the total voting power that must vote for the result to count.', {
          minimum: 0,
          maximum: 100,
        }),
      ),
      votingPeriod: optional(
        withRules(
          duration('How long voting stays open by default, as a positive Go duration (72h, 90m, 1h30m). Default 72h.', {
            default: DEFAULT_GOVERNANCE.votingPeriod,
          }),
          [
            {
              rule: "duration(self) > duration('0s')",
              message: 'spec.governance.votingPeriod must be a positive duration such as 72h',
              check: (self) => (parseGoDuration(self) ?? 0) > 0,
            },
          ],
        ),
      ),
      voters: optional(
        keyedList('Registry of human voters, unique by id.', 'id', VoterSchema, { maxItems: 1000 }),
      ),
      chain: optional(ChainSchema),
    },
    { default: {} },
  ),
  [
    {
      rule: `${celSum({ humanWeight: DEFAULT_GOVERNANCE.humanWeight, aiWeight: DEFAULT_GOVERNANCE.aiWeight }, String)} == 100`,
      message: 'spec.governance: humanWeight+aiWeight must sum to 100',
      check: (self) =>
        sumWithDefaults(self, { humanWeight: DEFAULT_GOVERNANCE.humanWeight, aiWeight: DEFAULT_GOVERNANCE.aiWeight }) === 100,
    },
  ],
);

const QuietHoursSchema = obj('A daily window in which the autonomous loop makes no changes that need approval.', {
  start: str('Start of the window, HH:MM (24-hour) in timezone.', { pattern: TIME_OF_DAY }),
  end: str('End of the window, HH:MM (24-hour) in timezone; earlier than start means the window spans midnight.', {
    pattern: TIME_OF_DAY,
  }),
  timezone: optional(str('IANA time zone of start and end, such as Europe/Paris. Default UTC.', {
    maxLength: 64,
    pattern: IANA_TIME_ZONE,
    default: 'UTC',
  })),
});

const PolicySchema = obj('Limits on what the autonomous loop may do without a human.', {
  maxAutonomousAgentPercentPerHour: optional(
    num("At most this percentage (0-100) of the mesh's agents may be changed (moved, scaled, quarantined) autonomously per hour.", {
      minimum: 0,
      maximum: 100,
    }),
  ),
  maxReplicasAddedPerHour: optional(
    int('At most this many replicas may be added autonomously per hour, across the mesh.', { minimum: 0 }),
  ),
  maxActionsPerMinute: optional(
    int('Rate limit: at most this many autonomous actions may start per minute in this mesh (remediation included).', {
      minimum: 0,
    }),
  ),
  riskCeiling: optional(
    num('Actions whose risk score (0-1) is above this ceiling wait for approval as set by approvalMode.', {
      minimum: 0,
      maximum: 1,
    }),
  ),
  approvalMode: optional(
    stringEnum(
      'Who approves actions above the risk ceiling: Human (a human operator), Coordinators (coordinatorApprovals coordinator agents) or HumanOrCoordinators (either).',
      APPROVAL_MODES,
    ),
  ),
  coordinatorApprovals: optional(
    int('Number of coordinator agents that must approve when approvalMode allows coordinators (1-100). Default 3.', {
      minimum: 1,
      maximum: 100,
      default: 3,
    }),
  ),
  quietHours: optional(list('Daily windows without autonomous changes that need approval.', QuietHoursSchema, { maxItems: 24 })),
});

export const MeshSpecSchema = obj(
  'Desired state of the Mesh: the rules the operator applies to every agent that joins it.',
  {
    did: optional(
      withRules(
        str('Decentralised identifier of the mesh: did:mesh:<segment>(:<segment>)+, segments lower-case alphanumerics and -, such as did:mesh:acme:prod. Immutable once set.', {
          maxLength: 253,
          pattern: MESH_DID,
        }),
        [immutable('spec.did', 'it identifies the mesh on chain')],
      ),
    ),
    description: optional(str('What this mesh is for.', { maxLength: 2000 })),
    scheduling: optional(SchedulingSchema),
    trust: optional(TrustSchema),
    healing: optional(HealingSchema),
    autoscaling: optional(AutoscalingSchema),
    governance: optional(GovernanceSchema),
    policy: optional(PolicySchema),
  },
  { default: {} },
);

export const AppliedProposalSchema = obj('A Proposal whose change was applied to this mesh.', {
  name: str('Name of the Proposal.'),
  namespace: str('Namespace of the Proposal.'),
  appliedAt: dateTime('When the change was applied (RFC 3339).'),
});

export const PLAN_HORIZONS = ['7d', '30d', '90d'] as const;

const PlanRiskSchema = obj('A way the plan can fail, and when it bites.', {
  kind: str('What kind of risk: CapacityShortfall (peak needs more nodes than the region has), MaxReplicas (an agent needs more than its maxReplicas), NoHistory.', { maxLength: 64 }),
  message: str('The risk in one sentence.', { maxLength: 1000 }),
  date: optional(dateTime('When the risk first bites, per the forecast (RFC 3339).')),
  agent: optional(str('Agent the risk is about, as namespace/name, when it is about one.', { maxLength: 320 })),
});

const RegionPlanSchema = obj("What one region needs over the plan's horizon.", {
  region: str("Region name (the Agents' spec.region; default when unset).", { maxLength: 63 }),
  agents: int('Agents with a demand history in this region.', { minimum: 0 }),
  peakDemand: num('Forecast peak of the summed demand, in requests per second (upper quantile).', { minimum: 0 }),
  peakAt: optional(dateTime('When the forecast peak falls (RFC 3339).')),
  meanDemand: num('Forecast mean of the summed demand, in requests per second.', { minimum: 0 }),
  peakReplicas: int('Replicas needed at the peak, summed over agents.', { minimum: 0 }),
  meanReplicas: num('Replicas needed on average, summed over agents.', { minimum: 0 }),
  cpuCores: num('CPU cores the peak replicas request.', { minimum: 0 }),
  nodesNeeded: int('Nodes of the region\'s average allocatable CPU needed at the peak.', { minimum: 0 }),
  nodesAvailable: int('Ready nodes in the region now.', { minimum: 0 }),
  cost: num('Cost of the nodes needed on average over the horizon, at the current node prices (label meshos.dev/cost-per-hour or meshos.dev/cost).', { minimum: 0 }),
  carbonKg: num('Carbon of the nodes needed on average over the horizon, in kg CO2e, at the current grid intensity (label meshos.dev/carbon-intensity or meshos.dev/carbon, gCO2e/kWh) and meshos.dev/power-kw per node (default 0.25).', { minimum: 0 }),
  risks: optional(list('Risks found for this region, earliest first.', PlanRiskSchema, { maxItems: 64 })),
});

const CapacityPlanSchema = obj('A capacity plan over one horizon.', {
  horizon: stringEnum('Horizon of the plan: 7d, 30d or 90d.', PLAN_HORIZONS),
  from: dateTime('Start of the plan (RFC 3339).'),
  to: dateTime('End of the plan (RFC 3339).'),
  regions: list('Needs per region.', RegionPlanSchema, { maxItems: 256 }),
});

const CapacityPlansSchema = obj('Capacity plans (7, 30 and 90 days) per region, written by the forecasting module from the Agents\' demand forecasts.', {
  updatedAt: optional(dateTime('When the plans were computed (RFC 3339).')),
  currency: optional(str('Currency of the costs (node price labels are read as this currency). Default USD.', { maxLength: 3 })),
  plans: optional(list('One plan per horizon.', CapacityPlanSchema, { maxItems: 3 })),
});

export const MeshStatusSchema = obj('Observed state of the Mesh, written by the operator.', {
  observedGeneration: optional(observedGenerationField('Mesh')),
  conditions: optional(conditionsField('Mesh')),
  phase: optional(str('Summary of the conditions: Pending, Ready or Degraded.', { maxLength: 64 })),
  agents: optional(
    obj('Counts of the Agents that reference this mesh.', {
      total: optional(int('Agents that reference this mesh.', { minimum: 0 })),
      ready: optional(int('Agents whose phase is Ready.', { minimum: 0 })),
      degraded: optional(int('Agents whose phase is Degraded, Failed or Quarantined.', { minimum: 0 })),
    }),
  ),
  appliedProposals: optional(list('Proposals applied to this mesh, oldest first.', AppliedProposalSchema)),
  trust: optional(freeObject('Trust weights in force and any transition in progress, written by the trust module.')),
  capacityPlans: optional(CapacityPlansSchema),
  anchors: optional(freeObject("On-chain anchors of this mesh's identity and decisions, written by the governance module.")),
});

export const MeshSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION, { description: 'meshos.dev/v1alpha1' }),
    kind: Type.Literal('Mesh', { description: 'Mesh' }),
    metadata: ObjectMetaSchema,
    // Required, yet a Mesh without spec is accepted: spec defaults to {} before validation.
    spec: MeshSpecSchema,
    status: optional(MeshStatusSchema),
  },
  {
    additionalProperties: false,
    description:
      'A Mesh is a federation domain for AI agents: the scheduling objectives, trust weights, healing, autoscaling, governance and policy that apply to every Agent that joins it.',
  },
);
