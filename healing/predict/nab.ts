// The Numenta Anomaly Benchmark's scoring (standard profile), pure: labelled windows and alarm
// indices in, raw score and counts out. Follows NAB's sweeper: a probationary period (the first
// 15% of a file, at most 750 points) where alarms do not count; the first alarm in a window is a
// true positive weighted by a scaled sigmoid of its position (earlier is better); a window with
// no alarm is a false negative; an alarm outside windows is a false positive, weighted less when
// it comes right after a window.

export const STANDARD_PROFILE = { tp: 1.0, fp: 0.11, fn: 1.0 } as const;

export interface Window {
  /** Inclusive point indices. */
  start: number;
  end: number;
}

export interface FileScore {
  raw: number;
  /** The score of a perfect detector (an alarm at the start of every window). */
  perfect: number;
  /** The score of a detector that never alarms. */
  none: number;
  windows: number;
  detected: number;
  falsePositives: number;
  /** Index of the first alarm in each detected window (by window). */
  firstAlarms: (number | undefined)[];
  /** Points scored (after the probationary period). */
  scoredPoints: number;
}

export const scaledSigmoid = (x: number): number => (x > 3 ? -1 : 2 / (1 + Math.exp(5 * x)) - 1);

export function probationaryLength(length: number): number {
  return Math.min(Math.floor(0.15 * length), 750);
}

export function scoreFile(length: number, windows: readonly Window[], alarmIndices: readonly number[], profile = STANDARD_PROFILE): FileScore {
  const probation = probationaryLength(length);
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const firstAlarms: (number | undefined)[] = sorted.map(() => undefined);
  let raw = 0;
  let falsePositives = 0;
  for (const index of alarmIndices) {
    if (index < probation) continue;
    const w = sorted.findIndex((window) => index >= window.start && index <= window.end);
    if (w >= 0) {
      if (firstAlarms[w] === undefined) firstAlarms[w] = index;
      continue;
    }
    falsePositives++;
    // NAB: an FP after a window is scaled by its distance from that window's end.
    const previous = [...sorted].reverse().find((window) => window.end < index);
    if (!previous) {
      raw -= profile.fp;
    } else {
      const width = previous.end - previous.start + 1;
      const position = Math.abs(previous.end - index) / Math.max(1, width - 1);
      raw += scaledSigmoid(position) * profile.fp;
    }
  }
  let detected = 0;
  for (let w = 0; w < sorted.length; w++) {
    const window = sorted[w] as Window;
    const first = firstAlarms[w];
    if (first === undefined) {
      raw -= profile.fn;
      continue;
    }
    detected++;
    const width = window.end - window.start + 1;
    const position = -(window.end - first + 1) / width;
    raw += scaledSigmoid(position) * profile.tp;
  }
  const perfect = sorted.reduce((sum, window) => sum + scaledSigmoid(-(window.end - window.start + 1) / (window.end - window.start + 1)) * profile.tp, 0);
  return { raw, perfect, none: -profile.fn * sorted.length, windows: sorted.length, detected, falsePositives, firstAlarms, scoredPoints: Math.max(0, length - probation) };
}

/** NAB's normalised score over several files: 100 for perfect, 0 for a detector that never alarms. */
export function normalisedScore(files: readonly Pick<FileScore, 'raw' | 'perfect' | 'none'>[]): number {
  const raw = files.reduce((s, f) => s + f.raw, 0);
  const perfect = files.reduce((s, f) => s + f.perfect, 0);
  const none = files.reduce((s, f) => s + f.none, 0);
  return perfect === none ? 0 : (100 * (raw - none)) / (perfect - none);
}

/** Window indices of labelled [start, end] timestamps in a series of timestamps (ms). */
export function windowIndices(timestamps: readonly number[], labelled: readonly [number, number][]): Window[] {
  const out: Window[] = [];
  for (const [from, to] of labelled) {
    let start = timestamps.findIndex((t) => t >= from);
    let end = -1;
    for (let i = timestamps.length - 1; i >= 0; i--) {
      if ((timestamps[i] as number) <= to) {
        end = i;
        break;
      }
    }
    if (start < 0 || end < start) continue;
    start = Math.max(0, start);
    out.push({ start, end });
  }
  return out;
}
