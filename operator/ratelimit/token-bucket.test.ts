import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';
import { backoffDelay } from './backoff.js';
import { ManualClock } from './manual-clock.js';

describe('TokenBucket', () => {
  it('allows a burst, then spaces tokens at the refill rate', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(10, 3, clock);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBeCloseTo(100);
    expect(bucket.reserve()).toBeCloseTo(200);
    clock.advance(1000);
    // Refilled to the burst, not beyond: 1 s at 10/s would be 10 tokens, minus the 2 owed.
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBeCloseTo(100);
  });

  it('rejects nonsense rates', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(/ratePerSecond/);
    expect(() => new TokenBucket(1, 0)).toThrow(/burst/);
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt and stays within the cap', () => {
    const max = () => 1;
    expect(backoffDelay(0, 1000, 30_000, max)).toBe(1000);
    expect(backoffDelay(1, 1000, 30_000, max)).toBe(2000);
    expect(backoffDelay(4, 1000, 30_000, max)).toBe(16_000);
    expect(backoffDelay(10, 1000, 30_000, max)).toBe(30_000);
    expect(backoffDelay(10, 1000, 30_000, () => 0)).toBe(22_500);
  });
});
