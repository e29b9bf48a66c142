// Forecast error measures used by the benchmark and the backtest reports.

/**
 * MASE scale: the in-sample mean absolute error of the seasonal naive forecast with period
 * `season` over `values[season..end)`. Errors divided by it are comparable across series.
 */
export function maseScale(values: readonly number[], season: number, end = values.length): number {
  let sum = 0;
  let count = 0;
  for (let t = season; t < end; t++) {
    sum += Math.abs((values[t] ?? 0) - (values[t - season] ?? 0));
    count++;
  }
  return count > 0 && sum > 0 ? sum / count : 1;
}

export interface Errors {
  mase: number;
  smape: number;
}

/** MASE (with the given scale) and sMAPE in percent (0..200; 0/0 counts as 0) over all origins. */
export function forecastErrors(values: readonly number[], origins: readonly number[], forecasts: readonly number[][], scale: number): Errors {
  let absolute = 0;
  let symmetric = 0;
  let count = 0;
  origins.forEach((origin, k) => {
    const forecast = forecasts[k] ?? [];
    for (let i = 0; i < forecast.length && origin + i < values.length; i++) {
      const actual = values[origin + i] ?? 0;
      const predicted = forecast[i] ?? 0;
      const error = Math.abs(actual - predicted);
      absolute += error;
      const denominator = Math.abs(actual) + Math.abs(predicted);
      symmetric += denominator > 0 ? (200 * error) / denominator : 0;
      count++;
    }
  });
  if (count === 0) return { mase: Number.NaN, smape: Number.NaN };
  return { mase: absolute / count / scale, smape: symmetric / count };
}
