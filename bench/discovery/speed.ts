// Speed of discovery over real gRPC: a server process per catalogue size, 8 concurrent
// clients (one connection each, all in a load process of their own) running filtered
// searches in closed loops.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LabelledQuery } from '../../discovery/quality/metatool.js';
import type { LoadDone, LoadRequest } from './load-process.js';

export interface SpeedResult {
  latency: Record<string, { p50Ms: number; p99Ms: number; qps: number }>;
  /** At the largest size measured. */
  indexBuildSeconds: number;
  /** Peak resident memory of the server process at the largest size measured. */
  serverRssMb: number;
  speedDetails: Record<string, unknown>;
}

export interface SpeedOptions {
  readonly catalogPath: string;
  readonly queries: readonly LabelledQuery[];
  readonly sizes: readonly number[];
  readonly durationSeconds: number;
  readonly clients?: number;
}

interface ReadyMessage {
  kind: 'ready';
  port: number;
  indexBuildSeconds: number;
  usesAnn: boolean;
  distinctVectors: number;
  rss: number;
  peak: number;
}

function startServer(catalogPath: string, size: number): Promise<{ child: ChildProcess; ready: ReadyMessage }> {
  const script = fileURLToPath(new URL('./server-process.ts', import.meta.url));
  const child = fork(script, [catalogPath, String(size)], { execArgv: ['--import', 'tsx', '--max-old-space-size=4096', '--expose-gc', ...(process.env['DISCOVERY_BENCH_PROFILE'] ? ['--cpu-prof', '--cpu-prof-dir=' + process.env['DISCOVERY_BENCH_PROFILE']] : []), ...(process.env['DISCOVERY_BENCH_SERVER_FLAGS']?.split(' ').filter(Boolean) ?? [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`discovery server for ${size} agents exited with ${code}`)));
    child.on('message', (message: { kind: string }) => {
      if (message.kind === 'ready') resolve({ child, ready: message as ReadyMessage });
    });
  });
}

function ask<T>(child: ChildProcess, kind: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (message: { kind: string }): void => {
      if (message.kind !== kind) return;
      child.off('message', listener);
      resolve(message as T);
    };
    child.on('message', listener);
    child.send({ kind });
  });
}

/** The rate of the paced run (the throughput target). */
const TARGET_RATE = 1000;

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Runs the clients in their own process (bench/discovery/load-process.ts) and brackets the
 * measured part with the server's CPU time.
 */
async function load(
  port: number,
  queries: readonly LabelledQuery[],
  clients: number,
  seconds: number,
  serverCpuMs: () => Promise<number>,
  rate?: number,
): Promise<Omit<LoadDone, 'kind'> & { serverCpuMs: number }> {
  const script = fileURLToPath(new URL('./load-process.ts', import.meta.url));
  const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let serverCpuBefore = 0;
  const done = await new Promise<LoadDone>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`discovery load clients exited with ${code} before reporting`)));
    child.on('message', (message: { kind: string }) => {
      if (message.kind === 'warm') {
        void serverCpuMs().then((ms) => {
          serverCpuBefore = ms;
          child.send({ kind: 'go' });
        });
      }
      if (message.kind === 'done') resolve(message as LoadDone);
    });
    const request: LoadRequest = { kind: 'start', port, queries: queries.map((query) => query.query), clients, seconds, ...(rate === undefined ? {} : { rate }) };
    child.send(request);
  });
  const serverCpu = (await serverCpuMs()) - serverCpuBefore;
  child.removeAllListeners('exit');
  const { kind: _kind, ...measured } = done;
  return { ...measured, serverCpuMs: serverCpu };
}

export async function runSpeedBenchmark(options: SpeedOptions): Promise<SpeedResult> {
  const clients = options.clients ?? 8;
  const latency: SpeedResult['latency'] = {};
  const details: Record<string, unknown> = {};
  let indexBuildSeconds = 0;
  let serverRssMb = 0;
  for (const size of options.sizes) {
    const { child, ready } = await startServer(options.catalogPath, size);
    try {
      child.send({ kind: 'loop-reset' });
      const { latencies, elapsed, errors, clientCpuMs, serverCpuMs, clientEventLoopDelayP99Ms, clientEventLoopDelayMaxMs } = await load(ready.port, options.queries, clients, options.durationSeconds, async () => (await ask<{ ms: number }>(child, 'cpu')).ms);
      const loopClosed = await ask<{ p99Ms: number; maxMs: number }>(child, 'loop');
      child.send({ kind: 'loop-reset' });
      // The same clients paced to the target rate (open loop): the latency a caller sees at
      // 1,000 searches per second, rather than with the server saturated.
      const paced = await load(ready.port, options.queries, clients, options.durationSeconds, async () => (await ask<{ ms: number }>(child, 'cpu')).ms, TARGET_RATE);
      const pacedSorted = [...paced.latencies].sort((a, b) => a - b);
      const loopPaced = await ask<{ p99Ms: number; maxMs: number }>(child, 'loop');
      const atTargetRate = { rate: TARGET_RATE, p50Ms: round(percentile(pacedSorted, 50)), p99Ms: round(percentile(pacedSorted, 99)), qps: round(paced.latencies.length / paced.elapsed, 1), errors: paced.errors, serverEventLoopDelayP99Ms: round(loopPaced.p99Ms), serverEventLoopDelayMaxMs: round(loopPaced.maxMs), clientEventLoopDelayP99Ms: round(paced.clientEventLoopDelayP99Ms), clientEventLoopDelayMaxMs: round(paced.clientEventLoopDelayMaxMs) };
      const memory = await ask<{ rss: number; peak: number }>(child, 'memory');
      const sorted = [...latencies].sort((a, b) => a - b);
      latency[String(size)] = { p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)), qps: round(latencies.length / elapsed, 1) };
      details[String(size)] = { indexBuildSeconds: round(ready.indexBuildSeconds), serverRssMb: round(memory.rss, 1), serverPeakRssMb: round(memory.peak, 1), usesAnn: ready.usesAnn,
        // Agents with identical summaries share one vector; the composed agents rarely do.
        distinctVectors: ready.distinctVectors, searches: latencies.length, errors, serverEventLoopDelayP99Ms: round(loopClosed.p99Ms), serverEventLoopDelayMaxMs: round(loopClosed.maxMs), clientEventLoopDelayP99Ms: round(clientEventLoopDelayP99Ms), clientEventLoopDelayMaxMs: round(clientEventLoopDelayMaxMs), atTargetRate,
        // CPU per search in each process: what the machine's 2 cores are shared by.
        serverCpuMsPerSearch: round(serverCpuMs / Math.max(latencies.length, 1)), clientCpuMsPerSearch: round(clientCpuMs / Math.max(latencies.length, 1)) };
      indexBuildSeconds = round(ready.indexBuildSeconds);
      serverRssMb = round(memory.peak, 1);
      console.log(`${size} agents: index built in ${round(ready.indexBuildSeconds, 2)} s (ANN ${ready.usesAnn}), p50 ${latency[String(size)]?.p50Ms} ms, p99 ${latency[String(size)]?.p99Ms} ms, ${latency[String(size)]?.qps} qps, RSS ${round(memory.rss)} MB (peak ${round(memory.peak)}), errors ${errors}, CPU per search: server ${round(serverCpuMs / Math.max(latencies.length, 1))} ms, clients ${round(clientCpuMs / Math.max(latencies.length, 1))} ms; paced to ${TARGET_RATE}/s: p50 ${atTargetRate.p50Ms} ms, p99 ${atTargetRate.p99Ms} ms; event-loop delay p99/max: server ${round(loopClosed.p99Ms)}/${round(loopClosed.maxMs)} ms closed, ${atTargetRate.serverEventLoopDelayP99Ms}/${atTargetRate.serverEventLoopDelayMaxMs} ms paced; clients ${round(clientEventLoopDelayP99Ms)}/${round(clientEventLoopDelayMaxMs)} ms closed, ${atTargetRate.clientEventLoopDelayP99Ms}/${atTargetRate.clientEventLoopDelayMaxMs} ms paced`);
    } finally {
      child.removeAllListeners('exit');
      child.send({ kind: 'stop' });
      await new Promise((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve(undefined);
        });
      });
    }
  }
  return {
    latency,
    indexBuildSeconds,
    serverRssMb,
    speedDetails: {
      ...details,
      clients,
      durationSeconds: options.durationSeconds,
      latencyMethod: 'latency.<n>: 8 clients in closed loops, flat out (the server saturated); atTargetRate: the same clients paced to 1,000 searches/s in total (open loop, latency from the scheduled send time)',
      request: 'Search, limit 10, filters minTrustScore 60 + one certification + maxLatencyMs 1500, MetaTool query texts; development mode (no auth) on 127.0.0.1; server and the 8 clients each in their own process; the server collects its heap once after the bulk load',
      indexBuildSecondsAndRssAt: options.sizes[options.sizes.length - 1],
    },
  };
}
