// Prometheus naming rules for every metric the project defines, checked by reading the source, so
// a metric added anywhere (scheduler, healing, discovery, ...) is held to them in CI.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface MetricDefinition {
  file: string;
  type: 'Counter' | 'Gauge' | 'Histogram' | 'Summary';
  name: string;
  labels: string[];
}

/** Label names whose values have no bound (object names, ids, messages): they would explode series. */
export const UNBOUNDED_LABELS = new Set(['uid', 'id', 'name', 'object', 'key', 'pod', 'node', 'agent', 'proposal', 'target', 'message', 'error', 'path', 'url', 'token', 'caller', 'action_id', 'actionId', 'query']);

function* sources(dir: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) yield path;
  }
}

/** Every `new Counter|Gauge|Histogram|Summary({ name: '...', labelNames: [...] })` under the folders. */
export function findMetricDefinitions(root: string, dirs: readonly string[]): MetricDefinition[] {
  const found: MetricDefinition[] = [];
  for (const dir of dirs) {
    for (const file of sources(join(root, dir))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/new (Counter|Gauge|Histogram|Summary)(?:<[^>(]*>)?\(\s*\{/g)) {
        const window = text.slice(match.index, match.index + 800);
        const name = /name:\s*['"`]([^'"`]+)['"`]/.exec(window)?.[1];
        if (name === undefined) continue;
        const labelText = /labelNames:\s*\[([^\]]*)\]/.exec(window.slice(0, window.indexOf('registers') > 0 ? window.indexOf('registers') + 200 : 800))?.[1] ?? '';
        const labels = [...labelText.matchAll(/['"`]([^'"`]+)['"`]/g)].map((m) => m[1] ?? '');
        found.push({ file: relative(root, file), type: match[1] as MetricDefinition['type'], name, labels });
      }
    }
  }
  return found;
}

/** What is wrong with one metric's name and labels (empty when nothing). */
export function namingProblems(metric: MetricDefinition): string[] {
  const problems: string[] = [];
  const where = `${metric.name} (${metric.file})`;
  if (!/^meshos_[a-z][a-z0-9_]*$/.test(metric.name)) problems.push(`${where}: name must be meshos_ followed by snake_case`);
  if (metric.type === 'Counter' && !metric.name.endsWith('_total')) problems.push(`${where}: a counter's name ends in _total`);
  if (metric.type !== 'Counter' && metric.name.endsWith('_total')) problems.push(`${where}: only counters end in _total`);
  if (/_(ms|milliseconds|millis|percent|kb|mb|minutes|hours)$/.test(metric.name) || /_(ms|milliseconds|percent)_/.test(metric.name)) {
    problems.push(`${where}: use base units (_seconds, _bytes, _ratio 0..1), not ms, percent or kilobytes`);
  }
  if ((metric.type === 'Histogram' || metric.type === 'Summary') && !/_(seconds|bytes|ratio|size|count|score|items|pods|nodes|objects|votes)$/.test(metric.name)) {
    problems.push(`${where}: a ${metric.type.toLowerCase()}'s name ends in its unit, such as _seconds or _bytes`);
  }
  if (/(duration|latency|time)$/.test(metric.name)) problems.push(`${where}: name the unit (_seconds)`);
  for (const label of metric.labels) {
    if (UNBOUNDED_LABELS.has(label)) problems.push(`${where}: label "${label}" is unbounded (one series per object); aggregate or use an Event`);
    if (!/^[a-z][a-z0-9_]*$/.test(label)) problems.push(`${where}: label "${label}" must be snake_case`);
  }
  if (metric.labels.length > 4) problems.push(`${where}: ${metric.labels.length} labels; keep it to 4 or fewer`);
  return problems;
}
