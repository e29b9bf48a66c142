// TypeScript types of the Mesh OS custom resources, derived from the TypeBox schemas so
// the CRD YAML and the code cannot disagree. Import from here, not from crds/schema.
import type { Static } from '@sinclair/typebox';
import type { AgentSchema, AgentSpecSchema, AgentStatusSchema } from './schema/agent.js';
import type { ConditionSchema } from './schema/meta.js';
import type { MeshSchema, MeshSpecSchema, MeshStatusSchema } from './schema/mesh.js';
import type { ProposalSchema, ProposalSpecSchema, ProposalStatusSchema } from './schema/proposal.js';

export { API_VERSION, GROUP, VERSION } from './schema/common.js';
export { CONDITION_STATUSES } from './schema/meta.js';
export {
  APPROVAL_MODES,
  DEFAULT_AUTOSCALING,
  DEFAULT_GOVERNANCE,
  DEFAULT_HEALING,
  DEFAULT_OBJECTIVES,
  DEFAULT_SCHEDULER_NAME,
  DEFAULT_TRUST_WEIGHTS,
  FAILOVER_MODES,
  VOTER_GROUPS,
} from './schema/mesh.js';
export { AGENT_PHASES } from './schema/agent.js';
export { PROPOSAL_PHASES, PROPOSER_KINDS } from './schema/proposal.js';

export const MESH_KIND = 'Mesh';
export const AGENT_KIND = 'Agent';
export const PROPOSAL_KIND = 'Proposal';

export const MESH_PLURAL = 'meshes';
export const AGENT_PLURAL = 'agents';
export const PROPOSAL_PLURAL = 'proposals';

/** Plural resource name of each kind, as used in API paths and `kubectl get`. */
export const PLURALS = { Mesh: MESH_PLURAL, Agent: AGENT_PLURAL, Proposal: PROPOSAL_PLURAL } as const;

export type Condition = Static<typeof ConditionSchema>;

export type Mesh = Static<typeof MeshSchema>;
export type MeshSpec = Static<typeof MeshSpecSchema>;
export type MeshStatus = Static<typeof MeshStatusSchema>;

export type Agent = Static<typeof AgentSchema>;
export type AgentSpec = Static<typeof AgentSpecSchema>;
export type AgentStatus = Static<typeof AgentStatusSchema>;

export type Proposal = Static<typeof ProposalSchema>;
export type ProposalSpec = Static<typeof ProposalSpecSchema>;
export type ProposalStatus = Static<typeof ProposalStatusSchema>;

export type AgentPhase = NonNullable<AgentStatus['phase']>;
export type ProposalPhase = NonNullable<ProposalStatus['phase']>;
export type ConditionStatus = Condition['status'];
export type MeshOSResource = Mesh | Agent | Proposal;
export type MeshOSKind = MeshOSResource['kind'];
