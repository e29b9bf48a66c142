// Streaming anomaly detectors over one metric series, pure. Each returns a score in [0, 1] per
// point (1 = surely anomalous); an alarm is a score over a threshold. The baseline is NAB's
// windowed Gaussian; the project's detector looks at several time scales and repeats no alarm
// while the first one is being handled.

/** Upper tail of the standard normal, 1 - Phi(z) (Abramowitz-Stegun 7.1.26 on erfc). */
export function normalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

export interface Detector {
  /** Feeds the next value; returns its anomaly score in [0, 1]. */
  push(value: number): number;
}

/**
 * NAB's windowed Gaussian baseline: mean and standard deviation of the last `windowSize` values,
 * refreshed every `stepSize` points; the score is one minus the two-sided tail probability.
 */
export function windowedGaussian(windowSize = 6400, stepSize = 100): Detector {
  const window: number[] = [];
  let mean = 0;
  let std = 1;
  let sinceUpdate = stepSize;
  return {
    push(value: number): number {
      window.push(value);
      if (window.length > windowSize) window.shift();
      if (++sinceUpdate >= stepSize || window.length < stepSize) {
        sinceUpdate = 0;
        mean = window.reduce((a, b) => a + b, 0) / window.length;
        const variance = window.reduce((a, b) => a + (b - mean) ** 2, 0) / window.length;
        std = Math.sqrt(variance) || 0.000001;
      }
      if (window.length < 2) return 0;
      return 1 - 2 * normalTail(Math.abs(value - mean) / std);
    },
  };
}

/** Rolling mean and variance over a fixed window, O(1) per point. */
class RollingStats {
  private readonly values: number[] = [];
  private head = 0;
  private sum = 0;
  private sumSquares = 0;
  constructor(private readonly size: number) {}
  push(value: number): void {
    this.values.push(value);
    this.sum += value;
    this.sumSquares += value * value;
    if (this.values.length - this.head > this.size) {
      const old = this.values[this.head++] as number;
      this.sum -= old;
      this.sumSquares -= old * old;
    }
    if (this.head > 4096) {
      this.values.splice(0, this.head);
      this.head = 0;
    }
  }
  get count(): number {
    return this.values.length - this.head;
  }
  get mean(): number {
    return this.count ? this.sum / this.count : 0;
  }
  get std(): number {
    const n = this.count;
    if (n < 2) return 0;
    return Math.sqrt(Math.max(0, (this.sumSquares - (this.sum * this.sum) / n) / (n - 1)));
  }
}

export interface MultiScaleOptions {
  /** Reference history (points) the short-term views are compared with. */
  referenceSize: number;
  /** Short-term window lengths (points): 1 catches spikes, longer ones level and noise shifts. */
  scales: readonly number[];
}

export const DEFAULT_MULTI_SCALE: MultiScaleOptions = { referenceSize: 2016, scales: [1, 6, 36] };

/**
 * The project's detector. For each short window length it compares the mean of the latest points
 * with the distribution of such means over the reference history (the standard error shrinks by
 * the square root of the window, so a small sustained shift stands out), and the spread of the
 * latest points with the reference spread (a machine that starts to jitter). The score is the
 * largest of these tail probabilities.
 */
export function multiScaleDetector(options: MultiScaleOptions = DEFAULT_MULTI_SCALE): Detector {
  const reference = new RollingStats(options.referenceSize);
  const shortWindows = options.scales.map((size) => new RollingStats(size));
  return {
    push(value: number): number {
      for (const window of shortWindows) window.push(value);
      let score = 0;
      if (reference.count >= Math.min(options.referenceSize, 48)) {
        const std = reference.std || Math.abs(reference.mean) * 1e-3 || 1e-6;
        for (let i = 0; i < shortWindows.length; i++) {
          const window = shortWindows[i] as RollingStats;
          const size = options.scales[i] ?? 1;
          if (window.count < size) continue;
          const z = Math.abs(window.mean - reference.mean) / (std / Math.sqrt(size));
          // A mean of n correlated points varies more than iid theory says; correct by n^0.25.
          score = Math.max(score, 1 - 2 * normalTail(z / size ** 0.25));
          if (size >= 6) {
            const ratio = window.std / std;
            if (ratio > 1) score = Math.max(score, 1 - 2 * normalTail((ratio - 1) * Math.sqrt(size / 2)));
          }
        }
      }
      reference.push(value);
      return score;
    },
  };
}

export function scores(values: readonly number[], detector: Detector): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = detector.push(values[i] as number);
  return out;
}

/**
 * Alarm indices: scores at or over the threshold, and after an alarm none for `quietPoints`
 * (one incident, one warning, as an operator on call wants it; 0 = every crossing alarms).
 */
export function alarmsFromScores(values: ArrayLike<number>, threshold: number, quietPoints = 0): number[] {
  const out: number[] = [];
  let quietUntil = -1;
  for (let i = 0; i < values.length; i++) {
    if (i < quietUntil || (values[i] as number) < threshold) continue;
    out.push(i);
    quietUntil = i + quietPoints;
  }
  return out;
}
