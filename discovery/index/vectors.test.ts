import { describe, expect, it } from 'vitest';
import { normalise } from '../rank/embed.js';
import { WORD_VECTOR_DIMENSIONS } from '../rank/word-vectors.js';
import { VectorStore } from './vectors.js';

/** Mulberry32, so every run draws the same vectors. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function unitVector(random: () => number): Float32Array {
  return normalise(Float32Array.from({ length: WORD_VECTOR_DIMENSIONS }, () => random() - 0.5));
}

/** 600 slots drawing from 40 distinct vectors (many agents share a summary), some slots without one. */
function fill(store: VectorStore, random: () => number): Float32Array[] {
  const distinct = Array.from({ length: 40 }, () => unitVector(random));
  for (let slot = 0; slot < 600; slot++) {
    const vector = slot % 17 === 0 ? undefined : distinct[Math.floor(random() * distinct.length)];
    store.set(slot, vector ? Float32Array.from(vector) : undefined);
  }
  return distinct;
}

describe('VectorStore', () => {
  it('stores identical vectors once and frees a group with its last member', () => {
    const store = new VectorStore();
    const random = seeded(1);
    const a = unitVector(random);
    const b = unitVector(random);
    store.set(0, Float32Array.from(a));
    store.set(1, Float32Array.from(a));
    store.set(2, Float32Array.from(b));
    expect(store.size).toBe(3);
    expect(store.distinct).toBe(2);
    expect(store.similarity(a, 1)).toBeCloseTo(1, 5);
    store.remove(2);
    expect(store.distinct).toBe(1);
    expect(store.similarity(a, 2)).toBe(0);
    // Re-pointing a slot moves it between groups.
    store.set(1, Float32Array.from(b));
    expect(store.distinct).toBe(2);
    expect(store.similarity(b, 1)).toBeCloseTo(1, 5);
    store.remove(0);
    store.remove(1);
    expect(store.distinct).toBe(0);
    expect(store.size).toBe(0);
  });

  it('finds the same filtered top-k walking distinct vectors as scanning the candidates', () => {
    const random = seeded(7);
    const store = new VectorStore();
    fill(store, random);
    for (let slot = 0; slot < 600; slot += 5) store.remove(slot);
    for (let round = 0; round < 20; round++) {
      const query = unitVector(random);
      const allowed = new Set(Array.from({ length: 600 }, (_, slot) => slot).filter(() => random() < 0.3));
      const accept = (slot: number): boolean => allowed.has(slot);
      const byGroup = store.exactByGroup(query, 25, accept, allowed.size / 600);
      const scan = store.exact(query, 25, [...allowed]);
      expect(byGroup).toEqual(scan);
      expect(byGroup.every((hit) => allowed.has(hit.slot))).toBe(true);
    }
  });

  it('answers from the HNSW index over distinct vectors with members that pass the filter', () => {
    const random = seeded(11);
    const store = new VectorStore({ annThreshold: 10 });
    const distinct = fill(store, random);
    store.prepare();
    expect(store.usesAnn).toBe(true);
    const query = distinct[3] as Float32Array;
    const accept = (slot: number): boolean => slot % 2 === 0;
    const hits = store.nearest(query, 5, accept, 0.5);
    expect(hits).toHaveLength(5);
    expect(hits.every((hit) => accept(hit.slot) && hit.score > 0.999)).toBe(true);
    expect(hits).toEqual(store.exact(query, 5, undefined, accept));
  });
});
