// Demand from a Prometheus-format metric the Agent's pods expose: parse the text exposition
// format, sum the samples that match the selector, and turn counters into a rate.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

function unescape(value: string): string {
  return value.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Parses Prometheus text exposition format (0.0.4); comments and malformed lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    const body = match[3] ?? '';
    LABEL.lastIndex = 0;
    let ok = true;
    while (LABEL.lastIndex < body.length) {
      const start = LABEL.lastIndex;
      const label = LABEL.exec(body);
      if (!label) {
        ok = body.slice(start).trim() === '';
        break;
      }
      labels[label[1] ?? ''] = unescape(label[2] ?? '');
    }
    const valueText = match[4] ?? '';
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (ok && !Number.isNaN(value)) samples.push({ name: match[1] ?? '', labels, value });
  }
  return samples;
}

/** Sum of the samples of `name` whose labels include every selector label. */
export function sumMatching(samples: readonly Sample[], name: string, selector: Readonly<Record<string, string>> = {}): number | undefined {
  let sum: number | undefined;
  for (const sample of samples) {
    if (sample.name !== name || !Number.isFinite(sample.value)) continue;
    if (!Object.entries(selector).every(([key, value]) => sample.labels[key] === value)) continue;
    sum = (sum ?? 0) + sample.value;
  }
  return sum;
}

/**
 * Turns per-pod counter readings into a demand rate. Each pod's increase since its previous
 * reading counts (a decrease is a restart: the new value is the increase); pods seen for the
 * first time contribute from their next reading.
 */
export class CounterRate {
  private readonly previous = new Map<string, { value: number; atMs: number }>();

  /** Requests per second over the interval since the last call, or undefined on the first. */
  update(readings: ReadonlyMap<string, number>, atMs: number): number | undefined {
    let increase = 0;
    let spanMs = 0;
    for (const [pod, value] of readings) {
      const before = this.previous.get(pod);
      if (before && atMs > before.atMs) {
        increase += value >= before.value ? value - before.value : value;
        spanMs = Math.max(spanMs, atMs - before.atMs);
      }
      this.previous.set(pod, { value, atMs });
    }
    for (const pod of [...this.previous.keys()]) if (!readings.has(pod)) this.previous.delete(pod);
    return spanMs > 0 ? increase / (spanMs / 1000) : undefined;
  }
}

/** Fetches one pod's metrics text with a deadline. */
export async function fetchMetrics(url: string, timeoutMs = 2_000): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'text/plain;version=0.0.4' } });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.text();
}

export interface ScrapeTarget {
  /** Identity of the pod, for counter resets and rates. */
  pod: string;
  url: string;
}

export interface MetricSelector {
  name: string;
  selector?: Readonly<Record<string, string>>;
  type?: 'counter' | 'gauge';
}

/**
 * Scrapes every target at once and returns the Agent's demand: the sum of the matching gauge
 * samples, or the rate of the summed counters since the previous scrape. Targets that fail are
 * left out (reported through `onError`); undefined when nothing could be read or no rate exists yet.
 */
export async function scrapeDemand(
  targets: readonly ScrapeTarget[],
  metric: MetricSelector,
  rate: CounterRate,
  atMs: number,
  onError: (target: ScrapeTarget, error: unknown) => void = () => undefined,
  timeoutMs = 2_000,
): Promise<number | undefined> {
  const readings = new Map<string, number>();
  await Promise.all(
    targets.map(async (target) => {
      try {
        const value = sumMatching(parsePrometheusText(await fetchMetrics(target.url, timeoutMs)), metric.name, metric.selector ?? {});
        if (value !== undefined) readings.set(target.pod, value);
      } catch (error) {
        onError(target, error);
      }
    }),
  );
  if (readings.size === 0) return undefined;
  if (metric.type === 'gauge') return [...readings.values()].reduce((sum, value) => sum + value, 0);
  return rate.update(readings, atMs);
}

/**
 * A scrape is due once the time has moved to a later slot of the history grid, at least half a
 * step after the last one: each scrape then fills a slot of its own, so no sample replaces one
 * already recorded (or persisted by an earlier leader), and a rate spans at least half a step.
 */
export function scrapeDue(lastScrapeMs: number, nowMs: number, stepMs: number): boolean {
  return Math.round(nowMs / stepMs) > Math.round(lastScrapeMs / stepMs) && nowMs - lastScrapeMs >= stepMs / 2;
}
