import { describe, expect, it } from 'vitest';
import { forecastSeries, planSplit, residualQuantiles, selectModel } from './forecaster.js';
import { forecastErrors, maseScale } from './metrics.js';
import { holtWinters } from './models/holt-winters.js';
import { trainResidualLstm, ResidualLstm } from './models/lstm.js';
import { seasonalNaive, seasonalProfile, slotMean } from './models/seasonal.js';
import { parseCsv, regularise, SeriesInputError } from './series.js';

const HOUR = 3_600_000;
/** A daily cycle (24 hourly steps) with a weekday/weekend difference: weekly season 168. */
const seasonal = (n: number): number[] => Array.from({ length: n }, (_, t) => Math.round(100 + 40 * Math.sin((2 * Math.PI * t) / 24)) + (Math.floor(t / 24) % 7 >= 5 ? -30 : 0));

describe('seasonal baselines', () => {
  it('seasonal naive forecasts a pure seasonal series exactly', () => {
    const values = seasonal(24 * 7 * 4);
    const origin = values.length - 24;
    const [forecast] = seasonalNaive(168).forecastAt(values, [origin], 24);
    expect(forecast).toEqual(values.slice(origin));
  });

  it('slot mean averages the same slot over the last four seasons, never reading past the origin', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    // season 2, origin 8: slots at 6,4,2,0 (even) and 7,5,3,1 (odd)
    expect(slotMean(2).forecastAt(values, [8], 3)[0]).toEqual([4, 5, 4]);
  });

  it('the seasonal profile with no smoothing and no level correction is a median of past seasons', () => {
    const values = [10, 0, 12, 0, 11, 0, 100, 0];
    const [forecast] = seasonalProfile({ season: 2, seasons: 3, smoothing: 0, decay: 0, levelWindow: 1 }).forecastAt(values, [8], 2);
    expect(forecast).toEqual([12, 0]);
  });
});

describe('Holt-Winters', () => {
  it('follows an additive season on a linear trend', () => {
    const values = Array.from({ length: 24 * 20 }, (_, t) => 50 + 0.1 * t + 10 * Math.sin((2 * Math.PI * t) / 24));
    const origin = values.length - 24;
    const [forecast = []] = holtWinters({ season: 24, seasonality: 'additive', alpha: 0.3, beta: 0.05, gamma: 0.1, phi: 1 }).forecastAt(values, [origin], 24);
    const errors = forecast.map((f, i) => Math.abs(f - (values[origin + i] ?? 0)));
    expect(Math.max(...errors)).toBeLessThan(1.5);
  });
});

describe('selection', () => {
  it('keeps the evaluation block out of fitting and selection', () => {
    const split = planSplit(24 * 60, 24, { evaluationOrigins: 7, minHistory: 48 });
    expect(split.evaluationOrigins).toHaveLength(7);
    expect(split.evalStart).toBe(24 * 53);
    expect(Math.max(...split.selectionOrigins) + 24).toBeLessThanOrEqual(split.evalStart);
    expect(Math.max(...split.tuningOrigins) + 24).toBeLessThanOrEqual(split.selectStart);
  });

  it('picks a model that forecasts a pure seasonal series almost exactly, with MASE near 0', async () => {
    const values = seasonal(24 * 7 * 8);
    const selection = await selectModel(values, { stepMs: HOUR, horizon: 24, evaluationOrigins: 7, lstm: false });
    const forecasts = selection.selected.model.forecastAt(values, selection.split.evaluationOrigins, 24);
    const errors = forecastErrors(values, selection.split.evaluationOrigins, forecasts, maseScale(values, 24, selection.split.evalStart));
    expect(errors.mase).toBeLessThan(0.01);
    // The daily seasonal naive cannot see the weekend: its error is far larger.
    const daily = forecastErrors(values, selection.split.evaluationOrigins, seasonalNaive(24).forecastAt(values, selection.split.evaluationOrigins, 24), maseScale(values, 24, selection.split.evalStart));
    expect(daily.mase).toBeGreaterThan(0.3);
  });

  it('forecasts the points after the last one, with upper >= forecast', async () => {
    const values = seasonal(24 * 7 * 5 + 5);
    const result = await forecastSeries(values, { stepMs: HOUR, horizon: 30, lstm: false });
    expect(result.forecast).toHaveLength(30);
    expect(result.upper).toHaveLength(30);
    const expected = seasonal(values.length + 30).slice(values.length);
    result.forecast.forEach((f, i) => expect(f).toBeCloseTo(expected[i] ?? 0, 0));
    result.upper.forEach((u, i) => expect(u).toBeGreaterThanOrEqual(result.forecast[i] ?? 0));
  });

  it('falls back to the last value when the history is shorter than a season', async () => {
    const result = await forecastSeries([5, 6, 7, 8], { stepMs: HOUR, horizon: 2, lstm: false });
    expect(result.model).toBe('naive');
    expect(result.forecast).toEqual([8, 8]);
  });

  it('residual quantiles are per step and never negative', () => {
    const values = [0, 0, 10, 20, 10, 30];
    const quantiles = residualQuantiles(values, [2, 4], [[5, 5], [5, 5]], 2, 0.9);
    expect(quantiles.every((q) => q >= 0)).toBe(true);
    expect(quantiles[1]).toBe(25);
  });
});

describe('CSV input', () => {
  it('reads a header, fills a missing row, and averages duplicates', () => {
    const series = regularise(parseCsv('timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 01:00:00,2\n2024-01-01 03:00:00,4\n2024-01-01 03:00:00,6\n2024-01-01 04:00:00,7\n'));
    expect(series.stepMs).toBe(HOUR);
    expect(series.values).toEqual([1, 2, 3.5, 5, 7]);
    expect(series.filled).toBe(1);
  });

  it('accepts a file without header and Unix seconds', () => {
    expect(parseCsv('1700000000,3\n1700000060,4')).toEqual([
      { timeMs: 1_700_000_000_000, value: 3 },
      { timeMs: 1_700_000_060_000, value: 4 },
    ]);
  });

  it('names the line of a bad value or timestamp', () => {
    expect(() => parseCsv('timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T01:00:00Z,abc\n')).toThrow(/line 3: value "abc" is not a number/);
    expect(() => parseCsv('2024-01-01T00:00:00Z,1\nyesterday,2\n')).toThrow(SeriesInputError);
    expect(() => parseCsv('2024-01-01T00:00:00Z,1\nyesterday,2\n')).toThrow(/line 2: timestamp "yesterday"/);
    expect(() => regularise(parseCsv('2024-01-01T00:00:00Z,1\n'))).toThrow(/at least 2 rows/);
  });
});

describe('LSTM', () => {
  it('trains within its bounds and reloads from exported weights with identical forecasts', async () => {
    const values = seasonal(24 * 7 * 3).map((v, t) => v + ((t * 7919) % 13) - 6);
    const baseline = seasonalProfile({ season: 24, seasons: 3, smoothing: 1, decay: 0.9, levelWindow: 3 });
    const lstm = await trainResidualLstm(values, values.length - 24, baseline, 24, { window: 8, units: 4, maxEpochs: 2, maxTrainMs: 10_000, maxSamples: 64, seed: 1 });
    expect(lstm.trainedEpochs).toBeLessThanOrEqual(2);
    const origins = [values.length - 24, values.length];
    const before = lstm.forecastAt(values, origins, 24);
    const reloaded = await ResidualLstm.fromArtifacts(await lstm.exportArtifacts(), baseline);
    expect(reloaded.forecastAt(values, origins, 24)).toEqual(before);
    lstm.dispose();
    reloaded.dispose();
  }, 60_000);
});
