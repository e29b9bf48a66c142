// `mesh log`: the kernel's decision log, as recorded in Kubernetes Events (reporting controller
// meshos.dev/kernel), so it works against any cluster kubectl can reach.
import type { Command } from 'commander';
import { KERNEL_REPORTER } from '../../kernel/decision-events.js';
import { KubeClient } from '../../operator/kube/client.js';
import { loadClusterConnection } from '../../operator/kube/config.js';
import type { KubeObject } from '../../operator/kube/object.js';
import { CoreResources } from '../../operator/kube/resources.js';
import { UsageError, parseCount, type CliIo } from '../io.js';

interface KernelEvent extends KubeObject {
  eventTime?: string;
  reportingController?: string;
  reason?: string;
  action?: string;
  note?: string;
  type?: string;
  regarding?: { kind?: string; name?: string; namespace?: string };
}

export interface DecisionRow {
  time: string;
  module: string;
  kind: string;
  target: string;
  outcome: string;
  type: string;
  reason: string;
}

/** Turns kernel Events into log rows, oldest first. Pure. */
export function decisionRows(events: readonly KernelEvent[]): DecisionRow[] {
  return events
    .filter((e) => e.reportingController === KERNEL_REPORTER)
    .map((e) => {
      const [module = '', kind = ''] = (e.action ?? '').split('/');
      const target = `${e.regarding?.kind ?? ''}/${e.regarding?.namespace ? `${e.regarding.namespace}/` : ''}${e.regarding?.name ?? ''}`;
      return {
        time: e.eventTime ?? e.metadata.creationTimestamp ?? '',
        module,
        kind,
        target,
        outcome: (e.reason ?? '').replace(/^Action/, ''),
        type: e.type ?? 'Normal',
        reason: e.note ?? '',
      };
    })
    .sort((a, b) => a.time.localeCompare(b.time));
}

function table(rows: DecisionRow[]): string {
  const header = ['TIME', 'MODULE', 'ACTION', 'TARGET', 'OUTCOME', 'REASON'];
  const cells = rows.map((r) => [r.time.replace(/\.\d+Z$/, 'Z'), r.module, r.kind, r.target, r.outcome, r.reason]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string => c.map((cell, i) => (i < c.length - 1 ? cell.padEnd((widths[i] ?? 0) + 2) : cell)).join('');
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}

interface LogFlags {
  kubeconfig?: string;
  namespace?: string;
  allNamespaces?: boolean;
  module?: string;
  outcome?: string;
  target?: string;
  limit: number;
  output: string;
}

export async function showLog(flags: LogFlags, io: CliIo): Promise<void> {
  if (!['table', 'json'].includes(flags.output)) throw new UsageError(`-o/--output must be table or json, got "${flags.output}"`);
  const client = new KubeClient(await loadClusterConnection(flags.kubeconfig));
  try {
    const namespace = flags.allNamespaces ? undefined : flags.namespace;
    const events: KernelEvent[] = [];
    let continueToken: string | undefined;
    do {
      const page = await client.list<KernelEvent>(CoreResources.event, namespace, { limit: 500, ...(continueToken ? { continue: continueToken } : {}) });
      events.push(...page.items);
      continueToken = page.metadata.continue || undefined;
    } while (continueToken);
    let rows = decisionRows(events).filter(
      (r) =>
        (flags.module === undefined || r.module === flags.module) &&
        (flags.outcome === undefined || r.outcome.toLowerCase() === flags.outcome.toLowerCase().replace('-', '')) &&
        (flags.target === undefined || r.target.endsWith(`/${flags.target}`) || r.target.includes(`/${flags.target}`)),
    );
    rows = rows.slice(-flags.limit);
    io.stdout.write(flags.output === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : rows.length ? table(rows) : 'No kernel decisions recorded.\n');
  } finally {
    await client.destroy();
  }
}

export function registerLogCommand(program: Command, io: CliIo): void {
  program
    .command('log')
    .description("Show the kernel's decision log: every proposed, allowed, blocked, held, executed, verified or rolled-back action")
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('-n, --namespace <ns>', 'only decisions about objects in this namespace')
    .option('-A, --all-namespaces', 'decisions in every namespace (the default when -n is not given)')
    .option('--module <name>', 'only this kernel module (scheduler, healing, trust, ...)')
    .option('--outcome <outcome>', 'only this outcome (proposed, allowed, blocked, held, approved, executed, failed, verified, rolled-back, overridden)')
    .option('--target <name>', 'only decisions about this object name')
    .option('--limit <n>', 'newest N decisions', parseCount, 100)
    .option('-o, --output <format>', 'table or json', 'table')
    .addHelpText('after', '\nExample:\n  mesh log --module healing --outcome rolled-back')
    .action(async (flags: LogFlags) => showLog(flags, io));
}
