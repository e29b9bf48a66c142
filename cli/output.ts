// The one printer of the `mesh` command: `-o table|wide|json|yaml` like kubectl, and colour only
// when stdout is a terminal (never when piped, with NO_COLOR set, or TERM=dumb).
import { Option } from 'commander';
import { stringify } from 'yaml';
import type { CliIo } from './io.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The `-o, --output` option, limited to the formats a command supports; a bad value is a usage error (exit 2). */
export function outputOption(formats: readonly OutputFormat[] = OUTPUT_FORMATS): Option {
  return new Option('-o, --output <format>', 'output format').choices(formats).default('table');
}

/** True when text written to `stream` may carry ANSI colour (https://no-color.org). */
export function colorEnabled(stream: unknown, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  return typeof stream === 'object' && stream !== null && (stream as { isTTY?: unknown }).isTTY === true;
}

export type Tone = 'good' | 'warn' | 'bad' | 'dim' | 'bold' | 'plain';

const SGR: Record<Tone, string> = { good: '32', warn: '33', bad: '31', dim: '2', bold: '1', plain: '' };

/** Wraps text in the tone's ANSI colour when colour is on. */
export function paint(text: string, tone: Tone, color: boolean): string {
  return color && tone !== 'plain' && text !== '' ? `\x1b[${SGR[tone]}m${text}\x1b[0m` : text;
}

/** The tone of a phase or condition word, shared by every command (Ready is good, Failed is bad). */
export function toneOf(word: string | undefined): Tone {
  switch (word) {
    case 'Ready':
    case 'True':
    case 'Executed':
    case 'Approved':
    case 'allowed':
    case 'executed':
    case 'verified':
    case 'running':
      return 'good';
    case 'Pending':
    case 'Progressing':
    case 'Voting':
    case 'Analyzing':
    case 'Unknown':
    case 'held':
    case 'proposed':
      return 'warn';
    case 'Degraded':
    case 'Failed':
    case 'Quarantined':
    case 'Rejected':
    case 'Vetoed':
    case 'False':
    case 'NotReady':
    case 'blocked':
    case 'failed':
    case 'rolled-back':
      return 'bad';
    default:
      return 'plain';
  }
}

/** A table column: its header, how to read a row, and whether it only shows with `-o wide`. */
export interface Column<T> {
  header: string;
  value: (row: T) => string;
  wide?: boolean;
  /** Colour of a cell (default: by toneOf of its value when `colored` is set). */
  tone?: (row: T, value: string) => Tone;
  colored?: boolean;
}

// Visible width, ignoring ANSI escapes.
// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const ANSI_SGR = /\x1b\[[0-9;]*m/g;
const visibleLength = (text: string): number => text.replace(ANSI_SGR, '').length;

/** Renders rows as kubectl does: upper-case headers, columns padded by two spaces, no trailing blanks. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], options: { wide?: boolean; color?: boolean } = {}): string {
  const shown = columns.filter((c) => options.wide === true || c.wide !== true);
  const cells = rows.map((row) => shown.map((c) => c.value(row)));
  const widths = shown.map((c, i) => Math.max(c.header.length, ...cells.map((r) => visibleLength(r[i] ?? ''))));
  const line = (values: string[], tones: Tone[]): string =>
    values
      .map((v, i) => {
        const painted = paint(v, tones[i] ?? 'plain', options.color === true);
        return i < values.length - 1 ? painted + ' '.repeat((widths[i] ?? 0) - visibleLength(v) + 2) : painted;
      })
      .join('')
      .trimEnd();
  const out = [line(shown.map((c) => c.header), shown.map(() => 'plain'))];
  rows.forEach((row, r) => {
    const values = cells[r] ?? [];
    const tones = shown.map((c, i) => (c.tone ? c.tone(row, values[i] ?? '') : c.colored === true ? toneOf(values[i]) : 'plain'));
    out.push(line(values, tones));
  });
  return `${out.join('\n')}\n`;
}

/** Serialises data for `-o json` (two-space indent) or `-o yaml`. */
export function serialize(data: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : stringify(data, { lineWidth: 0 });
}

export interface PrintRequest<T> {
  format: OutputFormat;
  rows: readonly T[];
  columns: readonly Column<T>[];
  /** What `-o json|yaml` prints (default: the rows). Kubernetes objects print as a kind: List. */
  data?: unknown;
  /** Printed (to stderr, like kubectl's "No resources found") when a table has no rows. */
  empty?: string;
}

/** Prints a result in the chosen format: tables to stdout with colour on a terminal, data as JSON or YAML. */
export function printResult<T>(io: CliIo, request: PrintRequest<T>): void {
  if (request.format === 'json' || request.format === 'yaml') {
    io.stdout.write(serialize(request.data ?? request.rows, request.format));
    return;
  }
  if (request.rows.length === 0 && request.empty !== undefined) {
    io.stderr.write(`${request.empty}\n`);
    return;
  }
  io.stdout.write(renderTable(request.rows, request.columns, { wide: request.format === 'wide', color: colorEnabled(io.stdout) }));
}

/** Kubernetes objects as `kubectl get -o json` prints several: a v1 List. */
export function asList(items: readonly unknown[]): { apiVersion: 'v1'; kind: 'List'; items: readonly unknown[] } {
  return { apiVersion: 'v1', kind: 'List', items };
}

/** Age the way kubectl prints it: 45s, 12m, 3h, 5d. */
export function age(timestamp: string | undefined, now: number = Date.now()): string {
  if (timestamp === undefined) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (Number.isNaN(seconds)) return '<unknown>';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
