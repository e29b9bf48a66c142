// The predictive and reactive scalers replayed over a demand series with a fitted model: used by
// the benchmark, and tuned (quantile level) only on the selection block, never on what is reported.
import type { FittedModel } from './models/model.js';
import { correctWindow, headroomScale, NO_CORRECTION, predictiveReplicas, reactiveReplicas, replay, Stabiliser, windowUpper, type ErrorCorrection, type Headroom, type ReplayOptions, type ReplayResult } from './scaling.js';

export interface ScalingSetup extends ReplayOptions {
  /** Reactive policy's target utilisation (demand / (replicas x capacity)). */
  targetUtilisation: number;
}

/** A tenth of the mean demand before `end`: the smallest level a headroom scale is taken at. */
export function relativeFloor(values: readonly number[], end: number): number {
  let sum = 0;
  for (let t = 0; t < end; t++) sum += values[t] ?? 0;
  return Math.max(1e-9, (0.1 * sum) / Math.max(1, end));
}

export function quantileOf(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))] ?? 0;
}

/**
 * Residuals of the lead-window peak at every origin in [from, to - steps]: (highest actual demand
 * in the window - highest point forecast in it) / headroomScale(forecast peak), sorted. The peak,
 * not each step: a violation happens when any interval before new replicas are ready beats them.
 */
export function windowResiduals(values: readonly number[], forecasts: readonly (readonly number[])[], from: number, to: number, steps: number, scale: Pick<Headroom, 'power' | 'floor'>): number[] {
  const residuals: number[] = [];
  for (let origin = from; origin + steps <= to; origin++) {
    const peak = Math.max(0, ...(forecasts[origin - from] ?? []));
    let actual = 0;
    for (let i = 0; i < steps; i++) actual = Math.max(actual, values[origin + i] ?? 0);
    residuals.push((actual - peak) / headroomScale(peak, scale));
  }
  return residuals.sort((a, b) => a - b);
}

export function replayReactive(demand: readonly number[], start: number, end: number, setup: ScalingSetup): ReplayResult {
  const stabiliser = new Stabiliser(setup.stabilisationMs);
  return replay(
    demand,
    start,
    end,
    (t, current) => stabiliser.recommend(t * setup.stepMs, reactiveReplicas(current, demand[t - 1] ?? 0, setup.capacityPerReplica, setup.targetUtilisation)),
    setup,
  );
}

/** Point forecasts for every interval in [start, end) over the lead window, made at each interval's start. */
export function leadForecasts(demand: readonly number[], model: FittedModel, start: number, end: number, steps: number): number[][] {
  const origins = Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
  return model.forecastAt(demand.slice(0, end), origins, steps);
}

/**
 * `forecasts` (made at origins start, start + 1, ...) moved by the error correction: the error
 * smoothed over the one-step forecasts of the origins before each one, from `start` on (nothing
 * before `start` and nothing at or after the origin is read).
 */
export function correctForecasts(demand: readonly number[], forecasts: readonly (readonly number[])[], start: number, correction: ErrorCorrection): number[][] {
  if (correction.gain === 0) return forecasts.map((f) => [...f]);
  let smoothed = 0;
  return forecasts.map((window, i) => {
    if (i > 0) smoothed = correction.smoothing * ((demand[start + i - 1] ?? 0) - (forecasts[i - 1]?.[0] ?? 0)) + (1 - correction.smoothing) * smoothed;
    return correctWindow(window, smoothed, correction);
  });
}

export function replayPredictive(
  demand: readonly number[],
  start: number,
  end: number,
  forecasts: readonly number[][],
  headroom: Headroom,
  setup: ScalingSetup,
  correctionIntervals = 2,
): ReplayResult {
  const stabiliser = new Stabiliser(setup.stabilisationMs);
  const upperAt = (t: number): number => windowUpper(forecasts[t - start] ?? [], headroom);
  return replay(
    demand,
    start,
    end,
    (t) => {
      const recent = Array.from({ length: Math.min(correctionIntervals, t - start) }, (_, i) => t - Math.min(correctionIntervals, t - start) + i);
      const desired = predictiveReplicas({
        upperOverLead: [upperAt(t)],
        recentActual: recent.map((r) => demand[r] ?? 0),
        recentUpper: recent.map(upperAt),
        capacityPerReplica: setup.capacityPerReplica,
        minReplicas: setup.minReplicas,
        maxReplicas: setup.maxReplicas,
      });
      return stabiliser.recommend(t * setup.stepMs, desired);
    },
    setup,
  );
}

/** Error corrections tried: none, half or all of the error smoothed slowly, moderately or not at all. */
export const CORRECTIONS: readonly ErrorCorrection[] = [NO_CORRECTION, ...[0.5, 1].flatMap((gain) => [0.2, 0.5, 1].map((smoothing) => ({ gain, smoothing })))];

export const QUANTILE_LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99] as const;
/** Headroom scales tried: absolute, square root of the level, relative to the level. */
export const HEADROOM_POWERS = [0, 0.5, 1] as const;

export interface HeadroomCandidate {
  quantile: number;
  correction: ErrorCorrection;
  /** Offset from the selection block's first half: the one replayed on its second half. */
  trial: Headroom;
  /** Offset from the whole selection block: the one used from then on. */
  headroom: Headroom;
  selection: ReplayResult;
}

export interface HeadroomCandidates {
  candidates: HeadroomCandidate[];
  /** The reactive policy on the selection block's second half. */
  reactive: ReplayResult;
}

/**
 * Every error correction x quantile level x headroom scale, judged on the selection block
 * [selectStart, evalStart): residuals from its first half, replayed on its second half. `forecasts`
 * are the lead-window forecasts made at origins selectStart, selectStart + 1, ... (at least up to
 * evalStart); nothing at or after `evalStart` is read. `quantiles` restricts the levels (an Agent
 * that sets its quantile only has the scale and the correction tuned).
 */
export function headroomCandidates(
  demand: readonly number[],
  forecasts: readonly (readonly number[])[],
  selectStart: number,
  evalStart: number,
  setup: ScalingSetup,
  quantiles: readonly number[] = QUANTILE_LEVELS,
  corrections: readonly ErrorCorrection[] = CORRECTIONS,
): HeadroomCandidates {
  const steps = Math.max(1, Math.ceil(setup.leadMs / setup.stepMs)) + 1;
  const floor = relativeFloor(demand, evalStart);
  const middle = selectStart + Math.floor((evalStart - selectStart) / 2);
  const known = demand.slice(0, evalStart);
  // A window's forecast may reach past evalStart; its residual is then not taken (windowResiduals stops at `to`).
  const uncorrected = forecasts.slice(0, evalStart - selectStart);
  const candidates: HeadroomCandidate[] = [];
  for (const correction of corrections) {
    const corrected = correctForecasts(known, uncorrected, selectStart, correction);
    const later = corrected.slice(middle - selectStart);
    for (const power of HEADROOM_POWERS) {
      const first = windowResiduals(known, corrected, selectStart, middle, steps, { power, floor });
      const all = windowResiduals(known, corrected, selectStart, evalStart, steps, { power, floor });
      for (const quantile of quantiles) {
        const trial = { offset: quantileOf(first, quantile), power, floor };
        candidates.push({ quantile, correction, trial, headroom: { offset: quantileOf(all, quantile), power, floor }, selection: replayPredictive(known, middle, evalStart, later, trial, setup) });
      }
    }
  }
  return { candidates, reactive: replayReactive(known, middle, evalStart, setup) };
}

/** The candidate with the fewest violations + exchangeRate x replica-hours on the selection block (ties: fewer hours). */
export function pickAtRate(candidates: readonly HeadroomCandidate[], exchangeRate: number): HeadroomCandidate | undefined {
  const cost = (c: HeadroomCandidate): number => c.selection.violations + exchangeRate * c.selection.replicaHours;
  let best: HeadroomCandidate | undefined;
  for (const c of candidates) {
    if (!best || cost(c) < cost(best) - 1e-9 || (Math.abs(cost(c) - cost(best)) <= 1e-9 && c.selection.replicaHours < best.selection.replicaHours)) best = c;
  }
  return best;
}

/** Exchange rates tried (violations per replica-hour), 0 first: cheapest violations, any cost. */
const EXCHANGE_RATES = [0, ...Array.from({ length: 241 }, (_, i) => 10 ** (-4 + i / 30))];

/**
 * Chooses one candidate per demand series so that the replica-hours summed over all of them on
 * their selection blocks stay within `costBudget` x the reactive policy's, with the fewest
 * violations summed: one exchange rate between violations and replica-hours for all series, so
 * the budget goes where an extra replica-hour removes the most violations. With one series this
 * is the per-series budget. When no rate fits the budget, the cheapest choice.
 */
export function allocateHeadroom(perSeries: readonly HeadroomCandidates[], costBudget = 1.1): HeadroomCandidate[] {
  const budget = costBudget * perSeries.reduce((s, p) => s + p.reactive.replicaHours, 0);
  let best: { picks: HeadroomCandidate[]; violations: number; hours: number } | undefined;
  let cheapest: { picks: HeadroomCandidate[]; hours: number } | undefined;
  for (const rate of EXCHANGE_RATES) {
    const picks = perSeries.map((p) => pickAtRate(p.candidates, rate)).filter((c): c is HeadroomCandidate => c !== undefined);
    const violations = picks.reduce((s, c) => s + c.selection.violations, 0);
    const hours = picks.reduce((s, c) => s + c.selection.replicaHours, 0);
    if (!cheapest || hours < cheapest.hours) cheapest = { picks, hours };
    if (hours > budget) continue;
    if (!best || violations < best.violations || (violations === best.violations && hours < best.hours)) best = { picks, violations, hours };
  }
  return (best ?? cheapest)?.picks ?? [];
}

/** One series on its own (the runtime module, one Agent): its candidate within its budget. */
export function tuneHeadroom(
  demand: readonly number[],
  model: FittedModel,
  selectStart: number,
  evalStart: number,
  setup: ScalingSetup,
  options: { costBudget?: number; quantiles?: readonly number[] } = {},
): HeadroomCandidate {
  const steps = Math.max(1, Math.ceil(setup.leadMs / setup.stepMs)) + 1;
  const forecasts = leadForecasts(demand.slice(0, evalStart), model, selectStart, evalStart, steps);
  const chosen = allocateHeadroom([headroomCandidates(demand, forecasts, selectStart, evalStart, setup, options.quantiles)], options.costBudget)[0];
  if (!chosen) throw new Error('no quantile level to tune');
  return chosen;
}
