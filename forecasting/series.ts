// Turning `timestamp,value` text into a regular series: models assume one value per fixed step,
// so irregular and missing rows are put on a grid here, once, instead of in every model.

/** A regularly spaced series: `values[i]` is the demand at `startMs + i * stepMs`. */
export interface RegularSeries {
  startMs: number;
  stepMs: number;
  values: number[];
  /** Grid points that had no row and were filled by linear interpolation. */
  filled: number;
}

export interface Observation {
  timeMs: number;
  value: number;
}

/** Bad input, with the 1-based line it was found on. */
export class SeriesInputError extends Error {
  override name = 'SeriesInputError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}

const NUMERIC = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** Parses a timestamp: RFC 3339 / ISO 8601, `YYYY-MM-DD HH:MM[:SS]` (read as UTC), or Unix seconds/milliseconds. */
export function parseTimestamp(text: string): number | undefined {
  const trimmed = text.trim().replace(/^"(.*)"$/, '$1');
  if (/^\d{9,10}(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  if (/^\d{12,13}$/.test(trimmed)) return Number(trimmed);
  const isoLike = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
  if (!isoLike.test(trimmed)) return undefined;
  let normalised = trimmed.replace(' ', 'T');
  if (!/T/.test(normalised)) normalised += 'T00:00:00';
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(normalised)) normalised += 'Z';
  const ms = Date.parse(normalised);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Parses `timestamp,value` CSV text. A first line whose value column is not a number is a
 * header; blank lines and `#` comments are skipped; anything else that does not parse is an
 * error naming its line. Rows may come in any order; duplicate timestamps are averaged later.
 */
export function parseCsv(text: string): Observation[] {
  const observations: Observation[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const raw = (lines[index] ?? '').trim();
    const line = index + 1;
    if (raw === '' || raw.startsWith('#')) continue;
    const cells = raw.split(/[,;\t]/).map((cell) => cell.trim().replace(/^"(.*)"$/, '$1'));
    if (cells.length < 2) throw new SeriesInputError(`expected "timestamp,value", got "${raw.slice(0, 80)}"`, line);
    const [timeCell = '', valueCell = ''] = cells;
    const isFirstContent = observations.length === 0 && lines.slice(0, index).every((l) => l.trim() === '' || l.trim().startsWith('#'));
    if (isFirstContent && !NUMERIC.test(valueCell) && parseTimestamp(timeCell) === undefined) continue; // header
    const timeMs = parseTimestamp(timeCell);
    if (timeMs === undefined) {
      throw new SeriesInputError(`timestamp "${timeCell}" is not RFC 3339, "YYYY-MM-DD HH:MM:SS" or Unix seconds`, line);
    }
    if (valueCell === '' || valueCell.toLowerCase() === 'nan' || valueCell.toLowerCase() === 'null') continue; // a gap, filled later
    if (!NUMERIC.test(valueCell)) throw new SeriesInputError(`value "${valueCell}" is not a number`, line);
    const value = Number(valueCell);
    if (!Number.isFinite(value)) throw new SeriesInputError(`value "${valueCell}" is not finite`, line);
    observations.push({ timeMs, value });
  }
  return observations;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Puts observations on a regular grid. The step is the median gap between timestamps (robust to
 * a few missing or doubled rows) unless given; rows are snapped to the nearest grid point,
 * several rows on one point are averaged, and empty points are interpolated linearly.
 */
export function regularise(observations: readonly Observation[], stepMs?: number, maxPoints = 2_000_000): RegularSeries {
  if (observations.length < 2) throw new SeriesInputError(`need at least 2 rows with a value, got ${observations.length}`);
  const sorted = [...observations].sort((a, b) => a.timeMs - b.timeMs);
  const gaps: number[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const gap = (sorted[i]?.timeMs ?? 0) - (sorted[i - 1]?.timeMs ?? 0);
    if (gap > 0) gaps.push(gap);
  }
  const step = stepMs ?? (gaps.length > 0 ? median(gaps) : 0);
  if (!(step > 0)) throw new SeriesInputError('all rows share one timestamp; cannot infer the step');
  const startMs = sorted[0]?.timeMs ?? 0;
  const count = Math.round(((sorted[sorted.length - 1]?.timeMs ?? 0) - startMs) / step) + 1;
  if (count > maxPoints) throw new SeriesInputError(`the rows span ${count} steps of ${step} ms, more than ${maxPoints}`);
  const sums = new Float64Array(count);
  const counts = new Uint32Array(count);
  for (const { timeMs, value } of sorted) {
    const slot = Math.round((timeMs - startMs) / step);
    sums[slot] = (sums[slot] ?? 0) + value;
    counts[slot] = (counts[slot] ?? 0) + 1;
  }
  const values = new Array<number>(count);
  let filled = 0;
  let previous = -1;
  for (let i = 0; i < count; i++) {
    if ((counts[i] ?? 0) === 0) continue;
    values[i] = (sums[i] ?? 0) / (counts[i] ?? 1);
    if (previous >= 0 && i - previous > 1) {
      const from = values[previous] ?? 0;
      const to = values[i] ?? 0;
      for (let j = previous + 1; j < i; j++) values[j] = from + ((to - from) * (j - previous)) / (i - previous);
      filled += i - previous - 1;
    }
    previous = i;
  }
  return { startMs, stepMs: step, values, filled };
}

/** Steps in a day and a week for this step length (at least 1). */
export function seasonCandidates(stepMs: number): { daily: number; weekly: number } {
  const daily = Math.max(1, Math.round(86_400_000 / stepMs));
  return { daily, weekly: daily * 7 };
}
