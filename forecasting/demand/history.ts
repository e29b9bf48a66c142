// One Agent's recent demand on a fixed grid, bounded in length, with a compact text encoding
// (float32, base64) so a month of minute samples fits in a ConfigMap.

export const HISTORY_ENCODING = 'float32-base64-v1';

export interface EncodedHistory {
  encoding: string;
  stepSeconds: string;
  /** Time of the first value, RFC 3339. */
  start: string;
  values: string;
}

export class DemandHistory {
  private values: number[] = [];
  private startMs: number | undefined;

  constructor(
    readonly stepMs: number,
    /** Oldest values are dropped beyond this many points. */
    readonly maxPoints: number,
  ) {
    if (!(stepMs > 0)) throw new Error(`history step must be positive, got ${stepMs}`);
  }

  get length(): number {
    return this.values.length;
  }

  /** Time of the first stored value, if any. */
  get firstMs(): number | undefined {
    return this.startMs;
  }

  /** Time of the last stored value, if any. */
  get lastMs(): number | undefined {
    return this.startMs === undefined || this.values.length === 0 ? undefined : this.startMs + (this.values.length - 1) * this.stepMs;
  }

  /**
   * Records demand (requests per second) at a time, snapped to the grid. A later sample in the same
   * slot replaces the earlier one; slots skipped over are left empty (NaN) and interpolated on
   * read. Samples older than the window are ignored.
   */
  record(timeMs: number, value: number): void {
    if (!Number.isFinite(value) || value < 0) throw new Error(`demand must be a finite number >= 0, got ${value}`);
    if (!Number.isFinite(timeMs)) throw new Error(`demand time must be finite, got ${timeMs}`);
    if (this.startMs === undefined) {
      this.startMs = Math.round(timeMs / this.stepMs) * this.stepMs;
      this.values = [value];
      return;
    }
    const slot = Math.round((timeMs - this.startMs) / this.stepMs);
    if (slot < 0) {
      if (-slot + this.values.length > this.maxPoints) return;
      this.values = [...new Array<number>(-slot).fill(Number.NaN), ...this.values];
      this.startMs += slot * this.stepMs;
      this.values[0] = value;
      return;
    }
    while (this.values.length <= slot) this.values.push(Number.NaN);
    this.values[slot] = value;
    this.trim();
  }

  private trim(): void {
    const excess = this.values.length - this.maxPoints;
    if (excess > 0 && this.startMs !== undefined) {
      this.values.splice(0, excess);
      this.startMs += excess * this.stepMs;
    }
  }

  /** The values with gaps interpolated linearly (leading gaps take the first known value). */
  series(): number[] {
    const out = [...this.values];
    let previous = -1;
    for (let i = 0; i < out.length; i++) {
      if (Number.isNaN(out[i])) continue;
      if (previous < 0) for (let j = 0; j < i; j++) out[j] = out[i] ?? 0;
      else for (let j = previous + 1; j < i; j++) out[j] = (out[previous] ?? 0) + (((out[i] ?? 0) - (out[previous] ?? 0)) * (j - previous)) / (i - previous);
      previous = i;
    }
    if (previous < 0) return [];
    for (let j = previous + 1; j < out.length; j++) out[j] = out[previous] ?? 0;
    return out;
  }

  encode(): EncodedHistory {
    const floats = Float32Array.from(this.values);
    return {
      encoding: HISTORY_ENCODING,
      stepSeconds: String(this.stepMs / 1000),
      start: new Date(this.startMs ?? 0).toISOString(),
      values: Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64'),
    };
  }

  /** Restores an encoded history; a different step than `stepMs` is resampled by snapping. */
  static decode(encoded: Partial<EncodedHistory>, stepMs: number, maxPoints: number): DemandHistory {
    if (encoded.encoding !== HISTORY_ENCODING) throw new Error(`unknown demand history encoding "${encoded.encoding ?? ''}"`);
    const storedStepMs = Number(encoded.stepSeconds) * 1000;
    const startMs = Date.parse(encoded.start ?? '');
    if (!(storedStepMs > 0) || !Number.isFinite(startMs)) throw new Error('demand history has no valid stepSeconds or start');
    const bytes = Buffer.from(encoded.values ?? '', 'base64');
    if (bytes.byteLength % 4 !== 0) throw new Error('demand history values are not whole float32s');
    const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const history = new DemandHistory(stepMs, maxPoints);
    floats.forEach((value, i) => {
      if (!Number.isNaN(value)) history.record(startMs + i * storedStepMs, value);
    });
    return history;
  }
}
