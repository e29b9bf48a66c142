import { describe, expect, it } from 'vitest';
import { WorkQueue } from './workqueue.js';
import { ManualClock } from '../ratelimit/manual-clock.js';

describe('WorkQueue', () => {
  it('collapses duplicate adds of a waiting key', async () => {
    const queue = new WorkQueue('test');
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.depth).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
  });

  it('never hands a key to two workers at once and replays an add made during processing', async () => {
    const queue = new WorkQueue('test');
    queue.add('a');
    const first = await queue.get();
    queue.add('a'); // event arrives while a worker holds "a"
    expect(queue.depth).toBe(0);
    let second: string | undefined;
    void queue.get().then((key) => (second = key));
    await Promise.resolve();
    expect(second).toBeUndefined();
    queue.done(first!);
    await Promise.resolve();
    expect(second).toBe('a');
  });

  it('hands a key straight to a waiting worker', async () => {
    const queue = new WorkQueue('test');
    const next = queue.get();
    queue.add('x');
    expect(await next).toBe('x');
    expect(queue.processingCount).toBe(1);
  });

  it('backs off per key exponentially and forgets on success', () => {
    const queue = new WorkQueue('test', { baseDelayMs: 10, maxDelayMs: 1000, clock: new ManualClock() });
    expect(queue.addRateLimited('k')).toBe(10);
    expect(queue.addRateLimited('k')).toBe(20);
    expect(queue.addRateLimited('k')).toBe(40);
    expect(queue.failureCount('k')).toBe(3);
    for (let i = 0; i < 10; i++) queue.addRateLimited('k');
    expect(queue.addRateLimited('k')).toBe(1000);
    queue.forget('k');
    expect(queue.addRateLimited('k')).toBe(10);
    queue.shutDown();
  });

  it('applies the overall retry bucket across keys', () => {
    const queue = new WorkQueue('test', { baseDelayMs: 1, retryQps: 10, retryBurst: 2, clock: new ManualClock() });
    expect(queue.addRateLimited('a')).toBe(1);
    expect(queue.addRateLimited('b')).toBe(1);
    // Third retry in the same instant waits for the bucket: 1 token at 10/s = 100 ms.
    expect(queue.addRateLimited('c')).toBeCloseTo(100);
    queue.shutDown();
  });

  it('delivers delayed keys and keeps the earliest delay', async () => {
    const queue = new WorkQueue('test');
    queue.addAfter('k', 50);
    queue.addAfter('k', 5000);
    expect(queue.delayedCount).toBe(1);
    const started = Date.now();
    expect(await queue.get()).toBe('k');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('releases waiting workers on shutdown', async () => {
    const queue = new WorkQueue('test');
    const next = queue.get();
    queue.shutDown();
    expect(await next).toBeUndefined();
    queue.add('late');
    expect(queue.depth).toBe(0);
  });
});
