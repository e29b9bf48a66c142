// `mesh proposals`: a table of Proposals with phase, time left, ballots, approval and anchor.
import type { Command } from 'commander';
import type { Proposal } from '../../crds/types.js';
import { anchorStatus, tallyStatus } from '../../governance/service.js';
import { KubeClient } from '../../operator/kube/client.js';
import { loadClusterConnection } from '../../operator/kube/config.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import { UsageError, type CliIo } from '../io.js';

interface ProposalsFlags {
  namespace?: string;
  kubeconfig?: string;
  output: string;
}

export function timeLeft(endsAt: string | undefined, now: Date): string {
  if (!endsAt) return '-';
  const seconds = Math.round((Date.parse(endsAt) - now.getTime()) / 1000);
  if (seconds <= 0) return 'closed';
  if (seconds >= 86_400) return `${Math.floor(seconds / 86_400)}d${Math.floor((seconds % 86_400) / 3600)}h`;
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

export function proposalRows(proposals: readonly Proposal[], now: Date): string[][] {
  return proposals.map((p) => {
    const tally = tallyStatus(p);
    const anchor = anchorStatus(p);
    return [
      p.metadata.namespace ?? '',
      p.metadata.name ?? '',
      p.spec.meshRef,
      p.status?.phase ?? 'Analyzing',
      p.status?.phase === 'Voting' ? timeLeft(p.status.votingEndsAt, now) : '-',
      tally?.result ? String(tally.result.human.ballots) : '-',
      tally?.result ? `${tally.result.approvalPercent}%` : '-',
      anchor?.state === 'Anchored' ? `${anchor.chainId}/${(anchor.txHash ?? '').slice(0, 10)}` : (anchor?.state ?? '-'),
      p.spec.title,
    ];
  });
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export async function listProposals(flags: ProposalsFlags, io: CliIo): Promise<void> {
  if (!['table', 'json'].includes(flags.output)) throw new UsageError(`-o/--output must be table or json, got "${flags.output}"`);
  const client = new KubeClient(await loadClusterConnection(flags.kubeconfig));
  try {
    const list = await client.list<Proposal>(MeshOsResources.proposal, flags.namespace);
    const proposals = list.items.filter((p) => p.metadata.labels?.['meshos.dev/action-approval'] !== 'true');
    if (flags.output === 'json') {
      io.stdout.write(`${JSON.stringify(proposals.map((p) => ({ namespace: p.metadata.namespace, name: p.metadata.name, mesh: p.spec.meshRef, title: p.spec.title, phase: p.status?.phase ?? 'Analyzing', votingEndsAt: p.status?.votingEndsAt ?? null, tally: tallyStatus(p)?.result ?? null, anchor: anchorStatus(p) ?? null })), null, 2)}\n`);
      return;
    }
    if (proposals.length === 0) {
      io.stdout.write('No proposals.\n');
      return;
    }
    io.stdout.write(formatTable(['NAMESPACE', 'NAME', 'MESH', 'PHASE', 'TIME LEFT', 'BALLOTS', 'APPROVAL', 'ANCHOR', 'TITLE'], proposalRows(proposals, new Date())));
  } finally {
    await client.destroy();
  }
}

export function registerProposalsCommand(program: Command, io: CliIo): void {
  program
    .command('proposals')
    .description('List governance Proposals: phase, time left, ballots, approval and anchor')
    .option('-n, --namespace <ns>', 'only this namespace (default: all)')
    .option('-o, --output <format>', 'table or json', 'table')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .action((flags: ProposalsFlags) => listProposals(flags, io));
}
