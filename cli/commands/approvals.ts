// `mesh approve <action>` and `mesh override <action> --stop|--force`: a human's say over a held
// autonomous action, written as annotations on the action's Proposal for the operator to act on.
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Proposal } from '../../crds/types.js';
import { ACTION_APPROVAL_LABEL, APPROVAL_PREFIX, OVERRIDE_ANNOTATION, OVERRIDE_BY_ANNOTATION, approverKey, readApprovalProposal, type ApprovalState } from '../../kernel/approvals.js';
import type { KubeClient } from '../../operator/kube/client.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import { UsageError, type CliIo } from '../io.js';
import { ObjectError, addKubeOptions, objectRef, withKube, type KubeFlags } from '../kube.js';

/** The approval Proposal of an action, by its id or an unambiguous prefix of it. */
export async function findActionProposal(client: KubeClient, actionId: string): Promise<Proposal> {
  if (!/^[a-z0-9-]{4,}$/.test(actionId)) throw new UsageError(`action id "${actionId}" must be at least 4 characters of a-z, 0-9 and - (see mesh log)`);
  const list = await client.list<Proposal>(MeshOsResources.proposal, undefined, { labelSelector: `${ACTION_APPROVAL_LABEL}=true` });
  const matches = list.items.filter((p) => readApprovalProposal(p)?.action.id.startsWith(actionId));
  if (matches.length === 0) throw new Error(`no held action ${actionId}: it was never held, or its Proposal was deleted (mesh log --outcome held lists held actions)`);
  if (matches.length > 1) throw new UsageError(`action id prefix "${actionId}" matches ${matches.length} actions; give more characters`);
  return matches[0] as Proposal;
}

const currentUser = (): string => process.env['USER'] ?? userInfo().username;

/**
 * Finds the held action's Proposal, lets `decide` check the action and name the annotations to
 * add, and writes them; returns what `decide` returned so the caller can report it.
 */
async function annotateHeldAction<T>(
  flags: Partial<KubeFlags>,
  actionId: string,
  decide: (state: ApprovalState) => { annotations: Record<string, string>; result: T },
): Promise<T> {
  return withKube(flags, async ({ client }) => {
    const proposal = await findActionProposal(client, actionId);
    const state = readApprovalProposal(proposal);
    if (state?.state !== 'held') throw new Error(`action ${state?.action.id ?? actionId} is no longer held (state: ${state?.state ?? 'unknown'})`);
    const { annotations, result } = decide(state);
    try {
      await client.patch(MeshOsResources.proposal, proposal.metadata.namespace, proposal.metadata.name ?? '', { metadata: { annotations } });
    } catch (error) {
      throw new ObjectError(objectRef('Proposal', proposal.metadata.namespace, proposal.metadata.name), error);
    }
    return result;
  });
}

interface ApproveFlags extends Partial<KubeFlags> {
  as?: string;
  coordinator?: boolean;
}

export async function approve(actionId: string, flags: ApproveFlags, io: CliIo): Promise<void> {
  const kind = flags.coordinator ? 'coordinator' : 'human';
  const who = flags.as ?? currentUser();
  const action = await annotateHeldAction(flags, actionId, (state) => {
    if (kind === 'human' && !state.approvers.human) throw new UsageError(`action ${state.action.id} needs ${state.approvers.coordinators} coordinator approvals; a human cannot approve it (mesh override --force can)`);
    if (kind === 'coordinator' && state.approvers.coordinators === 0) throw new UsageError(`action ${state.action.id} may only be approved by a human`);
    return { annotations: { [`${APPROVAL_PREFIX}${approverKey(who)}`]: `${kind}@${new Date().toISOString()}` }, result: state.action };
  });
  io.stdout.write(`Approved action ${action.id} (${action.module}/${action.kind} on ${action.target.kind}/${action.target.name}) as ${kind} ${who}\n`);
}

interface OverrideFlags extends Partial<KubeFlags> {
  stop?: boolean;
  force?: boolean;
  as?: string;
}

export async function override(actionId: string, flags: OverrideFlags, io: CliIo): Promise<void> {
  if (flags.stop === flags.force) throw new UsageError('give exactly one of --stop and --force');
  const mode = flags.stop ? 'stop' : 'force';
  const who = flags.as ?? currentUser();
  const action = await annotateHeldAction(flags, actionId, (state) => ({
    annotations: { [OVERRIDE_ANNOTATION]: mode, [OVERRIDE_BY_ANNOTATION]: who },
    result: state.action,
  }));
  io.stdout.write(`${mode === 'stop' ? 'Stopped' : 'Forced'} action ${action.id} (${action.module}/${action.kind}) as ${who}\n`);
}

export function registerApprovalCommands(program: Command, io: CliIo): void {
  addKubeOptions(
    program
      .command('approve <action-id>')
      .description('Approve an autonomous action held above the risk ceiling (id or prefix, from mesh log)')
      .option('--as <name>', 'who approves (default: $USER)')
      .option('--coordinator', 'approve as a coordinator (the mesh may require several distinct coordinators)'),
    { namespaced: false, outputs: [] },
  )
    .addHelpText('after', '\nExample:\n  mesh approve 3f2a9c1e --as alice')
    .action(async (actionId: string, flags: ApproveFlags) => approve(actionId, flags, io));
  addKubeOptions(
    program
      .command('override <action-id>')
      .description('A human override of a held action: --stop drops it, --force runs it regardless of policy')
      .option('--stop', 'drop the action')
      .option('--force', 'run the action now')
      .option('--as <name>', 'who overrides (default: $USER)'),
    { namespaced: false, outputs: [] },
  )
    .addHelpText('after', '\nExample:\n  mesh override 3f2a9c1e --stop')
    .action(async (actionId: string, flags: OverrideFlags) => override(actionId, flags, io));
}
