import { systemClock, type Clock } from './clock.js';

/**
 * A token bucket: `ratePerSecond` tokens refill continuously up to `burst`.
 * `reserve()` takes a token now and returns how long the caller must wait for it,
 * so callers queue fairly without polling.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
    if (!(burst >= 1)) throw new RangeError('burst must be >= 1');
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Takes one token; returns the delay in ms until that token is really available (0 if now). */
  reserve(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.ratePerSecond) * 1000;
  }

  /** Waits until a token is available. */
  async take(): Promise<void> {
    const delay = this.reserve();
    if (delay > 0) await this.clock.sleep(delay);
  }
}
