import type { Proposal } from '../crds/types.js';
import type { KubeClient } from '../operator/kube/client.js';
import { getErrorMessage, isAlreadyExists, isNotFound } from '../operator/kube/errors.js';
import { MeshOsResources } from '../operator/kube/resources.js';
import type { Informer } from '../operator/informer/informer.js';
import type { Logger } from '../operator/log.js';
import { ACTION_STATE_ANNOTATION, approvalProposal, approvalProposalName, readApprovalProposal } from './approvals.js';
import type { DecisionRecord } from './decision-log.js';
import type { KernelLoop } from './loop.js';

const finalStates: Partial<Record<DecisionRecord['outcome'], string>> = {
  approved: 'approved',
  executed: 'executed',
  failed: 'failed',
  overridden: 'overridden',
};

/**
 * Glue between the loop's held actions and their Proposals: creates a Proposal when an action
 * is held, feeds the approvals and overrides written on it back to the loop, and records the
 * action's state on it. Runs only while this replica leads.
 */
export class ApprovalBridge {
  private readonly proposalNamespaces = new Map<string, string>();

  constructor(
    private readonly deps: {
      client: KubeClient;
      loop: KernelLoop;
      proposals: Informer<Proposal>;
      /** Namespace for Proposals about cluster-scoped targets (Nodes, Meshes). */
      namespace: string;
      logger: Logger;
    },
  ) {}

  /** Decision-log listener. */
  onDecision(record: DecisionRecord): void {
    if (record.outcome === 'held') {
      const held = this.deps.loop.heldActions().find((h) => h.action.id === record.actionId);
      if (!held) return;
      const proposal = approvalProposal(held.action, held.approvers, this.deps.namespace);
      this.proposalNamespaces.set(record.actionId, proposal.metadata.namespace ?? this.deps.namespace);
      this.deps.client.create(MeshOsResources.proposal, proposal).catch((error: unknown) => {
        if (!isAlreadyExists(error)) this.deps.logger.warn({ action: record.actionId, error: getErrorMessage(error) }, 'Failed to create the approval Proposal of a held action');
      });
      return;
    }
    const state = finalStates[record.outcome];
    const namespace = this.proposalNamespaces.get(record.actionId);
    if (!state || !namespace) return;
    if (state !== 'approved') this.proposalNamespaces.delete(record.actionId);
    this.deps.client
      .patch(MeshOsResources.proposal, namespace, approvalProposalName(record.actionId), { metadata: { annotations: { [ACTION_STATE_ANNOTATION]: state } } })
      .catch((error: unknown) => {
        if (!isNotFound(error)) this.deps.logger.warn({ action: record.actionId, error: getErrorMessage(error) }, 'Failed to record the state of a held action');
      });
  }

  /** Proposal informer handler: approvals and overrides written by `mesh approve` / `mesh override`. */
  onProposal(proposal: Proposal): void {
    const state = readApprovalProposal(proposal);
    if (!state || state.state !== 'held') return;
    const { loop } = this.deps;
    const id = state.action.id;
    if (!loop.isHeld(id)) {
      loop.restoreHeld(state.action, state.approvers);
      this.proposalNamespaces.set(id, proposal.metadata.namespace ?? this.deps.namespace);
    }
    const run = async (): Promise<void> => {
      if (state.override) {
        await loop.override(id, state.override.mode, state.override.by);
        return;
      }
      for (const approval of state.approvals) {
        if (!loop.isHeld(id)) return;
        await loop.approve(id, approval.by, approval.kind);
      }
    };
    run().catch((error: unknown) => this.deps.logger.warn({ action: id, error: getErrorMessage(error) }, `Ignored an approval of action ${id}`));
  }

  /** After a restart or leader change: every still-held action comes back from its Proposal. */
  restoreAll(): void {
    for (const proposal of this.deps.proposals.store.list()) this.onProposal(proposal);
  }
}
