import { describe, expect, it } from 'vitest';
import { entrySize, MemoryPools, validateBands, type MemoryEntry, type TrustBand } from './pools.js';

// `size` is the entry's total accounted bytes (value + key + mesh).
const bands: TrustBand[] = [
  { name: 'low', minTrust: 0, maxTrust: 39, quotaBytes: 30 },
  { name: 'medium', minTrust: 40, maxTrust: 69, quotaBytes: 30 },
  { name: 'high', minTrust: 70, maxTrust: 100, quotaBytes: 30 },
];

function entry(key: string, trustLevel: number, size = 10, expiresAt?: number): MemoryEntry {
  return { mesh: 'm', key, value: Buffer.alloc(size - key.length - 1), trustLevel, expiresAt, updatedAt: 0, writer: 'test' };
}

function fixture(capacityBytes?: number) {
  let now = 1_000;
  const pools = new MemoryPools({ bands, clock: () => now, ...(capacityBytes !== undefined ? { capacityBytes } : {}) });
  return { pools, advance: (millis: number) => (now += millis), keys: () => [...pools.entries()].map((e) => e.key).sort() };
}

describe('validateBands', () => {
  it('accepts bands covering 0..100 and rejects gaps, overlaps and short ranges', () => {
    expect(() => validateBands(bands)).not.toThrow();
    expect(() => validateBands([{ name: 'a', minTrust: 0, maxTrust: 50, quotaBytes: 1 }])).toThrow(/end at 50/);
    expect(() => validateBands([{ name: 'a', minTrust: 1, maxTrust: 100, quotaBytes: 1 }])).toThrow(/starts at 1/);
    expect(() => validateBands([{ name: 'a', minTrust: 0, maxTrust: 100, quotaBytes: 0 }])).toThrow(/quotaBytes/);
  });
});

describe('MemoryPools', () => {
  it('accounts bytes per band and in total', () => {
    const { pools } = fixture();
    pools.put(entry('a', 10));
    pools.put(entry('b', 50, 4));
    expect(entrySize(entry('a', 10))).toBe(10);
    expect(pools.usage().map((band) => band.usedBytes)).toEqual([10, 4, 0]);
    expect(pools.bytes).toBe(14);
    pools.put(entry('a', 80, 4)); // moves band
    expect(pools.usage().map((band) => band.usedBytes)).toEqual([0, 4, 4]);
    pools.remove('m', 'b');
    expect(pools.bytes).toBe(4);
    expect(pools.size).toBe(1);
    expect(pools.usage()[2]).toEqual({ name: 'high', entries: 1, usedBytes: 4, quotaBytes: 30 });
  });

  it('evicts the least recently used entry of a full band', () => {
    const { pools, keys } = fixture();
    pools.put(entry('a', 10));
    pools.put(entry('b', 10));
    pools.put(entry('c', 10));
    pools.get('m', 'a'); // a is now the most recent
    const plan = pools.put(entry('d', 10));
    expect(plan.ok && plan.evict.map((e) => e.key)).toEqual(['b']);
    expect(keys()).toEqual(['a', 'c', 'd']);
  });

  it('replacing an entry frees its own bytes first', () => {
    const { pools } = fixture();
    pools.put(entry('a', 10));
    pools.put(entry('b', 10));
    pools.put(entry('c', 10));
    const plan = pools.put(entry('a', 10, 8));
    expect(plan.ok && plan.evict).toEqual([]);
    expect(pools.bytes).toBe(28);
  });

  it('frees shared capacity from the lowest band first, LRU within it', () => {
    const { pools, keys } = fixture(40);
    pools.put(entry('l1', 10));
    pools.put(entry('l2', 10));
    pools.put(entry('m1', 50));
    pools.put(entry('h1', 80)); // 40 bytes held
    pools.get('m', 'l1');
    const plan = pools.put(entry('h2', 90, 16)); // needs 16 bytes: both low entries go, LRU first
    expect(plan.ok && plan.evict.map((e) => e.key)).toEqual(['l2', 'l1']);
    expect(keys()).toEqual(['h1', 'h2', 'm1']);
    const next = pools.put(entry('m2', 50)); // low is empty now: the medium band gives way
    expect(next.ok && next.evict.map((e) => e.key)).toEqual(['m1']);
  });

  it('never evicts higher-trust entries for a lower-trust put', () => {
    const { pools, keys } = fixture(30);
    pools.put(entry('h1', 80));
    pools.put(entry('h2', 80));
    pools.put(entry('l1', 10));
    const plan = pools.put(entry('l2', 10));
    expect(plan.ok && plan.evict.map((e) => e.key)).toEqual(['l1']);
    pools.remove('m', 'l2');
    pools.put(entry('h3', 80));
    const refused = pools.put(entry('l3', 10));
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toMatch(/memory is full/);
    expect(keys()).toEqual(['h1', 'h2', 'h3']);
  });

  it('refuses an entry larger than its band quota without evicting anything', () => {
    const { pools } = fixture();
    pools.put(entry('a', 10));
    const plan = pools.put(entry('big', 10, 40));
    expect(plan.ok).toBe(false);
    expect(!plan.ok && plan.reason).toMatch(/quota of trust band low/);
    expect(pools.size).toBe(1);
  });

  it('hides expired entries, collects them on access and by sweep, and prefers them to live victims', () => {
    const { pools, advance, keys } = fixture();
    pools.put(entry('a', 10, 8, 2_000));
    pools.put(entry('b', 10, 8, 5_000));
    pools.put(entry('c', 10, 8));
    advance(1_500); // now 2500: a expired
    expect(pools.list('m', '').entries.map((e) => e.key)).toEqual(['b', 'c']);
    const plan = pools.put(entry('d', 10));
    expect(plan.ok && plan.evict).toEqual([]); // the expired a made room
    expect(keys()).toEqual(['b', 'c', 'd']);
    advance(3_000);
    expect(pools.get('m', 'b')).toBeUndefined();
    expect(pools.sweep()).toEqual([]);
    pools.put(entry('e', 10, 8, 6_000));
    advance(1_000);
    expect(pools.sweep().map((e) => e.key)).toEqual(['e']);
    expect(pools.bytes).toBe(18);
  });

  it('lists a mesh by prefix in key order with paging and a filter', () => {
    const { pools } = fixture(1_000);
    for (const key of ['p/c', 'p/a', 'q/a', 'p/b']) pools.put(entry(key, 10, 5));
    pools.put({ ...entry('p/d', 10, 5), mesh: 'other' });
    const first = pools.list('m', 'p/', '', () => true, 2);
    expect(first.entries.map((e) => e.key)).toEqual(['p/a', 'p/b']);
    expect(first.more).toBe(true);
    const second = pools.list('m', 'p/', 'p/b', () => true, 2);
    expect(second.entries.map((e) => e.key)).toEqual(['p/c']);
    expect(second.more).toBe(false);
    expect(pools.list('m', '', '', (e) => e.key !== 'q/a').entries).toHaveLength(3);
  });
});
