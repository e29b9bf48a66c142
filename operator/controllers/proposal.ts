import type { Mesh, Proposal } from '../../crds/types.js';
import type { Reconciler, ReconcileResult } from '../controller.js';
import type { EventRecorder } from '../events.js';
import type { KubeClient } from '../kube/client.js';
import { MeshOsResources } from '../kube/resources.js';
import { applyStatus } from '../kube/apply.js';
import type { Informer } from '../informer/informer.js';
import type { Logger } from '../log.js';
import { parseDuration } from '../util/duration.js';
import { ConditionType, Reason, setConditions, type Condition, type ConditionInput } from './conditions.js';
import { ACTION_APPROVAL_LABEL } from '../../kernel/approvals.js';
import type { ProposalLifecycle } from './proposal-lifecycle.js';

export const PROPOSAL_CONTROLLER = 'proposal';
export const PROPOSAL_FIELD_MANAGER = 'meshos-proposal-controller';
/** Index on the Proposal informer: the Mesh a Proposal would change. */
export const PROPOSALS_BY_MESH = 'byMesh';
export const DEFAULT_VOTING_PERIOD = '72h';

export type ProposalPhase = 'Analyzing' | 'Voting' | 'Approved' | 'Rejected' | 'Vetoed' | 'Executed' | 'Expired' | 'Failed';

export interface ProposalIntakeStatus {
  observedGeneration: number;
  phase: ProposalPhase;
  votingEndsAt?: string;
  conditions: Condition[];
}

/**
 * The foundation's part of the Proposal lifecycle: check the Mesh reference and open voting
 * with a deadline from the Proposal's (or the Mesh's) voting period. Later phases belong to
 * governance; a phase past Voting is never moved back. Pure.
 */
export function computeProposalIntake(proposal: Proposal, mesh: Mesh | undefined, now: Date): ProposalIntakeStatus {
  const generation = proposal.metadata.generation ?? 0;
  const livePhase = (proposal.status?.phase ?? 'Analyzing');
  const own = ((proposal.status?.conditions ?? []) as Condition[]).filter((c) => c.type === ConditionType.Ready);
  const base = { observedGeneration: generation };
  if (!mesh) {
    const message = `Mesh ${proposal.spec.meshRef} not found`;
    const ready: ConditionInput = { ...base, type: ConditionType.Ready, status: 'False', reason: Reason.MeshNotFound, message };
    return { observedGeneration: generation, phase: livePhase, conditions: setConditions(own, [ready], now) };
  }
  if (livePhase !== 'Analyzing') {
    const status: ProposalIntakeStatus = { observedGeneration: generation, phase: livePhase, conditions: own };
    if (proposal.status?.votingEndsAt) status.votingEndsAt = proposal.status.votingEndsAt;
    return status;
  }
  const period = proposal.spec.votingPeriod ?? mesh.spec.governance?.votingPeriod ?? DEFAULT_VOTING_PERIOD;
  let periodMs: number;
  try {
    periodMs = parseDuration(period);
  } catch (error) {
    const message = `spec.votingPeriod: ${(error as Error).message}`;
    const ready: ConditionInput = { ...base, type: ConditionType.Ready, status: 'False', reason: Reason.InvalidPeriod, message };
    return { observedGeneration: generation, phase: 'Failed', conditions: setConditions(own, [ready], now) };
  }
  const opened = proposal.metadata.creationTimestamp ? new Date(proposal.metadata.creationTimestamp) : now;
  const votingEndsAt = new Date(opened.getTime() + periodMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ready: ConditionInput = {
    ...base,
    type: ConditionType.Ready,
    status: 'True',
    reason: Reason.VotingOpen,
    message: `Voting open until ${votingEndsAt} on mesh ${mesh.metadata.name ?? ''}`,
  };
  return { observedGeneration: generation, phase: 'Voting', votingEndsAt, conditions: setConditions(own, [ready], now) };
}

/** The Proposal controller (foundation part): validates the Mesh reference and moves the phase to Voting. */
export class ProposalReconciler implements Reconciler {
  readonly name = PROPOSAL_CONTROLLER;

  constructor(
    private readonly deps: {
      client: KubeClient;
      proposals: Informer<Proposal>;
      meshes: Informer<Mesh>;
      events: EventRecorder;
      now?: () => Date;
      /** The governance lifecycle (analysis, votes, tally, anchor, execution); without it Proposals stop at Voting. */
      lifecycle?: ProposalLifecycle;
    },
  ) {}

  async reconcile(key: string, logger: Logger): Promise<ReconcileResult | void> {
    const proposal = this.deps.proposals.store.get(key);
    if (!proposal || proposal.metadata.deletionTimestamp) return;
    const mesh = this.deps.meshes.store.get(proposal.spec.meshRef);
    // Held kernel actions are approved through annotations (kernel/approval-bridge.ts), not by vote.
    const governed = this.deps.lifecycle && proposal.metadata.labels?.[ACTION_APPROVAL_LABEL] !== 'true';
    if (governed && mesh && this.deps.lifecycle) return this.deps.lifecycle.reconcile(key, proposal, mesh, logger);
    const status = computeProposalIntake(proposal, mesh, (this.deps.now ?? (() => new Date()))());
    const live = proposal.status ?? {};
    const liveReady = ((live.conditions ?? []) as Condition[]).find((c) => c.type === ConditionType.Ready);
    const nextReady = status.conditions.find((c) => c.type === ConditionType.Ready);
    if (
      live.observedGeneration === status.observedGeneration &&
      live.phase === status.phase &&
      live.votingEndsAt === status.votingEndsAt &&
      liveReady?.reason === nextReady?.reason &&
      liveReady?.status === nextReady?.status &&
      liveReady?.message === nextReady?.message
    ) {
      return;
    }
    await applyStatus(this.deps.client, MeshOsResources.proposal, key, status, PROPOSAL_FIELD_MANAGER);
    if (live.phase !== status.phase || liveReady?.reason !== nextReady?.reason) {
      const opened = status.phase === 'Voting';
      this.deps.events.record(proposal, {
        type: opened ? 'Normal' : 'Warning',
        reason: nextReady?.reason ?? status.phase,
        action: opened ? 'OpenVoting' : 'Validate',
        note: nextReady?.message ?? status.phase,
      });
      logger.info({ phase: status.phase }, `Proposal ${key} moved to ${status.phase}`);
    }
  }
}

export function proposalMeshKeys(proposal: Proposal): string[] {
  return [proposal.spec.meshRef];
}
