// Holt-Winters exponential smoothing (ETS with additive or multiplicative season and a damped
// additive trend). One pass over the series gives the state at every origin, so a backtest over
// many origins costs one filter run.
import { clean, meanAbsoluteError, type FittedModel, type ModelSpec } from './model.js';

export interface HoltWintersParameters {
  season: number;
  seasonality: 'additive' | 'multiplicative';
  alpha: number;
  beta: number;
  gamma: number;
  /** Damping of the trend per step (1 = undamped). */
  phi: number;
}

const EPSILON = 1e-6;

/** Forecasts from the filter state reached just before each origin (origins must be ascending). */
export function holtWintersForecasts(
  values: readonly number[],
  origins: readonly number[],
  horizon: number,
  p: HoltWintersParameters,
): number[][] {
  const m = p.season;
  const multiplicative = p.seasonality === 'multiplicative';
  const result: number[][] = new Array<number[]>(origins.length);
  const order = origins.map((origin, index) => ({ origin, index })).sort((a, b) => a.origin - b.origin);
  // Initial state from the first two seasons (or one when that is all there is).
  const initSeasons = values.length >= 2 * m ? 2 : 1;
  let level = 0;
  for (let i = 0; i < m; i++) level += values[i] ?? 0;
  level /= m;
  const seasonal = new Float64Array(m);
  for (let k = 0; k < initSeasons; k++) {
    let seasonMean = 0;
    for (let i = 0; i < m; i++) seasonMean += values[k * m + i] ?? 0;
    seasonMean /= m;
    for (let i = 0; i < m; i++) {
      const v = values[k * m + i] ?? 0;
      seasonal[i] = (seasonal[i] ?? 0) + (multiplicative ? v / Math.max(seasonMean, EPSILON) : v - seasonMean) / initSeasons;
    }
  }
  let trend = 0;
  let next = 0;
  const emit = (t: number): void => {
    while (next < order.length && (order[next]?.origin ?? Infinity) <= t) {
      const { index } = order[next] as { index: number };
      const forecast = new Array<number>(horizon);
      let damp = 0;
      for (let h = 1; h <= horizon; h++) {
        damp += p.phi ** h;
        const s = seasonal[(t + h - 1) % m] ?? (multiplicative ? 1 : 0);
        const base = level + damp * trend;
        forecast[h - 1] = clean(multiplicative ? base * s : base + s);
      }
      result[index] = forecast;
      next++;
    }
  };
  const last = Math.min(values.length, order[order.length - 1]?.origin ?? 0);
  for (let t = m; t < last; t++) {
    emit(t);
    const y = values[t] ?? 0;
    const slot = t % m;
    const s = seasonal[slot] ?? 0;
    const previousLevel = level;
    if (multiplicative) {
      level = p.alpha * (y / Math.max(s, EPSILON)) + (1 - p.alpha) * (level + p.phi * trend);
      seasonal[slot] = p.gamma * (y / Math.max(level, EPSILON)) + (1 - p.gamma) * s;
    } else {
      level = p.alpha * (y - s) + (1 - p.alpha) * (level + p.phi * trend);
      seasonal[slot] = p.gamma * (y - level) + (1 - p.gamma) * s;
    }
    trend = p.beta * (level - previousLevel) + (1 - p.beta) * p.phi * trend;
  }
  emit(Math.max(last, m));
  // Origins inside the first season (no state yet) get the last value repeated.
  for (const { origin, index } of order) result[index] ??= new Array<number>(horizon).fill(clean(values[Math.max(0, origin - 1)] ?? 0));
  return result;
}

export function holtWinters(p: HoltWintersParameters): FittedModel {
  return {
    name: 'holtWinters',
    description: `${p.seasonality} season of ${p.season} steps, alpha ${p.alpha}, beta ${p.beta}, gamma ${p.gamma}, phi ${p.phi}`,
    forecastAt: (values, origins, horizon) => holtWintersForecasts(values, origins, horizon, p),
  };
}

/**
 * Fits seasonality (additive or multiplicative, the latter only for positive series) and the
 * smoothing parameters by a grid search minimising the mean absolute error of `horizon`-step
 * forecasts at the tuning origins, reading only the training prefix.
 */
export const holtWintersSpec = (season: number): ModelSpec => ({
  name: 'holtWinters',
  applicable: (trainEnd) => trainEnd > 2 * season,
  fit(values, trainEnd, tuningOrigins, horizon) {
    const train = values.slice(0, trainEnd);
    const positive = train.every((v) => v > 0);
    let best: { error: number; parameters: HoltWintersParameters } | undefined;
    for (const seasonality of positive ? (['additive', 'multiplicative'] as const) : (['additive'] as const)) {
      for (const alpha of [0.02, 0.05, 0.1, 0.2, 0.4, 0.7]) {
        for (const beta of [0, 0.01]) {
          for (const gamma of [0.01, 0.05, 0.1, 0.2, 0.4]) {
            const parameters: HoltWintersParameters = { season, seasonality, alpha, beta, gamma, phi: beta > 0 ? 0.98 : 1 };
            const error = meanAbsoluteError(train, tuningOrigins, holtWintersForecasts(train, tuningOrigins, horizon, parameters));
            if (!best || error < best.error) best = { error, parameters };
          }
        }
      }
    }
    return holtWinters(best?.parameters ?? { season, seasonality: 'additive', alpha: 0.2, beta: 0, gamma: 0.1, phi: 1 });
  },
});
