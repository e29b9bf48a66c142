// `mesh log`: the kernel's decision log, as recorded in Kubernetes Events (reporting controller
// meshos.dev/kernel), so it works against any cluster kubectl can reach.
import type { Command } from 'commander';
import { KERNEL_REPORTER } from '../../kernel/decision-events.js';
import type { KubeObject } from '../../operator/kube/object.js';
import { CoreResources } from '../../operator/kube/resources.js';
import { parseCount, type CliIo } from '../io.js';
import { addKubeOptions, withKube, type KubeFlags } from '../kube.js';
import { printResult, toneOf, type Column } from '../output.js';

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

const LOG_COLUMNS: Column<DecisionRow>[] = [
  { header: 'TIME', value: (r) => r.time.replace(/\.\d+Z$/, 'Z') },
  { header: 'MODULE', value: (r) => r.module },
  { header: 'ACTION', value: (r) => r.kind },
  { header: 'TARGET', value: (r) => r.target },
  { header: 'OUTCOME', value: (r) => r.outcome, tone: (r) => (r.type === 'Warning' ? 'bad' : toneOf(r.outcome.toLowerCase())) },
  { header: 'TYPE', value: (r) => r.type, wide: true },
  { header: 'REASON', value: (r) => r.reason },
];

interface LogFlags extends KubeFlags {
  module?: string;
  outcome?: string;
  target?: string;
  limit: number;
}

export async function showLog(flags: LogFlags, io: CliIo): Promise<void> {
  await withKube(
    flags,
    async ({ client, scope }) => {
      const events: KernelEvent[] = [];
      let continueToken: string | undefined;
      do {
        const page = await client.list<KernelEvent>(CoreResources.event, scope, { limit: 500, ...(continueToken ? { continue: continueToken } : {}) });
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
      printResult(io, { format: flags.output, rows, columns: LOG_COLUMNS, empty: 'No kernel decisions recorded.' });
    },
    { allByDefault: true },
  );
}

export function registerLogCommand(program: Command, io: CliIo): void {
  addKubeOptions(
    program
      .command('log')
      .description("Show the kernel's decision log: every proposed, allowed, blocked, held, executed, verified or rolled-back action (every namespace unless -n)")
      .option('--module <name>', 'only this kernel module (scheduler, healing, trust, ...)')
      .option('--outcome <outcome>', 'only this outcome (proposed, allowed, blocked, held, approved, executed, failed, verified, rolled-back, overridden)')
      .option('--target <name>', 'only decisions about this object name')
      .option('--limit <n>', 'newest N decisions', parseCount, 100),
  )
    .addHelpText('after', '\nExamples:\n  mesh log --module healing --outcome rolled-back\n  mesh log -n meshos-demo -o json')
    .action(async (flags: LogFlags) => showLog(flags, io));
}
