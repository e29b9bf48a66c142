import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.js';

describe('seededRandom', () => {
  it('repeats the same sequence for the same seed, in [0, 1), and differs across seeds', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const first = Array.from({ length: 100 }, () => a());
    expect(Array.from({ length: 100 }, () => b())).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(8)()).not.toBe(first[0]);
    // Mulberry32's first output for seed 1 (reference value), so the sequence never drifts.
    expect(seededRandom(1)()).toBeCloseTo(0.6270739405881613, 15);
  });
});
