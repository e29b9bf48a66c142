import { describe, expect, it } from 'vitest';
import type { FittedModel } from './models/model.js';
import { allocateHeadroom, correctForecasts, headroomCandidates, leadForecasts, pickAtRate, replayPredictive, tuneHeadroom, windowResiduals, type HeadroomCandidate, type HeadroomCandidates, type ScalingSetup } from './replay.js';
import { NO_CORRECTION, smoothedError, windowUpper } from './scaling.js';

const candidate = (quantile: number, violations: number, replicaHours: number): HeadroomCandidate => ({
  quantile,
  correction: NO_CORRECTION,
  trial: { offset: quantile, power: 0, floor: 1 },
  headroom: { offset: quantile, power: 0, floor: 1 },
  selection: { intervals: 100, violations, slaViolationRate: violations / 100, replicaHours },
});
const series = (reactiveHours: number, ...candidates: HeadroomCandidate[]): HeadroomCandidates => ({
  candidates,
  reactive: { intervals: 100, violations: 0, slaViolationRate: 0, replicaHours: reactiveHours },
});
// A flat model: forecasts the mean of everything before the origin.
const flat: FittedModel = {
  name: 'flat',
  description: 'mean of the history',
  forecastAt: (values, origins, horizon) =>
    origins.map((origin) => {
      const mean = values.slice(0, origin).reduce((s, v) => s + v, 0) / Math.max(1, origin);
      return Array.from({ length: horizon }, () => mean);
    }),
};
const setup: ScalingSetup = { stepMs: 60_000, capacityPerReplica: 10, leadMs: 120_000, stabilisationMs: 0, minReplicas: 1, maxReplicas: 100, targetUtilisation: 0.8 };

describe('lead-window headroom', () => {
  it('adds the offset to the forecast peak, scaled by the level to the chosen power', () => {
    expect(windowUpper([10, 40, 20], { offset: 5, power: 0, floor: 1 })).toBe(45);
    expect(windowUpper([10, 40, 20], { offset: 0.5, power: 1, floor: 1 })).toBe(60);
    expect(windowUpper([10, 16], { offset: 2, power: 0.5, floor: 1 })).toBe(24);
    // Below the floor the floor scales the offset: a near-zero forecast still gets headroom.
    expect(windowUpper([0, 0], { offset: 0.5, power: 1, floor: 4 })).toBe(2);
  });

  it('takes residuals of the highest demand in the window against the highest forecast', () => {
    const values = [1, 5, 2, 8, 3];
    const forecasts = [
      [2, 2],
      [4, 4],
      [3, 6],
      [3, 3],
    ];
    // Origins 0..3 with windows of 2: actual peaks 5, 5, 8, 8 against forecast peaks 2, 4, 6, 3.
    expect(windowResiduals(values, forecasts, 0, 5, 2, { power: 0, floor: 1 })).toEqual([1, 2, 3, 5]);
  });

  it('replays the predictive scaler without a floor at the reactive recommendation', () => {
    // A rise to 50 forecast a lead time ahead is provisioned in time (5 replicas ready at t=3), and
    // once the window ahead is back to 10 the scaler goes down to 1 at once.
    const demand = [10, 10, 10, 50, 50, 10, 10];
    const forecasts = [[10, 10, 50], [10, 50, 50], [50, 50, 10], [50, 10, 10], [10, 10], [10]];
    const result = replayPredictive(demand, 1, 7, forecasts, { offset: 0, power: 0, floor: 1 }, setup);
    expect(result.violations).toBe(0);
    expect(Math.round(result.replicaHours * 60)).toBe(1 + 1 + 5 + 5 + 1 + 1);
  });
});

describe('error correction of the lead-window forecast', () => {
  it('smooths the one-step errors, newest weighing most', () => {
    expect(smoothedError([12, 14], [10, 10], 1)).toBe(4);
    expect(smoothedError([12, 14], [10, 10], 0.5)).toBe(0.5 * 4 + 0.5 * (0.5 * 2));
    expect(smoothedError([], [], 0.5)).toBe(0);
  });

  it('moves each window by the gain times the error smoothed over the origins before it only', () => {
    // Demand runs 10 above a forecast of 20 from t=1 on; forecasts are made at origins 1, 2, 3.
    const demand = [20, 30, 30, 30, 1e6];
    const forecasts = [[20, 20], [20, 20], [20, 20]];
    const corrected = correctForecasts(demand, forecasts, 1, { gain: 1, smoothing: 1 });
    // Origin 1 has no error before it in the window; origin 2 sees t=1's error 10; origin 3, t=2's.
    expect(corrected).toEqual([[20, 20], [30, 30], [30, 30]]);
    expect(correctForecasts(demand, forecasts, 1, { gain: 0.5, smoothing: 0.5 })).toEqual([[20, 20], [22.5, 22.5], [23.75, 23.75]]);
    // Never below zero.
    expect(correctForecasts([0, 0, 0], [[5], [5]], 1, { gain: 1, smoothing: 1 })).toEqual([[5], [0]]);
  });
});

describe('headroom choice on the selection block', () => {
  it('picks the fewest violations plus the exchange rate times replica-hours', () => {
    const options = [candidate(0.5, 30, 10), candidate(0.8, 10, 14), candidate(0.9, 4, 30)];
    expect(pickAtRate(options, 0)?.quantile).toBe(0.9);
    expect(pickAtRate(options, 1)?.quantile).toBe(0.8);
    expect(pickAtRate(options, 10)?.quantile).toBe(0.5);
  });

  it('spends a shared budget where an extra replica-hour removes the most violations', () => {
    // Series a: 6 more hours remove 20 violations; series b: 6 more hours remove 2.
    const a = series(10, candidate(0.5, 30, 10), candidate(0.9, 10, 16));
    const b = series(10, candidate(0.5, 5, 10), candidate(0.9, 3, 16));
    // Budget 1.3 x 20 = 26 hours: only one series can move up, and it is a.
    expect(allocateHeadroom([a, b], 1.3).map((c) => c.quantile)).toEqual([0.9, 0.5]);
    // Budget 1.6 x 20 = 32 hours: both.
    expect(allocateHeadroom([a, b], 1.6).map((c) => c.quantile)).toEqual([0.9, 0.9]);
    // Nothing fits: the cheapest choice.
    expect(allocateHeadroom([a, b], 0.5).map((c) => c.quantile)).toEqual([0.5, 0.5]);
  });

  it('tunes one series on its selection block only, never reading past it', () => {
    const demand = Array.from({ length: 400 }, (_, t) => 40 + 20 * Math.sin(t / 5) + ((t * 7919) % 13));
    const poisoned = [...demand.slice(0, 300), ...Array.from({ length: 100 }, () => 1e6)];
    const tuned = tuneHeadroom(demand, flat, 100, 300, setup);
    expect(tuneHeadroom(poisoned, flat, 100, 300, setup)).toEqual(tuned);
    // Within the budget on the selection block's second half.
    const forecasts = leadForecasts(demand.slice(0, 300), flat, 100, 300, 3);
    expect(tuned.selection.replicaHours).toBeLessThanOrEqual(1.1 * headroomCandidates(demand, forecasts, 100, 300, setup).reactive.replicaHours);
    // An Agent's own quantile is kept; only the scale is tuned.
    expect(tuneHeadroom(demand, flat, 100, 300, setup, { quantiles: [0.75] }).quantile).toBe(0.75);
  });
});
