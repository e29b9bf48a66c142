// Sentence vectors of the indexed agents, by slot, with an approximate-nearest-neighbour
// index (usearch HNSW) kept beside them once the catalogue is large enough to need it.
import { Index, MetricKind, ScalarKind } from 'usearch';
import { TopK, type Scored } from '../rank/topk.js';
import { WORD_VECTOR_DIMENSIONS } from '../rank/word-vectors.js';
import { dot } from '../rank/embed.js';

const D = WORD_VECTOR_DIMENSIONS;

export interface VectorStoreOptions {
  /** From this many vectors on, nearest neighbours come from the HNSW index (default 5,000). */
  readonly annThreshold?: number;
}

export class VectorStore {
  private matrix = new Float32Array(1024 * D);
  private present = new Uint8Array(1024);
  private count = 0;
  private ann: Index | undefined;
  readonly annThreshold: number;

  constructor(options: VectorStoreOptions = {}) {
    this.annThreshold = options.annThreshold ?? 5_000;
  }

  get size(): number {
    return this.count;
  }

  get usesAnn(): boolean {
    return this.ann !== undefined || this.count >= this.annThreshold;
  }

  set(slot: number, vector: Float32Array | undefined): void {
    this.remove(slot);
    if (!vector) return;
    this.grow(slot + 1);
    this.matrix.set(vector, slot * D);
    this.present[slot] = 1;
    this.count++;
    // Once built, the ANN index follows every change; before, it is built in one batch
    // (multi-threaded, far faster than one add per agent) by `prepare` or the first search.
    if (this.ann) this.ann.add(BigInt(slot), vector);
  }

  /** Builds the ANN index now if the store is large enough to use one. */
  prepare(): void {
    if (!this.ann && this.count >= this.annThreshold) this.buildAnn();
  }

  remove(slot: number): void {
    if (this.present[slot] !== 1) return;
    this.present[slot] = 0;
    this.count--;
    this.ann?.remove(BigInt(slot));
  }

  /** Cosine similarity of the unit query to the slot's vector; 0 when the slot has none. */
  similarity(query: Float32Array, slot: number): number {
    return this.present[slot] === 1 ? dot(query, this.matrix, slot * D) : 0;
  }

  /** Exact top-k over the given slots (all slots when undefined). */
  exact(query: Float32Array, k: number, slots: Iterable<number> | undefined, accept?: (slot: number) => boolean): Scored[] {
    const top = new TopK(k);
    const { matrix, present } = this;
    // The dot product is inlined: this loop is the whole cost of an exact scan.
    const visit = (slot: number): void => {
      if (present[slot] !== 1 || (accept && !accept(slot))) return;
      const base = slot * D;
      let sum = 0;
      for (let d = 0; d < D; d++) sum += (query[d] as number) * (matrix[base + d] as number);
      if (sum > top.threshold) top.offer(slot, sum);
    };
    if (slots) for (const slot of slots) visit(slot);
    else for (let slot = 0; slot < present.length; slot++) visit(slot);
    return top.result();
  }

  /**
   * Approximate top-k among slots that `accept` passes, which hold about `selectivity`
   * (0-1] of all vectors: asks the HNSW index for enough neighbours that k survive the
   * filter, and widens once if they did not. Falls back to `exact` without an ANN index.
   */
  nearest(query: Float32Array, k: number, accept: (slot: number) => boolean, selectivity: number, candidates?: readonly number[]): Scored[] {
    this.prepare();
    // Without an index, or when the filtered candidates are fewer than the neighbours the
    // index would have to return, scanning the candidates is cheaper and exact.
    const fallback = (): Scored[] => (candidates ? this.exact(query, k, candidates) : this.exact(query, k, undefined, accept));
    if (!this.ann) return fallback();
    let want = Math.min(this.count, Math.ceil((k / Math.max(selectivity, 1e-3)) * 1.5) + 16);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (candidates && want >= candidates.length) return fallback();
      const matches: { keys: BigUint64Array; distances: Float32Array } = this.ann.search(query, want, 1);
      const top = new TopK(k);
      let passed = 0;
      for (let i = 0; i < matches.keys.length; i++) {
        const slot = Number(matches.keys[i]);
        if (this.present[slot] !== 1 || !accept(slot)) continue;
        passed++;
        // usearch's cos metric returns a distance: 1 - similarity.
        top.offer(slot, 1 - (matches.distances[i] ?? 1));
      }
      const result = top.result();
      if (result.length >= k || want >= this.count) return result;
      // Widen by the pass rate just observed (the per-slot checks the estimate did not know).
      const passRate = Math.max(passed, 1) / Math.max(matches.keys.length, 1);
      want = Math.min(this.count, Math.ceil((k / passRate) * 1.3) + 16, want * 16);
    }
    return fallback();
  }

  private buildAnn(): void {
    const ann = new Index({ dimensions: D, metric: MetricKind.Cos, quantization: ScalarKind.F32, connectivity: 16, expansion_add: 64, expansion_search: 64, multi: false });
    const slots: bigint[] = [];
    for (let slot = 0; slot < this.present.length; slot++) if (this.present[slot] === 1) slots.push(BigInt(slot));
    if (slots.length > 0) {
      const rows = new Float32Array(slots.length * D);
      slots.forEach((slot, i) => rows.set(this.matrix.subarray(Number(slot) * D, (Number(slot) + 1) * D), i * D));
      ann.add(BigUint64Array.from(slots), rows, 0);
    }
    this.ann = ann;
  }

  private grow(slots: number): void {
    if (slots <= this.present.length) return;
    const capacity = Math.max(slots, this.present.length * 2);
    const matrix = new Float32Array(capacity * D);
    matrix.set(this.matrix);
    this.matrix = matrix;
    const present = new Uint8Array(capacity);
    present.set(this.present);
    this.present = present;
  }
}
