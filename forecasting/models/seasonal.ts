// Seasonal baselines: the value one season ago, the mean of the same slot over recent seasons,
// and a robust seasonal profile (smoothed slot medians with a decaying level correction).
import { clean, meanAbsoluteError, type FittedModel, type ModelSpec } from './model.js';

/** The value at `target` taken from the most recent season strictly before `origin`. */
function lastSeasonIndex(target: number, origin: number, season: number): number {
  const seasonsBack = Math.max(1, Math.ceil((target - origin + 1) / season));
  return target - seasonsBack * season;
}

export function seasonalNaive(season: number): FittedModel {
  return {
    name: 'seasonalNaive',
    description: `value one season (${season} steps) earlier`,
    forecastAt: (values, origins, horizon) =>
      origins.map((origin) =>
        Array.from({ length: horizon }, (_, i) => {
          const source = lastSeasonIndex(origin + i, origin, season);
          return clean(values[source >= 0 ? source : Math.max(0, origin - 1)] ?? 0);
        }),
      ),
  };
}

/** Mean of the same slot over up to `seasons` seasons before the origin. */
export function slotMean(season: number, seasons = 4): FittedModel {
  return {
    name: 'slotMean',
    description: `mean of the same slot over the last ${seasons} seasons of ${season} steps`,
    forecastAt: (values, origins, horizon) =>
      origins.map((origin) =>
        Array.from({ length: horizon }, (_, i) => {
          const first = lastSeasonIndex(origin + i, origin, season);
          let sum = 0;
          let count = 0;
          for (let k = 0, source = first; k < seasons && source >= 0; k++, source -= season) {
            sum += values[source] ?? 0;
            count++;
          }
          return clean(count > 0 ? sum / count : (values[origin - 1] ?? 0));
        }),
      ),
  };
}

export const seasonalNaiveSpec = (season: number): ModelSpec => ({
  name: 'seasonalNaive',
  applicable: (trainEnd) => trainEnd > season,
  fit: () => seasonalNaive(season),
});

export const slotMeanSpec = (season: number, seasons = 4): ModelSpec => ({
  name: 'slotMean',
  applicable: (trainEnd) => trainEnd > season,
  fit: () => slotMean(season, seasons),
});

export interface ProfileParameters {
  season: number;
  /** Seasons whose slot values are combined (the median is taken, so bursts do not move it). */
  seasons: number;
  /** Half-width of the moving average across neighbouring slots, in steps. */
  smoothing: number;
  /** How long the recent level deviation persists: multiplied by `decay` per step ahead. */
  decay: number;
  /** Steps before the origin over which the level deviation is measured. */
  levelWindow: number;
}

function medianOf(values: number[]): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 ? (values[mid] ?? 0) : ((values[mid - 1] ?? 0) + (values[mid] ?? 0)) / 2;
}

/** Prefix sums, so a centred moving average of any index costs O(1). */
function prefixSums(values: readonly number[]): Float64Array {
  const sums = new Float64Array(values.length + 1);
  for (let i = 0; i < values.length; i++) sums[i + 1] = (sums[i] ?? 0) + (values[i] ?? 0);
  return sums;
}

/**
 * The seasonal profile at `target` seen from `origin`: for each of the last `seasons` seasons
 * before the origin, the moving average around the same slot (never reading at or after the
 * origin), then the median across seasons.
 */
function profileValue(sums: Float64Array, target: number, origin: number, p: ProfileParameters): number {
  const first = lastSeasonIndex(target, origin, p.season);
  const samples: number[] = [];
  for (let k = 0, centre = first; k < p.seasons && centre >= 0; k++, centre -= p.season) {
    const from = Math.max(0, centre - p.smoothing);
    const to = Math.min(origin, centre + p.smoothing + 1);
    if (to > from) samples.push(((sums[to] ?? 0) - (sums[from] ?? 0)) / (to - from));
  }
  return medianOf(samples);
}

export function seasonalProfile(p: ProfileParameters): FittedModel {
  return {
    name: 'seasonalProfile',
    description: `median of ${p.seasons} seasons of ${p.season} steps, smoothed over ±${p.smoothing} steps, level correction over ${p.levelWindow} steps decaying ${p.decay} per step`,
    forecastAt(values, origins, horizon) {
      const sums = prefixSums(values);
      return origins.map((origin) => {
        // Level correction: how far the last few observed values sat from their own profile.
        let deviation = 0;
        let count = 0;
        for (let t = Math.max(0, origin - p.levelWindow); t < origin; t++) {
          deviation += (values[t] ?? 0) - profileValue(sums, t, t, p);
          count++;
        }
        const level = count > 0 ? deviation / count : 0;
        return Array.from({ length: horizon }, (_, i) => clean(profileValue(sums, origin + i, origin, p) + level * p.decay ** (i + 1)));
      });
    },
  };
}

/** Fits the profile's seasons, smoothing and level decay by a small grid search on the tuning origins. */
export const seasonalProfileSpec = (season: number): ModelSpec => ({
  name: 'seasonalProfile',
  applicable: (trainEnd) => trainEnd > season,
  fit(values, trainEnd, tuningOrigins, horizon) {
    const available = Math.max(1, Math.floor(Math.min(trainEnd, tuningOrigins[0] ?? trainEnd) / season));
    const seasonOptions = [...new Set([2, 3, 4, 6, 8].map((s) => Math.min(s, available)))];
    const smoothingOptions = [...new Set([0, 1, 2, 4, 8].map((s) => Math.min(s, Math.floor(season / 8))))];
    const decayOptions = [0, 0.9, 0.97, 0.99];
    const levelWindow = Math.max(1, Math.min(12, Math.round(season / 24)));
    const train = values.slice(0, trainEnd);
    let best: { error: number; parameters: ProfileParameters } | undefined;
    for (const seasons of seasonOptions) {
      for (const smoothing of smoothingOptions) {
        for (const decay of decayOptions) {
          const parameters = { season, seasons, smoothing, decay, levelWindow };
          const error = meanAbsoluteError(train, tuningOrigins, seasonalProfile(parameters).forecastAt(train, tuningOrigins, horizon));
          if (!best || error < best.error) best = { error, parameters };
        }
      }
    }
    return seasonalProfile(best?.parameters ?? { season, seasons: 1, smoothing: 0, decay: 0, levelWindow });
  },
});
