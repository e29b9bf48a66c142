// The predictive and reactive scalers replayed over a demand series with a fitted model: used by
// the benchmark, and tuned (quantile level) only on the selection block, never on what is reported.
import type { FittedModel } from './models/model.js';
import { predictiveReplicas, reactiveReplicas, replay, Stabiliser, type ReplayOptions, type ReplayResult } from './scaling.js';

export interface ScalingSetup extends ReplayOptions {
  /** Reactive policy's target utilisation (demand / (replicas x capacity)). */
  targetUtilisation: number;
}

/**
 * Relative residuals (actual / forecast - 1) per step over the lead window, from dense origins in
 * [from, to), sorted. Relative, so an upper quantile carries over when the demand level changes;
 * the forecast is floored at a tenth of the mean so near-zero forecasts do not explode the ratio.
 */
export function leadResiduals(values: readonly number[], model: FittedModel, from: number, to: number, steps: number): number[][] {
  const origins = Array.from({ length: Math.max(0, to - from - steps) }, (_, i) => from + i);
  const forecasts = model.forecastAt(values.slice(0, to), origins, steps);
  const floor = relativeFloor(values, to);
  const residuals: number[][] = Array.from({ length: steps }, () => []);
  origins.forEach((origin, k) => {
    for (let i = 0; i < steps; i++) {
      const forecast = Math.max(forecasts[k]?.[i] ?? 0, floor);
      residuals[i]?.push((values[origin + i] ?? 0) / forecast - 1);
    }
  });
  for (const list of residuals) list.sort((a, b) => a - b);
  return residuals;
}

/** A tenth of the mean demand before `end`: the smallest forecast a relative residual divides by. */
export function relativeFloor(values: readonly number[], end: number): number {
  let sum = 0;
  for (let t = 0; t < end; t++) sum += values[t] ?? 0;
  return Math.max(1e-9, (0.1 * sum) / Math.max(1, end));
}

/** Upper forecast from a point forecast and a relative offset. */
export function upperOf(forecast: number, relativeOffset: number, floor: number): number {
  return forecast + Math.max(forecast, floor) * relativeOffset;
}

export function quantileOf(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))] ?? 0;
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

export function replayPredictive(
  demand: readonly number[],
  start: number,
  end: number,
  forecasts: readonly number[][],
  offsets: readonly number[],
  setup: ScalingSetup,
  correctionIntervals = 2,
): ReplayResult {
  const stabiliser = new Stabiliser(setup.stabilisationMs);
  const floor = relativeFloor(demand, start);
  const upperAt = (t: number): number => upperOf(forecasts[t - start]?.[0] ?? 0, offsets[0] ?? 0, floor);
  return replay(
    demand,
    start,
    end,
    (t, current) => {
      const forecast = forecasts[t - start] ?? [];
      const recent = Array.from({ length: Math.min(correctionIntervals, t - start) }, (_, i) => t - Math.min(correctionIntervals, t - start) + i);
      const desired = predictiveReplicas({
        upperOverLead: forecast.map((f, i) => upperOf(f, offsets[i] ?? 0, floor)),
        recentActual: recent.map((r) => demand[r] ?? 0),
        recentUpper: recent.map(upperAt),
        capacityPerReplica: setup.capacityPerReplica,
        minReplicas: setup.minReplicas,
        maxReplicas: setup.maxReplicas,
      });
      // Never below what the reactive rule asks on observed demand: the forecast adds anticipation.
      const reactiveFloor = reactiveReplicas(current, demand[t - 1] ?? 0, setup.capacityPerReplica, setup.targetUtilisation);
      return stabiliser.recommend(t * setup.stepMs, Math.max(desired, reactiveFloor));
    },
    setup,
  );
}

const QUANTILE_LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99] as const;

export interface TunedQuantile {
  quantile: number;
  offsets: number[];
  selection: { predictive: ReplayResult; reactive: ReplayResult };
}

/**
 * Picks the upper-quantile level on the selection block: the fewest SLA violations whose
 * replica-hours stay within `costBudget` x the reactive policy's on the same block.
 */
export function tuneQuantile(demand: readonly number[], model: FittedModel, selectStart: number, evalStart: number, setup: ScalingSetup, costBudget = 1.05): TunedQuantile {
  const steps = Math.max(1, Math.ceil(setup.leadMs / setup.stepMs)) + 1;
  // Residuals from the first half of the selection block, replayed on the second half.
  const middle = selectStart + Math.floor((evalStart - selectStart) / 2);
  const residuals = leadResiduals(demand, model, selectStart, middle, steps);
  const forecasts = leadForecasts(demand, model, middle, evalStart, steps);
  const reactive = replayReactive(demand, middle, evalStart, setup);
  let best: TunedQuantile | undefined;
  for (const quantile of QUANTILE_LEVELS) {
    const offsets = residuals.map((list) => quantileOf(list, quantile));
    const predictive = replayPredictive(demand, middle, evalStart, forecasts, offsets, setup);
    const affordable = predictive.replicaHours <= costBudget * reactive.replicaHours;
    if (affordable && (!best || predictive.violations <= best.selection.predictive.violations)) best = { quantile, offsets, selection: { predictive, reactive } };
  }
  if (!best) {
    // Nothing within budget: the cheapest level.
    const quantile = QUANTILE_LEVELS[0] ?? 0.1;
    const offsets = residuals.map((list) => quantileOf(list, quantile));
    best = { quantile, offsets, selection: { predictive: replayPredictive(demand, middle, evalStart, forecasts, offsets, setup), reactive } };
  }
  // The offsets used from here on come from the whole selection block.
  const all = leadResiduals(demand, model, selectStart, evalStart, steps);
  return { ...best, offsets: all.map((list) => quantileOf(list, best.quantile)) };
}
