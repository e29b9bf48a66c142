// Okapi BM25 over a live set of documents identified by slot numbers. Postings are kept per
// term so a query touches only the documents that contain its terms. Everything per
// document and per posting lives in typed arrays, not in objects: at 100,000 agents the
// postings number in the millions, and as objects they made the heap large and every major
// garbage collection long (the tail latency of searches).
import { TopK, type Scored } from './topk.js';

export interface Bm25Options {
  /** Term-frequency saturation (default 1.2). */
  readonly k1?: number;
  /** Length normalisation (default 0.75). */
  readonly b?: number;
}

/**
 * Slots that may be returned, one bit per slot (`hasSlot`). Read once per posting: as bits,
 * 100,000 slots take 12.5 kB and stay in the CPU's first-level cache.
 */
export type SlotBitmap = Uint32Array;

export function hasSlot(bitmap: SlotBitmap, slot: number): boolean {
  return (((bitmap[slot >>> 5] ?? 0) >>> (slot & 31)) & 1) === 1;
}

/** A bitmap of `capacity` slots holding the given ones. */
export function slotBitmap(slots: Iterable<number>, capacity: number): SlotBitmap {
  const bitmap = new Uint32Array((capacity + 31) >>> 5);
  for (const slot of slots) bitmap[slot >>> 5] = ((bitmap[slot >>> 5] ?? 0) | (1 << (slot & 31))) >>> 0;
  return bitmap;
}

/** The documents holding one term, in no particular order. */
class Postings {
  slots = new Int32Array(4);
  frequencies = new Uint16Array(4);
  size = 0;
  /**
   * `tf / (tf + k1·(1 - b + b·length/averageLength))` per posting: the part of the BM25 score
   * that depends on the document only. Valid while `impactsVersion` equals the index's
   * version (any document change moves the average length, so it invalidates every term).
   */
  impacts = new Float32Array(0);
  impactsVersion = -1;

  push(slot: number, frequency: number): void {
    if (this.size === this.slots.length) {
      const slots = new Int32Array(this.size * 2);
      slots.set(this.slots);
      this.slots = slots;
      const frequencies = new Uint16Array(this.size * 2);
      frequencies.set(this.frequencies);
      this.frequencies = frequencies;
    }
    this.slots[this.size] = slot;
    this.frequencies[this.size] = frequency;
    this.size++;
    this.impactsVersion = -1;
  }

  /** Swap-remove: posting order does not matter for scoring. */
  delete(slot: number): void {
    const at = this.slots.subarray(0, this.size).indexOf(slot);
    if (at < 0) return;
    const last = this.size - 1;
    this.slots[at] = this.slots[last] as number;
    this.frequencies[at] = this.frequencies[last] as number;
    this.size = last;
    this.impactsVersion = -1;
  }
}

const MAX_FREQUENCY = 0xffff;

export class Bm25Index {
  private readonly k1: number;
  private readonly b: number;
  private readonly termIds = new Map<string, number>();
  private readonly postings: Postings[] = [];
  /** Term ids of each live slot, ascending (for removal and `contains`); undefined when free. */
  private readonly termsOf: (Int32Array | undefined)[] = [];
  private lengths = new Float64Array(64);
  private documents = 0;
  private totalLength = 0;
  /** Bumped on every change: cached impacts of an older version are recomputed. */
  private version = 0;
  // Scratch space reused across searches (single-threaded): a dense score per slot and the
  // slots touched, so a search allocates nothing proportional to the catalogue.
  private accumulator = new Float64Array(64);
  private touched = new Int32Array(64);

  constructor(options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? 0.75;
  }

  get size(): number {
    return this.documents;
  }

  /** Indexes the slot's terms, replacing what the slot held before. */
  set(slot: number, documentTerms: readonly string[]): void {
    this.remove(slot);
    const counts = new Map<number, number>();
    for (const term of documentTerms) {
      let id = this.termIds.get(term);
      if (id === undefined) {
        id = this.postings.length;
        this.termIds.set(term, id);
        this.postings.push(new Postings());
      }
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const ids = Int32Array.from(counts.keys()).sort();
    for (const id of ids) (this.postings[id] as Postings).push(slot, Math.min(counts.get(id) ?? 0, MAX_FREQUENCY));
    this.termsOf[slot] = ids;
    if (slot >= this.lengths.length) {
      const lengths = new Float64Array(Math.max(slot + 1, this.lengths.length * 2));
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    this.lengths[slot] = documentTerms.length;
    this.totalLength += documentTerms.length;
    this.documents++;
    this.version++;
  }

  remove(slot: number): void {
    const ids = this.termsOf[slot];
    if (!ids) return;
    for (const id of ids) this.postings[id]?.delete(slot);
    this.termsOf[slot] = undefined;
    this.totalLength -= this.lengths[slot] ?? 0;
    this.lengths[slot] = 0;
    this.documents--;
    this.version++;
  }

  /** Whether the slot's document contains the term. */
  contains(slot: number, term: string): boolean {
    const id = this.termIds.get(term);
    const ids = this.termsOf[slot];
    if (id === undefined || !ids) return false;
    // Binary search: the ids are sorted.
    let low = 0;
    let high = ids.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const value = ids[middle] as number;
      if (value === id) return true;
      if (value < id) low = middle + 1;
      else high = middle - 1;
    }
    return false;
  }

  /** Number of documents containing the term. */
  documentFrequency(term: string): number {
    const id = this.termIds.get(term);
    return id === undefined ? 0 : (this.postings[id]?.size ?? 0);
  }

  /** BM25's idf, never negative (the Lucene form). */
  idf(term: string): number {
    return this.idfOf(this.documentFrequency(term));
  }

  private idfOf(df: number): number {
    return Math.log(1 + (this.documents - df + 0.5) / (df + 0.5));
  }

  /** The term's per-posting impacts for the current version, computed on first use. */
  private impactsOf(list: Postings): Float32Array {
    if (list.impactsVersion === this.version) return list.impacts;
    if (list.impacts.length < list.size) list.impacts = new Float32Array(list.slots.length);
    const averageLength = this.documents === 0 ? 1 : this.totalLength / this.documents;
    const lengthFactor = (this.k1 * this.b) / averageLength;
    const constant = this.k1 * (1 - this.b);
    const { slots, frequencies, impacts, size } = list;
    const lengths = this.lengths;
    for (let i = 0; i < size; i++) {
      const tf = frequencies[i] as number;
      impacts[i] = tf / (tf + constant + lengthFactor * (lengths[slots[i] as number] as number));
    }
    list.impactsVersion = this.version;
    return impacts;
  }

  /**
   * Scores every document that shares a term with the query (query terms weighted by
   * `weights`, 1 each by default) and returns the best `limit`, best first.
   */
  search(queryTerms: readonly string[], limit: number, allowed?: SlotBitmap, weights?: ReadonlyMap<string, number>): Scored[] {
    const capacity = this.lengths.length;
    if (this.accumulator.length < capacity) {
      this.accumulator = new Float64Array(capacity);
      this.touched = new Int32Array(capacity);
    }
    const scores = this.accumulator;
    const touched = this.touched;
    let touchedCount = 0;
    const seen = new Set<number>();
    for (const term of queryTerms) {
      const id = this.termIds.get(term);
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      const list = this.postings[id] as Postings;
      if (list.size === 0) continue;
      const weight = (weights?.get(term) ?? 1) * this.idfOf(list.size) * (this.k1 + 1);
      if (!(weight > 0)) continue;
      const impacts = this.impactsOf(list);
      touchedCount = allowed
        ? accumulateAllowed(list.slots, impacts, list.size, weight, allowed, scores, touched, touchedCount)
        : accumulate(list.slots, impacts, list.size, weight, scores, touched, touchedCount);
    }
    const top = new TopK(limit);
    for (let i = 0; i < touchedCount; i++) {
      const slot = touched[i] as number;
      const score = scores[slot] as number;
      scores[slot] = 0;
      if (score >= top.threshold) top.offer(slot, score);
    }
    return top.result();
  }
}

// The inner loops of a search, as small functions of typed arrays only: the compiler keeps
// them monomorphic and tight (the whole cost of BM25 at 100,000 agents is here).

/** Adds `weight · impact` to the score of every posting's slot the bitmap allows; returns the new touched count. */
function accumulateAllowed(slots: Int32Array, impacts: Float32Array, size: number, weight: number, allowed: SlotBitmap, scores: Float64Array, touched: Int32Array, touchedCount: number): number {
  let count = touchedCount;
  for (let i = 0; i < size; i++) {
    const slot = slots[i] as number;
    if ((((allowed[slot >>> 5] as number) >>> (slot & 31)) & 1) === 0) continue;
    const previous = scores[slot] as number;
    if (previous === 0) touched[count++] = slot;
    scores[slot] = previous + weight * (impacts[i] as number);
  }
  return count;
}

function accumulate(slots: Int32Array, impacts: Float32Array, size: number, weight: number, scores: Float64Array, touched: Int32Array, touchedCount: number): number {
  let count = touchedCount;
  for (let i = 0; i < size; i++) {
    const slot = slots[i] as number;
    const previous = scores[slot] as number;
    if (previous === 0) touched[count++] = slot;
    scores[slot] = previous + weight * (impacts[i] as number);
  }
  return count;
}
