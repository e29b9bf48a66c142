// `mesh proposals`: a table of Proposals with phase, time left, ballots, approval and anchor.
import type { Command } from 'commander';
import type { Proposal } from '../../crds/types.js';
import { anchorStatus, tallyStatus } from '../../governance/service.js';
import { ACTION_APPROVAL_LABEL } from '../../kernel/approvals.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import type { CliIo } from '../io.js';
import { addKubeOptions, withKube, type KubeFlags } from '../kube.js';
import { age, printResult, type Column } from '../output.js';

type ProposalsFlags = KubeFlags;

export function timeLeft(endsAt: string | undefined, now: Date): string {
  if (!endsAt) return '-';
  const seconds = Math.round((Date.parse(endsAt) - now.getTime()) / 1000);
  if (seconds <= 0) return 'closed';
  if (seconds >= 86_400) return `${Math.floor(seconds / 86_400)}d${Math.floor((seconds % 86_400) / 3600)}h`;
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

export interface ProposalRow {
  namespace: string;
  name: string;
  mesh: string;
  phase: string;
  timeLeft: string;
  ballots: string;
  approval: string;
  anchor: string;
  title: string;
  proposer: string;
  age: string;
}

export function proposalRows(proposals: readonly Proposal[], now: Date): ProposalRow[] {
  return proposals.map((p) => {
    const tally = tallyStatus(p);
    const anchor = anchorStatus(p);
    return {
      namespace: p.metadata.namespace ?? '',
      name: p.metadata.name ?? '',
      mesh: p.spec.meshRef,
      phase: p.status?.phase ?? 'Analyzing',
      timeLeft: p.status?.phase === 'Voting' ? timeLeft(p.status.votingEndsAt, now) : '-',
      ballots: tally?.result ? String(tally.result.human.ballots) : '-',
      approval: tally?.result ? `${tally.result.approvalPercent}%` : '-',
      anchor: anchor?.state === 'Anchored' ? `${anchor.chainId}/${(anchor.txHash ?? '').slice(0, 10)}` : (anchor?.state ?? '-'),
      title: p.spec.title,
      proposer: p.spec.proposer.did,
      age: age(p.metadata.creationTimestamp, now.getTime()),
    };
  });
}

export const PROPOSAL_COLUMNS: Column<ProposalRow>[] = [
  { header: 'NAMESPACE', value: (r) => r.namespace },
  { header: 'NAME', value: (r) => r.name },
  { header: 'MESH', value: (r) => r.mesh },
  { header: 'PHASE', value: (r) => r.phase, colored: true },
  { header: 'TIME LEFT', value: (r) => r.timeLeft },
  { header: 'BALLOTS', value: (r) => r.ballots },
  { header: 'APPROVAL', value: (r) => r.approval },
  { header: 'ANCHOR', value: (r) => r.anchor },
  { header: 'PROPOSER', value: (r) => r.proposer, wide: true },
  { header: 'AGE', value: (r) => r.age, wide: true },
  { header: 'TITLE', value: (r) => r.title },
];

export async function listProposals(flags: ProposalsFlags, io: CliIo): Promise<void> {
  await withKube(
    flags,
    async ({ client, scope }) => {
      const list = await client.list<Proposal>(MeshOsResources.proposal, scope);
      // Held autonomous actions are Proposals too; mesh log and mesh approve show those.
      const proposals = list.items.filter((p) => p.metadata.labels?.[ACTION_APPROVAL_LABEL] !== 'true');
      printResult(io, {
        format: flags.output,
        rows: proposalRows(proposals, new Date()),
        columns: PROPOSAL_COLUMNS,
        data: proposals.map((p) => ({ namespace: p.metadata.namespace, name: p.metadata.name, mesh: p.spec.meshRef, title: p.spec.title, phase: p.status?.phase ?? 'Analyzing', votingEndsAt: p.status?.votingEndsAt ?? null, tally: tallyStatus(p)?.result ?? null, anchor: anchorStatus(p) ?? null })),
        empty: 'No proposals.',
      });
    },
    { allByDefault: true },
  );
}

export function registerProposalsCommand(program: Command, io: CliIo): void {
  addKubeOptions(program.command('proposals').description('List governance Proposals: phase, time left, ballots, approval and anchor (every namespace unless -n)'), {
    namespaceHelp: 'only this namespace (default: every namespace)',
  })
    .addHelpText('after', '\nExamples:\n  mesh proposals\n  mesh proposals -n meshos-demo -o wide')
    .action((flags: ProposalsFlags) => listProposals(flags, io));
}
