// Throughput and latency of the memory service through a real gRPC client on loopback.
// Called from bench/kernel.ts; every Put is fsynced before it is acknowledged.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { staticCallerResolver } from './callers.js';
import { MemoryClient } from './client.js';
import { InMemoryKeyStore } from './keystore.js';
import * as grpc from '@grpc/grpc-js';
import { loadMemoryPackageDefinition, startMemoryServer } from './server.js';

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
  try {
    return await measure(server.address, options);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Puts then gets `entries` values through a real gRPC client against the server at `address`. */
async function measure(address: string, options: MemoryBenchOptions): Promise<MemoryBenchResult> {
  const client = new MemoryClient(address, { token: 'bench' });
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
  }
}

/**
 * The baseline: the same proto and client against a bare grpc-js server that keeps values in a
 * Map — no caller check, no encryption, no fsync, no quotas. The ratio to it is what trust
 * checks, AES-GCM and durability cost.
 */
export async function benchBareGrpcMap(options: MemoryBenchOptions): Promise<MemoryBenchResult> {
  const definition = grpc.loadPackageDefinition(loadMemoryPackageDefinition()) as unknown as {
    meshos: { memory: { v1: { ContextMemory: { service: grpc.ServiceDefinition } } } };
  };
  const values = new Map<string, { value: Buffer; trustLevel: number }>();
  type Call<T> = grpc.ServerUnaryCall<T, unknown>;
  type Done = grpc.sendUnaryData<unknown>;
  const server = new grpc.Server();
  server.addService(definition.meshos.memory.v1.ContextMemory.service, {
    put: (call: Call<{ mesh: string; key: string; value: Buffer; trustLevel: number }>, done: Done) => {
      values.set(`${call.request.mesh}/${call.request.key}`, { value: call.request.value, trustLevel: call.request.trustLevel });
      done(null, {});
    },
    get: (call: Call<{ mesh: string; key: string }>, done: Done) => {
      const entry = values.get(`${call.request.mesh}/${call.request.key}`);
      if (!entry) return done({ code: grpc.status.NOT_FOUND, details: 'not found' });
      done(null, { value: entry.value, trustLevel: entry.trustLevel });
    },
    delete: (_call: unknown, done: Done) => done(null, {}),
    list: (_call: unknown, done: Done) => done(null, { entries: [] }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  try {
    return await measure(`127.0.0.1:${port}`, options);
  } finally {
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
}
