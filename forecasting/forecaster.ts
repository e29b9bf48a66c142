// Model selection by rolling-origin backtest. The series is cut, oldest to newest, into:
//   fit prefix  [0, selectStart)   parameters are fitted here (grid searches use tuning origins inside it)
//   selection   [selectStart, evalStart)  every candidate forecasts at these origins; the winner and the
//                                        upper-quantile residuals come from here
//   evaluation  [evalStart, n)     only reported, never used to choose anything (empty for live use)
import { clean, trimmedOriginError, type FittedModel, type ModelSpec } from './models/model.js';
import { holtWintersSpec } from './models/holt-winters.js';
import { lstmSpec, type LstmOptions, DEFAULT_LSTM_OPTIONS } from './models/lstm-spec.js';
import { seasonalNaiveSpec, seasonalProfileSpec, slotMeanSpec } from './models/seasonal.js';
import { seasonCandidates } from './series.js';

export interface Split {
  /** Origins inside the fit prefix that grid searches tune on. */
  tuningOrigins: number[];
  selectStart: number;
  selectionOrigins: number[];
  evalStart: number;
  evaluationOrigins: number[];
}

/**
 * Plans the split for `n` values, forecasting `horizon` steps with origins `horizon` apart.
 * With `evaluationOrigins` 0 (live use) the selection block ends at the last value.
 */
export function planSplit(n: number, horizon: number, options: { evaluationOrigins: number; maxOrigins?: number; minHistory: number }): Split {
  const max = options.maxOrigins ?? 14;
  const usable = Math.max(0, Math.floor((n - options.minHistory) / horizon));
  const evaluation = Math.min(options.evaluationOrigins, Math.max(0, Math.floor(usable * 0.4)));
  const rest = usable - evaluation;
  const selection = Math.max(0, Math.min(max, Math.ceil(rest / 2)));
  const tuning = Math.max(0, Math.min(max, rest - selection));
  const evalStart = n - evaluation * horizon;
  const selectStart = evalStart - selection * horizon;
  const origins = (start: number, count: number): number[] => Array.from({ length: count }, (_, i) => start + i * horizon);
  return {
    tuningOrigins: origins(selectStart - tuning * horizon, tuning),
    selectStart,
    selectionOrigins: origins(selectStart, selection),
    evalStart,
    evaluationOrigins: origins(evalStart, evaluation),
  };
}

/** The last value repeated: the fallback when the history is shorter than any season. */
export const naive: FittedModel = {
  name: 'naive',
  description: 'last value repeated',
  forecastAt: (values, origins, horizon) => origins.map((origin) => new Array<number>(horizon).fill(clean(values[origin - 1] ?? 0))),
};

/** Mean of several fitted models' forecasts. */
export function combination(members: readonly FittedModel[]): FittedModel {
  return {
    name: 'combination',
    description: `mean of ${members.map((m) => m.name).join(' + ')}`,
    forecastAt(values, origins, horizon) {
      const all = members.map((m) => m.forecastAt(values, origins, horizon));
      return origins.map((_, k) => Array.from({ length: horizon }, (_, i) => all.reduce((sum, f) => sum + (f[k]?.[i] ?? 0), 0) / all.length));
    },
  };
}

export interface CandidateOptions {
  stepMs: number;
  /** Force one season length (in steps) instead of trying daily and weekly. */
  season?: number;
  lstm?: LstmOptions | false;
}

/** Seasons worth trying: daily and weekly for this step, or the one given. */
export function seasonsFor(options: CandidateOptions): number[] {
  if (options.season !== undefined) return [options.season];
  const { daily, weekly } = seasonCandidates(options.stepMs);
  return daily > 1 ? [daily, weekly] : [weekly];
}

export interface Candidate {
  /** Unique key, such as `seasonalNaive@48` or `holtWinters@336`. */
  key: string;
  family: string;
  season?: number;
  spec: ModelSpec;
}

export function candidateSpecs(options: CandidateOptions): Candidate[] {
  const candidates: Candidate[] = [];
  const seasons = seasonsFor(options);
  for (const season of seasons) {
    candidates.push({ key: `seasonalNaive@${season}`, family: 'seasonalNaive', season, spec: seasonalNaiveSpec(season) });
    candidates.push({ key: `slotMean@${season}`, family: 'slotMean', season, spec: slotMeanSpec(season) });
    candidates.push({ key: `seasonalProfile@${season}`, family: 'seasonalProfile', season, spec: seasonalProfileSpec(season) });
    candidates.push({ key: `holtWinters@${season}`, family: 'holtWinters', season, spec: holtWintersSpec(season) });
  }
  if (options.lstm !== false) {
    // The LSTM learns residuals of the profile on the longest season that has enough history.
    const season = seasons[seasons.length - 1] ?? 1;
    const shorter = seasons[0] ?? 1;
    const lstm = options.lstm ?? DEFAULT_LSTM_OPTIONS;
    candidates.push({ key: `lstm@${season}`, family: 'lstm', season, spec: lstmSpec(seasonalProfileSpec(season), lstm) });
    if (shorter !== season) candidates.push({ key: `lstm@${shorter}`, family: 'lstm', season: shorter, spec: lstmSpec(seasonalProfileSpec(shorter), lstm) });
  }
  return candidates;
}

export interface ScoredModel {
  key: string;
  family: string;
  season?: number;
  model: FittedModel;
  /** Mean over the selection origins of each origin's mean absolute error, worst tenth left out. */
  selectionError: number;
  fitMs: number;
}

export interface Selection {
  split: Split;
  candidates: ScoredModel[];
  selected: ScoredModel;
  /** Upper-quantile offsets (actual minus forecast) per horizon step, from the selection residuals. */
  upperOffsets: number[];
  quantile: number;
}

/**
 * The q-quantile of the selection residuals for each horizon step, pooled over neighbouring
 * steps (a few origins alone give a noisy quantile), never below 0 so upper >= forecast.
 */
export function residualQuantiles(values: readonly number[], origins: readonly number[], forecasts: readonly number[][], horizon: number, q: number): number[] {
  const pool = Math.max(1, Math.round(horizon / 24));
  const byStep: number[][] = Array.from({ length: horizon }, () => []);
  origins.forEach((origin, k) => {
    for (let i = 0; i < horizon && origin + i < values.length; i++) byStep[i]?.push((values[origin + i] ?? 0) - (forecasts[k]?.[i] ?? 0));
  });
  return byStep.map((_, i) => {
    const pooled: number[] = [];
    for (let j = Math.max(0, i - pool); j <= Math.min(horizon - 1, i + pool); j++) pooled.push(...(byStep[j] ?? []));
    if (pooled.length === 0) return 0;
    pooled.sort((a, b) => a - b);
    return Math.max(0, pooled[Math.min(pooled.length - 1, Math.floor(q * pooled.length))] ?? 0);
  });
}

export interface SelectOptions extends CandidateOptions {
  horizon: number;
  evaluationOrigins: number;
  quantile?: number;
  /** Use this split instead of planning one (e.g. dense origins for a short scaling horizon). */
  split?: Split;
  /** Called with each candidate's key once fitted (progress for long runs). */
  onFitted?: (key: string, ms: number) => void;
}

/**
 * Fits every applicable candidate on the fit prefix, scores each at the selection origins, adds
 * combinations of the best few, and picks the lowest error. Falls back to `naive` when no
 * seasonal model has enough history.
 */
export async function selectModel(values: readonly number[], options: SelectOptions): Promise<Selection> {
  const { horizon } = options;
  const seasons = seasonsFor(options);
  const minHistory = Math.min(values.length - horizon, Math.max(horizon, (seasons[0] ?? 1) + 1));
  const split = options.split ?? planSplit(values.length, horizon, { evaluationOrigins: options.evaluationOrigins, minHistory: Math.max(1, minHistory) });
  const q = options.quantile ?? 0.9;
  const selectionValues = values.slice(0, split.evalStart);
  const scored: ScoredModel[] = [];
  const score = (key: string, family: string, model: FittedModel, fitMs: number, season?: number): ScoredModel => {
    const forecasts = model.forecastAt(selectionValues, split.selectionOrigins, horizon);
    return { key, family, model, fitMs, selectionError: trimmedOriginError(selectionValues, split.selectionOrigins, forecasts), ...(season !== undefined ? { season } : {}) };
  };
  scored.push(score('naive', 'naive', naive, 0));
  const tuning = split.tuningOrigins.length > 0 ? split.tuningOrigins : [Math.max(1, split.selectStart - horizon)];
  for (const candidate of candidateSpecs(options)) {
    // A model needs enough history (a season or two) before the first origin it is judged at.
    if (!split.selectionOrigins.every((origin) => candidate.spec.applicable(origin)) || !candidate.spec.applicable(split.selectStart)) continue;
    const usableTuning = tuning.filter((origin) => candidate.spec.applicable(origin));
    const started = performance.now();
    const model = await candidate.spec.fit(values, split.selectStart, usableTuning.length > 0 ? usableTuning : [split.selectStart], horizon);
    const fitMs = performance.now() - started;
    options.onFitted?.(candidate.key, fitMs);
    scored.push(score(candidate.key, candidate.family, model, fitMs, candidate.season));
  }
  // Combinations: the mean of the best 2, 3 and 4 distinct models at the selection origins.
  const ranked = [...scored].filter((s) => Number.isFinite(s.selectionError)).sort((a, b) => a.selectionError - b.selectionError);
  for (const size of [2, 3, 4]) {
    if (ranked.length < size) break;
    const members = ranked.slice(0, size);
    scored.push(score(`combination(${members.map((m) => m.key).join('+')})`, 'combination', combination(members.map((m) => m.model)), 0));
  }
  const selected = [...scored].sort((a, b) => a.selectionError - b.selectionError)[0] ?? scored[0];
  if (!selected) throw new Error('no model could be fitted');
  const selectionForecasts = selected.model.forecastAt(selectionValues, split.selectionOrigins, horizon);
  const upperOffsets = residualQuantiles(selectionValues, split.selectionOrigins, selectionForecasts, horizon, q);
  return { split, candidates: scored, selected, upperOffsets, quantile: q };
}

/** Disposes every candidate's tensors (the LSTMs); call once the selection is no longer used. */
export function disposeSelection(selection: Selection): void {
  for (const candidate of selection.candidates) candidate.model.dispose?.();
}

export interface ForecastResult {
  model: string;
  forecast: number[];
  upper: number[];
}

/** Forecasts the `horizon` values after the last one, with the model the backtest selects. */
export async function forecastSeries(values: readonly number[], options: Omit<SelectOptions, 'evaluationOrigins'>): Promise<ForecastResult & { selection: Selection }> {
  if (values.length < 2) throw new Error(`need at least 2 values to forecast, got ${values.length}`);
  const selection = await selectModel(values, { ...options, evaluationOrigins: 0 });
  const forecast = selection.selected.model.forecastAt(values, [values.length], options.horizon)[0] ?? [];
  const upper = forecast.map((f, i) => f + (selection.upperOffsets[i] ?? selection.upperOffsets[selection.upperOffsets.length - 1] ?? 0));
  return { model: selection.selected.key, forecast, upper, selection };
}

/**
 * A split for short-horizon (scaling lead time) selection with the same blocks as `base`:
 * origins every `stride` steps instead of one per horizon, at most `maxOrigins` per block.
 */
export function denseSplit(base: Split, horizon: number, maxOrigins = 2000): Split {
  const tuneStart = base.tuningOrigins[0] ?? Math.max(0, base.selectStart - (base.evalStart - base.selectStart));
  const middle = base.selectStart + Math.floor((base.evalStart - base.selectStart) / 2);
  const dense = (from: number, to: number): number[] => {
    const stride = Math.max(1, Math.ceil((to - from - horizon) / maxOrigins));
    const origins: number[] = [];
    for (let t = from; t + horizon <= to; t += stride) origins.push(t);
    return origins;
  };
  return {
    tuningOrigins: dense(tuneStart, base.selectStart),
    selectStart: base.selectStart,
    selectionOrigins: dense(base.selectStart, middle),
    evalStart: base.evalStart,
    evaluationOrigins: [],
  };
}
