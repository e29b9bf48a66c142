// Child process of the speed benchmark: builds a catalogue of N generated agents, serves it
// on 127.0.0.1 (development mode: no auth, a rate limit high enough not to interfere) and
// reports its port, index build time and memory over IPC.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Catalogue } from '../../discovery/index/catalogue.js';
import { LiveCatalogue } from '../../discovery/index/live.js';
import { readTools } from '../../discovery/quality/metatool.js';
import { SearchThread } from '../../discovery/index/search-thread.js';
import { startDiscoveryServer } from '../../discovery/server/server.js';
import { generatedEntries } from './catalogue.js';

const [catalogPath, countText] = process.argv.slice(2);
const tools = readTools(catalogPath ?? '');
const entries = generatedEntries(tools, Number(countText));

// As the operator serves discovery (discovery/service.ts): agents on the gRPC thread, the
// text indexes and ranking on a search thread. The build time runs until the thread has
// indexed every agent and built its ANN index.
const started = performance.now();
const live = new LiveCatalogue(new Catalogue({ textIndex: false, packEntries: true }));
for (const entry of entries) live.upsert(entry);
// The live catalogue holds its own (packed) copies: drop the generated objects.
entries.length = 0;
const searchThread = await SearchThread.start(live);
const indexBuildSeconds = (performance.now() - started) / 1000;
// Collect the bulk load's garbage now (the process runs with --expose-gc): otherwise the
// first full collection of a half-gigabyte heap lands in the measured seconds, which a
// server that has been running for a while does not see.
(globalThis as { gc?: () => void }).gc?.();
const server = await startDiscoveryServer({ live, rateLimit: { ratePerSecond: 1e9, burst: 1e9 }, rank: (query) => searchThread.rank(query) });

function rssMb(): { rss: number; peak: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

process.send?.({ kind: 'ready', port: server.port, indexBuildSeconds, usesAnn: searchThread.status.usesAnn, distinctVectors: searchThread.status.distinctVectors, ...rssMb() });
// How long the gRPC thread's event loop was held up (collections, long tasks): what every
// call waiting on it sees. Reset by the benchmark at the start of each measured run.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();

process.on('message', (message: { kind: string }) => {
  if (message.kind === 'loop-reset') loopDelay.reset();
  if (message.kind === 'loop') process.send?.({ kind: 'loop', p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 });
  if (message.kind === 'memory') process.send?.({ kind: 'memory', ...rssMb() });
  // CPU time spent so far (user + system, ms): the benchmark takes the difference over the load.
  if (message.kind === 'cpu') process.send?.({ kind: 'cpu', ms: (process.cpuUsage().user + process.cpuUsage().system) / 1000 });
  if (message.kind === 'stop') void server.close().then(() => searchThread.close()).then(() => process.exit(0));
});
