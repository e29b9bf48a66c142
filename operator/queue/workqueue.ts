import { TokenBucket } from '../ratelimit/token-bucket.js';
import { systemClock, type Clock } from '../ratelimit/clock.js';

export interface WorkQueueOptions {
  /** Per-key exponential backoff for failed keys: base doubles per failure up to max. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Overall limit on retries (rate-limited re-adds), like client-go's 10 qps / 100 burst bucket. */
  retryQps?: number;
  retryBurst?: number;
  clock?: Clock;
}

/**
 * A work queue with client-go's guarantees: a key waiting in the queue is held once however
 * often it is added (duplicate events collapse); a key is never handed to two workers at once
 * (an add while it is processed is replayed when `done` is called); failed keys come back after
 * the larger of a per-key exponential backoff and an overall token-bucket delay.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly retryBucket: TokenBucket;
  private readonly clock: Clock;
  private shuttingDown = false;

  constructor(
    readonly name: string,
    private readonly options: WorkQueueOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.retryBucket = new TokenBucket(options.retryQps ?? 10, options.retryBurst ?? 100, this.clock);
  }

  /** Keys waiting (not counting those being processed or delayed). */
  get depth(): number {
    return this.queue.length - this.head;
  }

  get processingCount(): number {
    return this.processing.size;
  }

  get delayedCount(): number {
    return this.delayed.size;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // replayed by done()
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
  }

  /** Adds the key after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.delayed.set(key, { at, timer });
  }

  /** Re-adds a failed key after its backoff; returns the delay chosen. */
  addRateLimited(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const perKey = Math.min(this.options.maxDelayMs ?? 300_000, (this.options.baseDelayMs ?? 5) * 2 ** failures);
    const overall = this.retryBucket.reserve();
    const delay = Math.max(perKey, overall);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the key's failure count after a success. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Waits for the next key; undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    if (this.head < this.queue.length) {
      const key = this.queue[this.head++] as string;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks the key finished; if it was added meanwhile it goes back in the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}
