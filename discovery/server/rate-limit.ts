// Per-client rate limiting: a token bucket per caller identity; a call without a token is
// refused (RESOURCE_EXHAUSTED) rather than queued, so one client cannot slow the others.

export interface RateLimitOptions {
  /** Sustained calls per second per client. */
  readonly ratePerSecond: number;
  /** Calls a client may make at once after being idle. */
  readonly burst: number;
  readonly now?: () => number;
}

export class ClientRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; last: number }>();
  private readonly now: () => number;

  constructor(private readonly options: RateLimitOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
    if (!(options.burst >= 1)) throw new RangeError('burst must be >= 1');
    this.now = options.now ?? Date.now;
  }

  /** Takes a token for the client; false when its bucket is empty. */
  tryTake(client: string): boolean {
    const now = this.now();
    let bucket = this.buckets.get(client);
    if (!bucket) {
      // Forget idle clients now and then, so the map stays bounded.
      if (this.buckets.size > 10_000) this.sweep(now);
      bucket = { tokens: this.options.burst, last: now };
      this.buckets.set(client, bucket);
    }
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.last) / 1000) * this.options.ratePerSecond);
    bucket.last = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private sweep(now: number): void {
    const full = (this.options.burst / this.options.ratePerSecond) * 1000;
    for (const [client, bucket] of this.buckets) if (now - bucket.last > full) this.buckets.delete(client);
  }
}
