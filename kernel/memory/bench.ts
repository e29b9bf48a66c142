// Throughput and latency of the memory service through a real gRPC client on loopback.
// Called from bench/kernel.ts; every Put is fsynced before it is acknowledged.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { staticCallerResolver } from './callers.js';
import { MemoryClient } from './client.js';
import { InMemoryKeyStore } from './keystore.js';
import { startMemoryServer } from './server.js';

export interface MemoryBenchOptions {
  readonly entries: number;
  readonly valueBytes: number;
  /** Calls in flight at once (default 32). */
  readonly concurrency?: number;
}

export interface MemoryBenchResult {
  readonly putPerSecond: number;
  readonly getPerSecond: number;
  /** 99th percentile latency over all puts and gets, in milliseconds. */
  readonly p99Ms: number;
}

async function runPhase(count: number, concurrency: number, operation: (index: number) => Promise<unknown>, latencies: number[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      const begin = performance.now();
      await operation(index);
      latencies.push(performance.now() - begin);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return count / ((performance.now() - started) / 1000);
}

function percentile(values: number[], fraction: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? 0;
}

export async function benchMemory(options: MemoryBenchOptions): Promise<MemoryBenchResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshos-memory-bench-'));
  const totalBytes = options.entries * (options.valueBytes + 128) * 2;
  const server = await startMemoryServer({
    dataDir,
    keyStore: new InMemoryKeyStore(),
    resolveCaller: staticCallerResolver({ bench: { id: 'bench', trustScore: 100 } }),
    bands: [{ name: 'all', minTrust: 0, maxTrust: 100, quotaBytes: Math.max(totalBytes, 1024 * 1024) }],
    maxValueBytes: Math.max(options.valueBytes, 1),
    sweepIntervalMillis: 0,
  });
  const client = new MemoryClient(server.address, { token: 'bench' });
  try {
    const value = randomBytes(options.valueBytes);
    const concurrency = options.concurrency ?? 32;
    const latencies: number[] = [];
    const key = (index: number): string => `bench/${index}`;
    const putPerSecond = await runPhase(options.entries, concurrency, (index) => client.put({ mesh: 'bench', key: key(index), value, trustLevel: index % 101 }), latencies);
    const getPerSecond = await runPhase(options.entries, concurrency, (index) => client.get({ mesh: 'bench', key: key(index) }), latencies);
    return { putPerSecond, getPerSecond, p99Ms: percentile(latencies, 0.99) };
  } finally {
    client.close();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
