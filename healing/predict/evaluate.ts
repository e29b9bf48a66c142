// Evaluation of the failure predictor on the labelled NAB series: the project's detector and the
// windowed-Gaussian baseline, each with its alarm threshold chosen by leave-one-file-out (the
// threshold that maximises the NAB score on the other files scores the held-out file), so no
// reported figure comes from a threshold tuned on the file it is reported for.
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { alarmsFromScores, multiScaleDetector, scores, windowedGaussian, type Detector } from './anomaly.js';
import { normalisedScore, scoreFile, windowIndices, type FileScore, type Window } from './nab.js';

export interface LabelledSeries {
  file: string;
  timestamps: number[];
  values: number[];
  windows: Window[];
}

/** `../shared/data/nab` from the project root, else `/work/shared/data/nab` (worktrees sit elsewhere). */
export function nabDirectory(projectRoot: string): string {
  const relative = join(projectRoot, '..', 'shared', 'data', 'nab');
  return existsSync(relative) ? relative : '/work/shared/data/nab';
}

const parseTimestamp = (text: string): number => Date.parse(`${text.trim().replace(' ', 'T').replace(/\.\d+$/, '')}Z`);

export async function loadNab(directory: string): Promise<LabelledSeries[]> {
  const labels = JSON.parse(await readFile(join(directory, 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const files = (await readdir(directory)).filter((f) => f.endsWith('.csv')).sort();
  const out: LabelledSeries[] = [];
  for (const file of files) {
    const key = Object.keys(labels).find((k) => k.endsWith(`/${file}`));
    if (!key) continue;
    const lines = (await readFile(join(directory, file), 'utf8')).trim().split('\n').slice(1);
    const timestamps: number[] = [];
    const values: number[] = [];
    for (const line of lines) {
      const [time = '', value = ''] = line.split(',');
      const t = parseTimestamp(time);
      const v = Number(value);
      if (!Number.isFinite(t) || !Number.isFinite(v)) continue;
      timestamps.push(t);
      values.push(v);
    }
    const windows = windowIndices(timestamps, (labels[key] ?? []).map(([a, b]) => [parseTimestamp(a), parseTimestamp(b)] as [number, number]));
    out.push({ file, timestamps, values, windows });
  }
  return out;
}

export interface DetectorSpec {
  name: string;
  create: () => Detector;
  /** Points of quiet after an alarm, from the series alone (never from its labels). */
  quietPoints: (series: LabelledSeries) => number;
}

/** A day of the series' own time: the quiet period after a warning. */
export function oneDayOfPoints(series: LabelledSeries): number {
  const n = series.timestamps.length;
  const interval = n > 1 ? ((series.timestamps[n - 1] as number) - (series.timestamps[0] as number)) / (n - 1) : 300_000;
  return Math.max(1, Math.round(86_400_000 / interval));
}

export const THRESHOLDS = [0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999, 0.99995, 0.99999, 0.999999] as const;

export interface EvaluationResult {
  detected: number;
  windows: number;
  medianLeadMinutes: number;
  falseAlarmsPer1k: number;
  nabScore: number;
  /** Held-out file -> the (variant and) threshold chosen on the other files. */
  thresholds: Record<string, string>;
}

/**
 * Scores a detector family on labelled series. For each held-out file, the (variant, threshold)
 * pair with the best NAB score on the other files is chosen and scores the held-out file; the
 * figures are the held-out scores, pooled.
 */
export function evaluate(series: readonly LabelledSeries[], family: DetectorSpec | readonly DetectorSpec[]): EvaluationResult {
  const specs = Array.isArray(family) ? (family as readonly DetectorSpec[]) : [family as DetectorSpec];
  // table[variant * thresholds + t][file]: every file scored once per variant and threshold.
  const table: FileScore[][] = [];
  const labels: string[] = [];
  for (const spec of specs) {
    const perFile = series.map((s) => ({ s, sc: scores(s.values, spec.create()), quiet: spec.quietPoints(s) }));
    for (const threshold of THRESHOLDS) {
      table.push(perFile.map(({ s, sc, quiet }) => scoreFile(s.values.length, s.windows, alarmsFromScores(sc, threshold, quiet))));
      labels.push(specs.length > 1 ? `${spec.name} @ ${threshold}` : String(threshold));
    }
  }
  const chosen: FileScore[] = [];
  const thresholds: Record<string, string> = {};
  for (let held = 0; held < series.length; held++) {
    let best = 0;
    let bestScore = -Infinity;
    table.forEach((row, candidate) => {
      const score = normalisedScore(row.filter((_, f) => f !== held));
      if (score > bestScore) {
        bestScore = score;
        best = candidate;
      }
    });
    chosen.push(table[best]?.[held] as FileScore);
    thresholds[series[held]?.file ?? ''] = labels[best] ?? '';
  }
  const leads: number[] = [];
  chosen.forEach((score, f) => {
    const s = series[f] as LabelledSeries;
    [...s.windows].sort((a, b) => a.start - b.start).forEach((window, w) => {
      const first = score.firstAlarms[w];
      if (first === undefined) return;
      // NAB centres each window on the labelled anomaly: lead = anomaly time - first alarm.
      const anomalyAt = s.timestamps[Math.round((window.start + window.end) / 2)] as number;
      leads.push((anomalyAt - (s.timestamps[first] as number)) / 60_000);
    });
  });
  const falsePositives = chosen.reduce((sum, f) => sum + f.falsePositives, 0);
  const points = chosen.reduce((sum, f) => sum + f.scoredPoints, 0);
  return {
    detected: chosen.reduce((sum, f) => sum + f.detected, 0),
    windows: chosen.reduce((sum, f) => sum + f.windows, 0),
    medianLeadMinutes: round(median(leads)),
    falseAlarmsPer1k: round((1000 * falsePositives) / Math.max(1, points)),
    nabScore: round(normalisedScore(chosen)),
    thresholds,
  };
}

/**
 * The project's detector family: rolling Gaussian views of the latest point, and of the means
 * and spreads of short windows, against a week (2016 points) or NAB's 6400 points of history;
 * quiet for a day after each warning. Which variant runs is chosen by the leave-one-out rule.
 */
export const PROJECT_DETECTORS: readonly DetectorSpec[] = [2016, 6400].flatMap((referenceSize) =>
  [[1], [1, 6], [1, 6, 36]].map((scales) => ({
    name: `multi-scale reference ${referenceSize} scales ${scales.join('/')}, quiet one day after a warning`,
    create: () => multiScaleDetector({ referenceSize, scales }),
    quietPoints: oneDayOfPoints,
  })),
);
export const BASELINE_DETECTOR: DetectorSpec = { name: "NAB windowed Gaussian (window 6400, step 100), every crossing alarms", create: () => windowedGaussian(), quietPoints: () => 0 };

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const round = (value: number): number => Math.round(value * 100) / 100;
