// Ranking on a thread of its own. Discovery runs inside the operator, and a search at
// 100,000 agents is most of a millisecond of CPU: on the gRPC thread it would hold up every
// other call, reconciliation included, and leave the machine's other core idle. The worker
// (search-worker.ts) keeps a full catalogue; the gRPC thread keeps a catalogue without text
// indexes (for Get, List and Watch) and sends every change, then searches, in one ordered
// stream, so a search sees every change made before it was asked.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../operator/log.js';
import type { RankedHit, RankedPage, SearchQuery } from './catalogue.js';
import type { AgentEntry } from './entry.js';
import type { LiveCatalogue } from './live.js';

export interface SearchThreadOptions {
  readonly semanticWeight?: number;
  readonly annThreshold?: number;
}

type Change = { readonly key: string; readonly entry?: AgentEntry };

export type ToSearchThread =
  | { readonly kind: 'changes'; readonly sequence: number; readonly changes: readonly Change[]; readonly prepare: boolean }
  | { readonly kind: 'search'; readonly id: number; readonly query: SearchQuery };

export type FromSearchThread =
  | { readonly kind: 'started' }
  | { readonly kind: 'applied'; readonly through: number; readonly size: number; readonly usesAnn: boolean; readonly distinctVectors: number }
  | { readonly kind: 'result'; readonly id: number; readonly hits: readonly RankedHit[]; readonly more: boolean }
  | { readonly kind: 'failed'; readonly id: number; readonly message: string };

/**
 * The worker: the JavaScript build from dist, or from source (under tsx and vitest) a small
 * module that registers tsx's loader in the new thread first, then imports the TypeScript
 * worker (`--import tsx` in a worker's execArgv registers too late on Node 20).
 */
function workerModule(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./search-worker.js', import.meta.url);
  // tsx's ESM entry (its CommonJS one registers a loader path that does not resolve).
  const tsx = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const worker = new URL('./search-worker.ts', import.meta.url).href;
  const source = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(worker)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/** Agents per message when a thread starts. */
const INITIAL_BATCH = 2_000;

/** Thrown for searches in flight when the thread stops; the caller answers UNAVAILABLE. */
export class SearchThreadUnavailable extends Error {}

export class SearchThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private sequence = 0;
  private readonly pending = new Map<number, { resolve: (result: RankedPage) => void; reject: (error: Error) => void }>();
  private queued: Change[] = [];
  private flushScheduled = false;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private appliedWaiters: { through: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  /** The last change batch the current thread reported applied. */
  private appliedThrough = 0;
  /** What the thread reported after the last batch it applied. */
  status = { size: 0, usesAnn: false, distinctVectors: 0, restarts: 0 };

  private constructor(
    private readonly live: LiveCatalogue,
    private readonly options: SearchThreadOptions,
    private readonly logger: Logger | undefined,
  ) {}

  /**
   * Starts the thread, loads what the live catalogue holds now and follows its changes from
   * here on; resolves once the thread has indexed the initial load (and built its ANN index).
   */
  static async start(live: LiveCatalogue, options: SearchThreadOptions = {}, logger?: Logger): Promise<SearchThread> {
    const thread = new SearchThread(live, options, logger);
    thread.unsubscribe = live.subscribe((type, entry) => thread.enqueue(type === 'REMOVED' ? { key: entry.key } : { key: entry.key, entry }));
    thread.spawn();
    await thread.applied();
    return thread;
  }

  /** Ranks on the thread: the hits by key, for the caller to resolve against its own agents. */
  rank(query: SearchQuery): Promise<RankedPage> {
    if (this.closed || !this.worker) return Promise.reject(new SearchThreadUnavailable('the search thread is stopped'));
    // Changes queued in this tick go first: a search sees every change made before it.
    this.flush();
    const id = this.nextId++;
    return new Promise<RankedPage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ kind: 'search', id, query });
    });
  }

  /** Resolves when the thread has applied every change sent so far. */
  applied(): Promise<void> {
    this.flush();
    const through = this.sequence;
    if (this.closed) return Promise.reject(new SearchThreadUnavailable('the search thread is stopped'));
    if (this.appliedThrough >= through) return Promise.resolve();
    return new Promise((resolve, reject) => this.appliedWaiters.push({ through, resolve, reject }));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    const worker = this.worker;
    this.worker = undefined;
    this.failPending('the search thread is stopped');
    for (const waiter of this.appliedWaiters.splice(0)) waiter.reject(new SearchThreadUnavailable('the search thread is stopped'));
    await worker?.terminate();
  }

  private spawn(): void {
    const worker = new Worker(workerModule(), { workerData: this.options });
    this.worker = worker;
    let started = false;
    let failure: Error | undefined;
    worker.on('message', (message: FromSearchThread) => {
      if (message.kind === 'started') started = true;
      this.receive(message);
    });
    worker.on('error', (error) => {
      failure = error;
      this.logger?.error({ err: error }, 'The discovery search thread failed');
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failPending(`the search thread exited with code ${code}; retry`);
      if (this.closed) return;
      if (!started) {
        // A thread that cannot even start (a broken install) would fail again: stop here.
        this.closed = true;
        const error = new SearchThreadUnavailable(`the search thread could not start: ${failure?.message ?? `exit code ${code}`}`);
        for (const waiter of this.appliedWaiters.splice(0)) waiter.reject(error);
        return;
      }
      // A new thread starts from the live catalogue, which holds every change.
      this.logger?.warn({ code }, 'The discovery search thread exited; starting a new one');
      this.status = { ...this.status, restarts: this.status.restarts + 1 };
      this.spawn();
    });
    // Everything the live catalogue holds, in one ordered stream ahead of any later change
    // (which it already includes), in batches: one message of 100,000 agents would hold them
    // unpacked and serialised all at once, a peak of several hundred megabytes.
    this.queued = [];
    const keys = this.live.catalogue.keys();
    for (let from = 0; from === 0 || from < keys.length; from += INITIAL_BATCH) {
      const changes: Change[] = [];
      for (const key of keys.slice(from, from + INITIAL_BATCH)) {
        const entry = this.live.catalogue.get(key);
        if (entry) changes.push({ key, entry });
      }
      this.sequence++;
      this.post({ kind: 'changes', sequence: this.sequence, changes, prepare: from + INITIAL_BATCH >= keys.length });
    }
  }

  private receive(message: FromSearchThread): void {
    switch (message.kind) {
      case 'result': {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        waiter?.resolve({ hits: message.hits, more: message.more });
        return;
      }
      case 'failed': {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        waiter?.reject(new Error(message.message));
        return;
      }
      case 'applied': {
        this.appliedThrough = message.through;
        this.status = { ...this.status, size: message.size, usesAnn: message.usesAnn, distinctVectors: message.distinctVectors };
        const ready = this.appliedWaiters.filter((waiter) => waiter.through <= message.through);
        this.appliedWaiters = this.appliedWaiters.filter((waiter) => waiter.through > message.through);
        for (const waiter of ready) waiter.resolve();
        return;
      }
      case 'started':
        return;
    }
  }

  private enqueue(change: Change): void {
    this.queued.push(change);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Changes arriving together (an informer's initial list, a burst of updates) go as one message.
    queueMicrotask(() => this.flush());
  }

  private flush(prepare = false): void {
    this.flushScheduled = false;
    if (this.queued.length === 0 && !prepare) return;
    const changes = this.queued;
    this.queued = [];
    this.sequence++;
    this.post({ kind: 'changes', sequence: this.sequence, changes, prepare });
  }

  private post(message: ToSearchThread): void {
    this.worker?.postMessage(message);
  }

  private failPending(reason: string): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of pending) waiter.reject(new SearchThreadUnavailable(reason));
  }
}
