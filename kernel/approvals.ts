// Held actions live in the cluster as Proposals, so a human sees them with kubectl, approves them
// with `mesh approve` (or governance votes), overrides them with `mesh override`, and an operator
// restart or leader change loses none. Approvals and overrides are annotations on that Proposal.
import { createHash } from 'node:crypto';
import type { Proposal } from '../crds/types.js';
import type { Action } from './contract.js';
import type { Approval } from './loop.js';
import type { Approvers } from './policy.js';

export const ACTION_ID_LABEL = 'meshos.dev/action-id';
export const ACTION_APPROVAL_LABEL = 'meshos.dev/action-approval';
export const ACTION_ANNOTATION = 'meshos.dev/action';
export const APPROVERS_ANNOTATION = 'meshos.dev/approvers';
export const ACTION_STATE_ANNOTATION = 'meshos.dev/action-state';
export const OVERRIDE_ANNOTATION = 'meshos.dev/override';
export const OVERRIDE_BY_ANNOTATION = 'meshos.dev/override-by';
/** `approval.meshos.dev/<who>: human|coordinator` */
export const APPROVAL_PREFIX = 'approval.meshos.dev/';
export const KERNEL_DID = 'did:mesh:meshos:kernel';

/** Annotation-safe form of an approver's name (a qualified name is at most 63 characters). */
export function approverKey(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  if (cleaned === '') throw new Error(`approver name "${name}" has no letters or digits`);
  return cleaned.length <= 63 ? cleaned : `${cleaned.slice(0, 50)}-${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}

export function approvalProposalName(actionId: string): string {
  return `action-${actionId.replace(/[^a-z0-9]/g, '').slice(0, 12)}`;
}

/** The Proposal that stands for a held action. Pure. */
export function approvalProposal(action: Action, approvers: Approvers, fallbackNamespace: string): Proposal {
  const target = `${action.target.kind}/${action.target.namespace ? `${action.target.namespace}/` : ''}${action.target.name}`;
  const who = [approvers.human ? 'a human (mesh approve)' : '', approvers.coordinators ? `${approvers.coordinators} coordinators` : ''].filter(Boolean).join(' or ');
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Proposal',
    metadata: {
      name: approvalProposalName(action.id),
      namespace: action.target.namespace ?? fallbackNamespace,
      labels: { [ACTION_ID_LABEL]: action.id, [ACTION_APPROVAL_LABEL]: 'true' },
      annotations: {
        [ACTION_ANNOTATION]: JSON.stringify(action),
        [APPROVERS_ANNOTATION]: JSON.stringify(approvers),
        [ACTION_STATE_ANNOTATION]: 'held',
      },
    },
    spec: {
      meshRef: action.target.mesh,
      title: `Approve ${action.module}/${action.kind} on ${target}`.slice(0, 200),
      summary: `${action.reason} Risk ${action.risk} is above the mesh's risk ceiling; needs ${who}. Action ${action.id}.`,
      proposer: { did: KERNEL_DID, kind: 'ai' },
      critical: action.risk >= 0.9,
      change: { patch: {} },
    },
  };
}

export interface ApprovalState {
  action: Action;
  approvers: Approvers;
  approvals: Approval[];
  override?: { mode: 'stop' | 'force'; by: string };
  state: string;
}

/** Reads a held action, its approvals and any override from its Proposal. Undefined when it is not one. */
export function readApprovalProposal(proposal: Proposal): ApprovalState | undefined {
  const annotations = proposal.metadata.annotations ?? {};
  if (proposal.metadata.labels?.[ACTION_APPROVAL_LABEL] !== 'true') return undefined;
  const actionText = annotations[ACTION_ANNOTATION];
  const approversText = annotations[APPROVERS_ANNOTATION];
  if (!actionText || !approversText) return undefined;
  let action: Action;
  let approvers: Approvers;
  try {
    action = JSON.parse(actionText) as Action;
    approvers = JSON.parse(approversText) as Approvers;
  } catch {
    return undefined;
  }
  const approvals: Approval[] = [];
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(APPROVAL_PREFIX)) continue;
    const [kind, at = ''] = value.split('@');
    if (kind === 'human' || kind === 'coordinator') approvals.push({ by: key.slice(APPROVAL_PREFIX.length), kind, at });
  }
  const state: ApprovalState = { action, approvers, approvals, state: annotations[ACTION_STATE_ANNOTATION] ?? 'held' };
  const mode = annotations[OVERRIDE_ANNOTATION];
  if (mode === 'stop' || mode === 'force') state.override = { mode, by: annotations[OVERRIDE_BY_ANNOTATION] ?? 'unknown' };
  return state;
}
