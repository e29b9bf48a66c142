// The governance part of the Proposal controller:
//   Analyzing -> Voting -> Approved | Rejected | Vetoed | Expired -> (Approved) Executed | Failed
// Each step writes the whole governance status (phase, impact, tally, anchor, conditions) in
// one server-side apply and records an Event, so the audit trail survives restarts; each step
// is decided from the recorded status, never from memory, so a restarted operator resumes.
import type { Agent, Mesh, Proposal } from '../../crds/types.js';
import { proposalContentHash } from '../../governance/ballot.js';
import { ballotTree } from '../../governance/merkle.js';
import { analyzeImpact, patchedMesh } from '../../governance/impact.js';
import { representativeVotes } from '../../governance/representatives.js';
import { attestationKeysOf } from '../../kernel/trust/attestations.js';
import { anchorStatus, impactOf, tallyStatus, type AnchorStatus, type Governance, type TallyStatus } from '../../governance/service.js';
import { applyStatus } from '../kube/apply.js';
import type { KubeClient } from '../kube/client.js';
import { getErrorMessage } from '../kube/errors.js';
import { MeshOsResources } from '../kube/resources.js';
import type { EventRecorder } from '../events.js';
import type { Logger } from '../log.js';
import { parseDuration } from '../util/duration.js';
import { setConditions, type Condition, type ConditionInput } from './conditions.js';
import type { ReconcileResult } from '../controller.js';

export const GOVERNANCE_FIELD_MANAGER = 'meshos-governance';
export const MESH_STATUS_FIELD_MANAGER = 'meshos-governance-mesh';
/** The tally waits this long after the deadline, so a ballot admitted just before it is stored before the count. */
export const TALLY_GRACE_MS = 2000;

/** Condition types of a governed Proposal, one per step. */
export const ProposalCondition = {
  Analyzed: 'Analyzed',
  Voting: 'Voting',
  Tallied: 'Tallied',
  Anchored: 'Anchored',
  Executed: 'Executed',
  Ready: 'Ready',
} as const;

type Phase = NonNullable<NonNullable<Proposal['status']>['phase']>;

interface GovernedStatus {
  observedGeneration: number;
  phase: Phase;
  votingStartsAt?: string;
  votingEndsAt?: string;
  executedAt?: string;
  impact?: unknown;
  tally?: TallyStatus;
  anchor?: AnchorStatus;
  conditions: Condition[];
}

const rfc3339 = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Field manager for the Mesh fields one Proposal sets: separate per Proposal, so applying one never drops another's fields. */
export function proposalFieldManager(proposal: Proposal): string {
  return `meshos-proposal-${proposal.metadata.namespace ?? ''}-${proposal.metadata.name ?? ''}`.slice(0, 128);
}

export class ProposalLifecycle {
  constructor(
    private readonly deps: {
      client: KubeClient;
      governance: Governance;
      events: EventRecorder;
      agents: () => Agent[];
      now: () => Date;
    },
  ) {}

  private current(proposal: Proposal): GovernedStatus {
    const s = proposal.status ?? {};
    const status: GovernedStatus = {
      observedGeneration: proposal.metadata.generation ?? 0,
      phase: s.phase ?? 'Analyzing',
      conditions: (s.conditions ?? []) as Condition[],
    };
    if (s.votingStartsAt) status.votingStartsAt = s.votingStartsAt;
    if (s.votingEndsAt) status.votingEndsAt = s.votingEndsAt;
    if (s.executedAt) status.executedAt = s.executedAt;
    if (s.impact) status.impact = s.impact;
    const t = tallyStatus(proposal);
    if (t) status.tally = t;
    const a = anchorStatus(proposal);
    if (a) status.anchor = a;
    return status;
  }

  private async write(key: string, proposal: Proposal, status: GovernedStatus, step: { reason: string; note: string; action: string; warning?: boolean; conditions: ConditionInput[] }, logger: Logger): Promise<void> {
    status.conditions = setConditions(status.conditions, step.conditions, this.deps.now());
    await applyStatus(this.deps.client, MeshOsResources.proposal, key, status, GOVERNANCE_FIELD_MANAGER);
    this.deps.events.record(proposal, { type: step.warning ? 'Warning' : 'Normal', reason: step.reason, action: step.action, note: step.note.slice(0, 1000) });
    logger.info({ phase: status.phase, reason: step.reason }, `Proposal ${key}: ${step.note.slice(0, 200)}`);
  }

  /** One step of the lifecycle; returns when to look again. */
  async reconcile(key: string, proposal: Proposal, mesh: Mesh, logger: Logger): Promise<ReconcileResult | void> {
    const status = this.current(proposal);
    const generation = status.observedGeneration;
    const now = this.deps.now();
    const cond = (type: string, ok: boolean, reason: string, message: string): ConditionInput => ({ type, status: ok ? 'True' : 'False', reason, message, observedGeneration: generation });

    switch (status.phase) {
      case 'Analyzing': {
        const period = proposal.spec.votingPeriod ?? mesh.spec.governance?.votingPeriod ?? '72h';
        let periodMs: number;
        try {
          periodMs = parseDuration(period);
        } catch (error) {
          status.phase = 'Failed';
          const message = `spec.votingPeriod: ${getErrorMessage(error)}`;
          await this.write(key, proposal, status, { reason: 'InvalidPeriod', action: 'Analyze', note: message, warning: true, conditions: [cond(ProposalCondition.Ready, false, 'InvalidPeriod', message)] }, logger);
          return;
        }
        // Scored exactly as the trust module scores live (only signed attestations of the Mesh's issuers count).
        const impact = analyzeImpact(mesh, this.deps.agents(), proposal.spec.change.patch, now, {
          attestationKeys: attestationKeysOf(mesh),
          ...(proposal.spec.transitionPeriod ? { transitionPeriod: proposal.spec.transitionPeriod } : {}),
        });
        const aiVotes = representativeVotes(impact, proposal.spec.critical ?? false);
        const contentHash = proposalContentHash(proposal);
        const domain = this.deps.governance.domainFor(mesh);
        status.impact = impact;
        status.tally = { contentHash, aiVotes, ballots: 0 };
        status.anchor = { state: this.deps.governance.chain ? 'Pending' : 'NotConfigured', chainId: domain.chainId, contract: domain.verifyingContract, contentHash };
        status.phase = 'Voting';
        // Voting opens when the Proposal was created, so the deadline does not depend on when the operator saw it.
        const opened = proposal.metadata.creationTimestamp ? new Date(proposal.metadata.creationTimestamp) : now;
        status.votingStartsAt = rfc3339(opened);
        status.votingEndsAt = rfc3339(new Date(opened.getTime() + periodMs));
        const votes = aiVotes.map((v) => `${v.representative} ${v.choice} (${v.confidence})`).join(', ');
        await this.write(key, proposal, status, {
          reason: 'VotingOpen',
          action: 'OpenVoting',
          note: `Analysed: ${impact.summary}. AI representatives: ${votes}. Voting open until ${status.votingEndsAt}`,
          conditions: [
            cond(ProposalCondition.Analyzed, true, 'ImpactAnalyzed', impact.summary),
            cond(ProposalCondition.Voting, true, 'VotingOpen', `Voting open until ${status.votingEndsAt}`),
            cond(ProposalCondition.Ready, true, 'VotingOpen', `Voting open until ${status.votingEndsAt} on mesh ${mesh.metadata.name ?? ''}`),
          ],
        }, logger);
        return { requeueAfterMs: Math.max(250, opened.getTime() + periodMs - now.getTime()) };
      }
      case 'Voting': {
        const endsAt = Date.parse(status.votingEndsAt ?? '');
        if (Number.isFinite(endsAt) && now.getTime() < endsAt + TALLY_GRACE_MS) return { requeueAfterMs: Math.max(250, endsAt + TALLY_GRACE_MS - now.getTime()) };
        const stored = await this.deps.governance.ballots.list(proposal);
        const { result, valid, discarded } = this.deps.governance.tally(proposal, mesh, stored);
        const tree = ballotTree(valid);
        status.phase = result.outcome;
        status.tally = { ...(status.tally ?? { contentHash: proposalContentHash(proposal), aiVotes: [] }), ballots: valid.length, result, ...(discarded.length ? { discarded } : {}) };
        if (status.anchor) status.anchor = { ...status.anchor, ballotsRoot: tree.root, outcome: result.outcome };
        await this.write(key, proposal, status, {
          reason: result.outcome,
          action: 'Tally',
          note: `Tallied ${valid.length} ballot(s): ${result.outcome}, ${result.reason}`,
          warning: result.outcome !== 'Approved',
          conditions: [
            cond(ProposalCondition.Voting, false, 'VotingClosed', `Voting closed at ${status.votingEndsAt ?? ''}`),
            cond(ProposalCondition.Tallied, true, result.outcome, result.reason),
            cond(ProposalCondition.Ready, result.outcome === 'Approved', result.outcome, result.reason),
          ],
        }, logger);
        return { requeueAfterMs: 0 };
      }
      case 'Approved':
      case 'Rejected':
      case 'Vetoed':
      case 'Expired': {
        const anchored = await this.anchor(key, proposal, status, cond, logger);
        if (anchored === 'wait') return { requeueAfterMs: 2000 };
        if (anchored === 'written') return { requeueAfterMs: 0 };
        if (status.phase !== 'Approved') return;
        return this.execute(key, proposal, mesh, status, cond, logger);
      }
      default:
        return;
    }
  }

  /** Anchors the result once; 'done' when there is nothing (more) to do. */
  private async anchor(key: string, proposal: Proposal, status: GovernedStatus, cond: (type: string, ok: boolean, reason: string, message: string) => ConditionInput, logger: Logger): Promise<'done' | 'written' | 'wait'> {
    const anchor = status.anchor;
    if (!anchor || anchor.state === 'Anchored' || anchor.state === 'NotConfigured') return 'done';
    const chain = this.deps.governance.chain;
    if (!chain) return 'wait';
    const result = status.tally?.result;
    if (!result) return 'done';
    if (anchor.chainId !== chain.chainId) throw new Error(`proposal ${key} was opened on chain ${anchor.chainId}; the operator is connected to chain ${chain.chainId}`);
    const stored = await this.deps.governance.ballots.list(proposal);
    const mesh = this.deps.governance.deps.meshes.get(proposal.spec.meshRef);
    const valid = mesh ? this.deps.governance.tally(proposal, mesh, stored).valid : [];
    const root = anchor.ballotsRoot ?? ballotTree(valid).root;
    const record = await chain.anchor(anchor.contentHash, root, result, status.tally?.ballots ?? valid.length, async (txHash) => {
      // Recorded before mining: after a restart the transaction is found, not sent again.
      status.anchor = { ...anchor, state: 'Sent', txHash };
      await applyStatus(this.deps.client, MeshOsResources.proposal, key, { ...status, conditions: status.conditions }, GOVERNANCE_FIELD_MANAGER);
    }, anchor.contract);
    status.anchor = { ...anchor, state: 'Anchored', chainId: record.chainId, contract: record.contract.toLowerCase(), ballotsRoot: record.ballotsRoot, txHash: record.txHash, blockNumber: record.blockNumber, outcome: record.outcome };
    await this.write(key, proposal, status, {
      reason: 'Anchored',
      action: 'Anchor',
      note: `Anchored ${record.outcome} on chain ${record.chainId} in transaction ${record.txHash} (block ${record.blockNumber}), ballots root ${record.ballotsRoot}`,
      conditions: [cond(ProposalCondition.Anchored, true, 'Anchored', `Transaction ${record.txHash} in block ${record.blockNumber} on chain ${record.chainId}`)],
    }, logger);
    return 'written';
  }

  /** Applies the approved change to the Mesh (server-side apply) and records it in the Mesh status. */
  private async execute(key: string, proposal: Proposal, mesh: Mesh, status: GovernedStatus, cond: (type: string, ok: boolean, reason: string, message: string) => ConditionInput, logger: Logger): Promise<ReconcileResult | void> {
    const meshName = mesh.metadata.name ?? '';
    const impact = impactOf(proposal);
    const fail = async (message: string): Promise<void> => {
      status.phase = 'Failed';
      await this.write(key, proposal, status, { reason: 'ExecutionFailed', action: 'Execute', note: message, warning: true, conditions: [cond(ProposalCondition.Executed, false, 'ExecutionFailed', message), cond(ProposalCondition.Ready, false, 'ExecutionFailed', message)] }, logger);
    };
    if (impact && impact.invalid.length > 0) return fail(`The change cannot be applied to mesh ${meshName}: ${impact.invalid.join('; ')}`);
    const live = await this.deps.client.get<Mesh>(MeshOsResources.mesh, undefined, meshName);
    const applied = (live.status?.appliedProposals ?? []) as { name: string; namespace: string; appliedAt: string }[];
    const already = applied.find((a) => a.name === proposal.metadata.name && a.namespace === proposal.metadata.namespace);
    let appliedAt = already?.appliedAt;
    if (!already) {
      const patch = structuredClone(proposal.spec.change.patch) as { spec?: Record<string, unknown> };
      const spec = (patch.spec ??= {});
      // The trust module phases new weights in over spec.trust.transitionPeriod.
      if (proposal.spec.transitionPeriod && impact?.touches.trustWeights) {
        spec['trust'] = { ...(spec['trust'] as Record<string, unknown> | undefined), transitionPeriod: proposal.spec.transitionPeriod };
      }
      const problems = patchedMesh(live, patch).spec.did !== live.spec.did ? ['spec.did is immutable'] : [];
      if (problems.length) return fail(problems.join('; '));
      try {
        await this.deps.client.patch(MeshOsResources.mesh, undefined, meshName, { apiVersion: 'meshos.dev/v1alpha1', kind: 'Mesh', metadata: { name: meshName }, spec }, { patchType: 'apply', fieldManager: proposalFieldManager(proposal), force: true });
      } catch (error) {
        return fail(`Applying the change to mesh ${meshName} failed: ${getErrorMessage(error)}`);
      }
      appliedAt = rfc3339(this.deps.now());
      const entry = { name: proposal.metadata.name ?? '', namespace: proposal.metadata.namespace ?? '', appliedAt };
      await applyStatus(this.deps.client, MeshOsResources.mesh, meshName, { appliedProposals: [...applied, entry] }, MESH_STATUS_FIELD_MANAGER);
    }
    status.phase = 'Executed';
    status.executedAt = appliedAt ?? rfc3339(this.deps.now());
    const transition = proposal.spec.transitionPeriod && impact?.touches.trustWeights ? `; new trust weights phase in over ${proposal.spec.transitionPeriod}` : '';
    await this.write(key, proposal, status, {
      reason: 'Executed',
      action: 'Execute',
      note: `Applied the change to mesh ${meshName} (server-side apply as ${proposalFieldManager(proposal)})${transition}`,
      conditions: [cond(ProposalCondition.Executed, true, 'Executed', `Applied to mesh ${meshName} at ${status.executedAt}${transition}`), cond(ProposalCondition.Ready, true, 'Executed', `Applied to mesh ${meshName}`)],
    }, logger);
  }
}
