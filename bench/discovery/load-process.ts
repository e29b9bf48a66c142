// Child process of the speed benchmark: the 8 gRPC clients, in a process of their own so
// neither the server nor the benchmark's own heap (the quality run before) shares their event
// loop or their garbage collections. Closed loops: each client sends its next search when
// the last one answered. Talks to the parent over IPC: `warm` when warmed up, then waits
// for `go`, then reports `done` with the latencies.
import * as grpc from '@grpc/grpc-js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SearchRequest, AgentDiscoveryClient } from '../../discovery/generated/meshos/discovery/v1/discovery.js';
import { CERTIFICATIONS } from './catalogue.js';

export interface LoadRequest {
  kind: 'start';
  port: number;
  queries: string[];
  clients: number;
  seconds: number;
  /**
   * Total searches per second, spread evenly over the clients, sent on schedule whether or not
   * the last one was answered (open loop), with latency counted from the scheduled send time
   * (so a stall is not hidden by the requests it delayed). Absent: closed loops, flat out.
   */
  rate?: number;
}

export interface LoadDone {
  kind: 'done';
  latencies: number[];
  elapsed: number;
  errors: number;
  clientCpuMs: number;
  /**
   * How long the clients' own event loop was held up (their collections, decoding): latency
   * is timed on it, so a stall here shows in the figures without being the server's.
   */
  clientEventLoopDelayP99Ms: number;
  clientEventLoopDelayMaxMs: number;
}

async function run({ port, queries, clients, seconds, rate }: LoadRequest, go: Promise<void>): Promise<LoadDone> {
  const channels = Array.from({ length: clients }, () => new AgentDiscoveryClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_channelz': 0 }));
  const latencies: number[] = [];
  let errors = 0;
  const requests = queries.map((query, i) =>
    SearchRequest.fromPartial({ query, limit: 10, filters: { minTrustScore: 60, certifications: [CERTIFICATIONS[i % 3] ?? 'ISO27001'], maxLatencyMs: 1500 } }),
  );
  const search = (client: AgentDiscoveryClient, request: SearchRequest): Promise<void> =>
    new Promise((resolve) => {
      client.search(request, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (error) => {
        if (error) errors++;
        resolve();
      });
    });
  // Warm up connections and JIT before measuring.
  const warmUntil = Date.now() + 2_000;
  await Promise.all(
    channels.map(async (client, c) => {
      for (let i = c; Date.now() < warmUntil; i += clients) await search(client, requests[i % requests.length] as SearchRequest);
    }),
  );
  process.send?.({ kind: 'warm' });
  await go;
  errors = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const clientCpuBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + seconds * 1000;
  if (rate === undefined) {
    await Promise.all(
      channels.map(async (client, c) => {
        for (let i = c; performance.now() < until; i += clients) {
          const sent = performance.now();
          await search(client, requests[i % requests.length] as SearchRequest);
          latencies.push(performance.now() - sent);
        }
      }),
    );
  } else {
    const interval = 1000 / rate;
    const inFlight: Promise<void>[] = [];
    for (let i = 0; ; i++) {
      const due = started + i * interval;
      if (due >= until) break;
      // Sleep, not spin (a spinning client would take a core from the server); a late timer
      // sends the requests that fell due together, each timed from when it was due.
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const client = channels[i % clients] as AgentDiscoveryClient;
      inFlight.push(search(client, requests[i % requests.length] as SearchRequest).then(() => void latencies.push(performance.now() - due)));
    }
    await Promise.all(inFlight);
  }
  const elapsed = (performance.now() - started) / 1000;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  loopDelay.disable();
  for (const client of channels) client.close();
  return {
    kind: 'done',
    latencies,
    elapsed,
    errors,
    clientCpuMs: (clientCpu.user + clientCpu.system) / 1000,
    clientEventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    clientEventLoopDelayMaxMs: loopDelay.max / 1e6,
  };
}

let release: () => void = () => undefined;
const go = new Promise<void>((resolve) => (release = resolve));
process.on('message', (message: { kind: string }) => {
  if (message.kind === 'go') release();
  if (message.kind === 'start') {
    void run(message as LoadRequest, go).then((done) => {
      process.send?.(done, () => process.exit(0));
    });
  }
});
