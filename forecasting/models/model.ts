// The shape every forecasting model takes: fitted once on a training prefix, then asked for
// forecasts at many origins, each using only the values before it (so a backtest is honest).

export interface FittedModel {
  /** Name reported to users, such as `holtWinters` or `seasonalNaive`. */
  readonly name: string;
  /** Human-readable settings (season, parameters) for reports. */
  readonly description: string;
  /**
   * Point forecasts of the `horizon` values after each origin, using only `values[0..origin)`.
   * Non-negative and finite.
   */
  forecastAt(values: readonly number[], origins: readonly number[], horizon: number): number[][];
  /** Frees what the model holds outside the JavaScript heap (tensors); the model is unusable after. */
  dispose?(): void;
}

/** A model family: fits its parameters on `values[0..trainEnd)` only. */
export interface ModelSpec {
  readonly name: string;
  /** False when there is too little history for this model (e.g. fewer than two seasons). */
  applicable(trainEnd: number): boolean;
  fit(values: readonly number[], trainEnd: number, tuningOrigins: readonly number[], horizon: number): FittedModel | Promise<FittedModel>;
}

/** Demand is never negative, and a model must never hand NaN to a scaler. */
export function clean(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Mean absolute error of forecasts against the actual values at each origin. */
export function meanAbsoluteError(values: readonly number[], origins: readonly number[], forecasts: readonly number[][]): number {
  let sum = 0;
  let count = 0;
  origins.forEach((origin, k) => {
    const forecast = forecasts[k] ?? [];
    for (let i = 0; i < forecast.length && origin + i < values.length; i++) {
      sum += Math.abs((values[origin + i] ?? 0) - (forecast[i] ?? 0));
      count++;
    }
  });
  return count === 0 ? Infinity : sum / count;
}

/**
 * Mean over origins of each origin's mean absolute error, leaving out the worst tenth of the
 * origins: one holiday or outage in the backtest does not decide which model wins, yet a model
 * that misses a recurring pattern (weekends) still pays for it.
 */
export function trimmedOriginError(values: readonly number[], origins: readonly number[], forecasts: readonly number[][]): number {
  const errors = origins.map((origin, k) => meanAbsoluteError(values, [origin], [forecasts[k] ?? []])).filter(Number.isFinite).sort((a, b) => a - b);
  const kept = errors.slice(0, errors.length - Math.floor(errors.length / 10));
  return kept.length === 0 ? Infinity : kept.reduce((sum, e) => sum + e, 0) / kept.length;
}
