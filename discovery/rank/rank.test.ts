import { describe, expect, it } from 'vitest';
import { Bm25Index, slotBitmap } from './bm25.js';
import { stem, terms } from './tokenize.js';
import { TopK } from './topk.js';

describe('tokenizer', () => {
  it('drops stop words and stems common endings', () => {
    expect(terms('I want an agent for translating the legal documents')).toEqual(['agent', 'translat', 'legal', stem('document')]);
    expect(stem('documents')).toBe(stem('document'));
    expect(stem('images')).toBe(stem('image'));
    expect(stem('running')).toBe('run');
    expect(stem('translation')).toBe(stem('translate'));
  });
});

describe('Bm25Index', () => {
  it('ranks by term rarity and frequency, filters slots, and forgets removed documents', () => {
    const index = new Bm25Index();
    index.set(0, terms('weather forecast rain wind'));
    index.set(1, terms('stock market prices'));
    index.set(2, terms('weather weather report'));
    expect(index.search(terms('weather forecast'), 10).map((hit) => hit.slot)).toEqual([0, 2]);
    expect(index.search(terms('weather'), 10, slotBitmap([0, 1], 3)).map((hit) => hit.slot)).toEqual([0]);
    index.remove(0);
    expect(index.search(terms('forecast'), 10)).toEqual([]);
    expect(index.size).toBe(2);
    index.set(2, terms('stock tips'));
    expect(index.search(terms('weather'), 10)).toEqual([]);
    expect(index.documentFrequency('stock')).toBe(2);
  });
});

describe('TopK', () => {
  it('keeps the k best, best first, ties by slot', () => {
    const top = new TopK(3);
    [5, 1, 9, 3, 9, 7].forEach((score, slot) => top.offer(slot, score));
    expect(top.result()).toEqual([
      { slot: 2, score: 9 },
      { slot: 4, score: 9 },
      { slot: 5, score: 7 },
    ]);
  });
});
