// Okapi BM25 over a live set of documents identified by slot numbers. Postings are kept per
// term so a query touches only the documents that contain its terms.
import { TopK, type Scored } from './topk.js';

export interface Bm25Options {
  /** Term-frequency saturation (default 1.2). */
  readonly k1?: number;
  /** Length normalisation (default 0.75). */
  readonly b?: number;
}

interface Postings {
  slots: number[];
  frequencies: number[];
}

/** Slots that may be returned: `allowed[slot] === 1`. A bitmap, because it is read once per posting. */
export type SlotBitmap = Uint8Array;

export class Bm25Index {
  private readonly k1: number;
  private readonly b: number;
  private readonly postings = new Map<string, Postings>();
  /** Terms of each live slot, so removal knows which postings to edit. */
  private readonly termsOf = new Map<number, Map<string, number>>();
  private readonly lengths: number[] = [];
  private totalLength = 0;
  private accumulator = new Float64Array(64);

  constructor(options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? 0.75;
  }

  get size(): number {
    return this.termsOf.size;
  }

  /** Indexes the slot's terms, replacing what the slot held before. */
  set(slot: number, documentTerms: readonly string[]): void {
    this.remove(slot);
    const counts = new Map<string, number>();
    for (const term of documentTerms) counts.set(term, (counts.get(term) ?? 0) + 1);
    for (const [term, frequency] of counts) {
      let list = this.postings.get(term);
      if (!list) {
        list = { slots: [], frequencies: [] };
        this.postings.set(term, list);
      }
      list.slots.push(slot);
      list.frequencies.push(frequency);
    }
    this.termsOf.set(slot, counts);
    this.lengths[slot] = documentTerms.length;
    this.totalLength += documentTerms.length;
  }

  remove(slot: number): void {
    const counts = this.termsOf.get(slot);
    if (!counts) return;
    for (const term of counts.keys()) {
      const list = this.postings.get(term);
      if (!list) continue;
      const at = list.slots.indexOf(slot);
      if (at >= 0) {
        // Swap-remove: posting order does not matter for scoring.
        const last = list.slots.length - 1;
        list.slots[at] = list.slots[last] ?? 0;
        list.frequencies[at] = list.frequencies[last] ?? 0;
        list.slots.pop();
        list.frequencies.pop();
      }
      if (list.slots.length === 0) this.postings.delete(term);
    }
    this.termsOf.delete(slot);
    this.totalLength -= this.lengths[slot] ?? 0;
    this.lengths[slot] = 0;
  }

  /** Whether the slot's document contains the term. */
  contains(slot: number, term: string): boolean {
    return this.termsOf.get(slot)?.has(term) ?? false;
  }

  /** Number of documents containing the term. */
  documentFrequency(term: string): number {
    return this.postings.get(term)?.slots.length ?? 0;
  }

  /** BM25's idf, never negative (the Lucene form). */
  idf(term: string): number {
    const n = this.size;
    const df = this.documentFrequency(term);
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /**
   * Scores every document that shares a term with the query (query terms weighted by
   * `weights`, 1 each by default) and returns the best `limit`, best first.
   */
  search(queryTerms: readonly string[], limit: number, allowed?: SlotBitmap, weights?: ReadonlyMap<string, number>): Scored[] {
    // One dense accumulator reused across calls (single-threaded), plus the slots touched.
    if (this.accumulator.length < this.lengths.length) this.accumulator = new Float64Array(Math.max(this.lengths.length, this.accumulator.length * 2, 64));
    const scores = this.accumulator;
    const touched: number[] = [];
    const seen = new Set<string>();
    const averageLength = this.size === 0 ? 1 : this.totalLength / this.size;
    const lengthFactor = this.k1 * this.b / averageLength;
    const constant = this.k1 * (1 - this.b);
    for (const term of queryTerms) {
      if (seen.has(term)) continue;
      seen.add(term);
      const list = this.postings.get(term);
      if (!list) continue;
      const weight = (weights?.get(term) ?? 1) * this.idf(term) * (this.k1 + 1);
      if (!(weight > 0)) continue;
      const { slots, frequencies } = list;
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i] ?? 0;
        if (allowed && allowed[slot] !== 1) continue;
        const tf = frequencies[i] ?? 0;
        const norm = constant + lengthFactor * (this.lengths[slot] ?? 0);
        if (scores[slot] === 0) touched.push(slot);
        scores[slot] = (scores[slot] ?? 0) + (weight * tf) / (tf + norm);
      }
    }
    const top = new TopK(limit);
    for (const slot of touched) {
      top.offer(slot, scores[slot] ?? 0);
      scores[slot] = 0;
    }
    return top.result();
  }
}
