import type { KubeClient, WatchEvent } from '../kube/client.js';
import { ApiError, getErrorMessage, isGone } from '../kube/errors.js';
import { objectKey, type KubeObject } from '../kube/object.js';
import type { ResourceType } from '../kube/resources.js';
import { backoffDelay } from '../ratelimit/backoff.js';
import { systemClock, type Clock } from '../ratelimit/clock.js';
import { ObjectStore } from './store.js';

export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  /** Also called with `previous === current` on periodic resync. */
  onUpdate?(previous: T, current: T): void;
  onDelete?(object: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** Re-delivers every cached object as an update this often, so a lost event is healed (0 = off). */
  resyncPeriodMs?: number;
  /**
   * Restarts a watch that delivered nothing (not even a bookmark) for this long. The API server
   * sends bookmarks about once a minute, so a longer silence means a dead stream: the failure
   * @kubernetes/client-node's informer shows (kubernetes-client/javascript #596, #958).
   */
  watchSilenceMs?: number;
  /** Server-side watch timeout, randomised in [min, max] so watches do not all renew at once. */
  watchTimeoutSeconds?: readonly [number, number];
  pageSize?: number;
  /**
   * Keep metadata.managedFields in the cache (dropped by default to save memory). The Agent
   * cache keeps them: when a reservation annotation was set is read from them.
   */
  keepManagedFields?: boolean;
  clock?: Clock;
  random?: () => number;
  onLog?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;
  /** Called on each relist and watch restart, for metrics. */
  onStat?: (stat: InformerStat) => void;
}

export type InformerStat = 'relist' | 'gone' | 'closed' | 'silent' | 'error';

export interface InformerStats {
  relists: number;
  goneRelists: number;
  watchRestarts: number;
  silentWatchRestarts: number;
  errors: number;
}

type WatchEnd = 'closed' | 'gone' | 'silent';

/**
 * List-then-watch cache of one resource type. Watches from the list's resourceVersion with
 * bookmarks; on 410 Gone it relists and reconciles the cache against the fresh list (emitting
 * adds, updates and deletes for what changed meanwhile); other failures back off from 1 s to
 * 30 s and resume from the last resourceVersion seen.
 */
export class Informer<T extends KubeObject> {
  readonly store = new ObjectStore<T>();
  readonly stats: InformerStats = { relists: 0, goneRelists: 0, watchRestarts: 0, silentWatchRestarts: 0, errors: 0 };
  private readonly handlers: InformerHandlers<T>[] = [];
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private lastResourceVersion = '';
  private lastActivity = 0;
  private running = false;
  private currentWatch: AbortController | undefined;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    private readonly options: InformerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** True while the loop runs and the watch delivered something recently. */
  isHealthy(): boolean {
    if (!this.running) return false;
    const silence = this.options.watchSilenceMs ?? 150_000;
    return this.clock.now() - this.lastActivity < 2 * silence;
  }

  get resourceVersion(): string {
    return this.lastResourceVersion;
  }

  /** Breaks the current watch stream as a network failure would; the loop resumes from the last resourceVersion. */
  interruptWatch(): void {
    this.currentWatch?.abort(new Error('watch interrupted'));
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    this.running = true;
    const resync = this.startResync(signal);
    let failures = 0;
    let needList = true;
    try {
      while (!signal.aborted) {
        try {
          if (needList) {
            await this.relist(signal);
            needList = false;
          }
          const end = await this.watchOnce(signal);
          failures = 0;
          this.options.onStat?.(end);
          if (end === 'gone') {
            this.stats.goneRelists++;
            this.log('info', 'Watch expired (410 Gone), relisting', {});
            needList = true;
          } else if (end === 'silent') {
            this.stats.silentWatchRestarts++;
            this.log('warn', 'Watch went silent, restarted it', { silenceMs: this.options.watchSilenceMs ?? 150_000 });
          }
          this.stats.watchRestarts++;
        } catch (error) {
          if (signal.aborted) break;
          if (isGone(error)) {
            this.options.onStat?.('gone');
            this.stats.goneRelists++;
            needList = true;
            this.log('info', 'Watch expired (410 Gone), relisting', {});
            continue;
          }
          this.stats.errors++;
          this.options.onStat?.('error');
          const delay = backoffDelay(failures++, 1000, 30_000, this.random);
          this.log('warn', 'Watch failed, retrying', { error: getErrorMessage(error), delayMs: delay });
          await this.clock.sleep(delay, signal);
        }
      }
    } finally {
      this.running = false;
      resync.abort();
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const listed = new Map<string, T>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.client.list<T>(this.type, this.options.namespace, {
        limit: this.options.pageSize ?? 500,
        ...(continueToken ? { continue: continueToken } : {}),
        ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
      });
      if (signal.aborted) return;
      for (const item of page.items) listed.set(objectKey(item), this.forCache(item));
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion ?? resourceVersion;
    } while (continueToken);

    for (const key of this.store.keys()) {
      if (!listed.has(key)) {
        const removed = this.store.remove(key);
        if (removed) this.emit((h) => h.onDelete?.(removed));
      }
    }
    for (const object of listed.values()) {
      const previous = this.store.upsert(object);
      if (!previous) this.emit((h) => h.onAdd?.(object));
      else if (previous.metadata.resourceVersion !== object.metadata.resourceVersion) this.emit((h) => h.onUpdate?.(previous, object));
    }
    this.lastResourceVersion = resourceVersion;
    this.lastActivity = this.clock.now();
    this.stats.relists++;
    this.options.onStat?.('relist');
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  private async watchOnce(signal: AbortSignal): Promise<WatchEnd> {
    const [minTimeout, maxTimeout] = this.options.watchTimeoutSeconds ?? [300, 600];
    const timeoutSeconds = Math.round(minTimeout + (maxTimeout - minTimeout) * this.random());
    const watch = new AbortController();
    this.currentWatch = watch;
    const onAbort = (): void => watch.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const silenceMs = this.options.watchSilenceMs ?? 150_000;
    let silent = false;
    this.lastActivity = this.clock.now();
    const liveness = this.watchLiveness(watch, silenceMs, () => (silent = true));
    try {
      const events = this.client.watch<T>(this.type, this.options.namespace, {
        resourceVersion: this.lastResourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        signal: watch.signal,
        ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
      });
      for await (const event of events) {
        this.lastActivity = this.clock.now();
        if (event.type === 'ERROR') {
          const status = event.object as unknown as { code?: number; reason?: string; message?: string };
          if (status.code === 410) return 'gone';
          throw new ApiError(status.code ?? 500, status.reason ?? '', status.message ?? 'watch error event');
        }
        this.apply(event);
      }
      return 'closed';
    } catch (error) {
      if (silent) return 'silent';
      if (watch.signal.aborted && !signal.aborted) return 'closed'; // interrupted on purpose
      throw error;
    } finally {
      liveness.abort();
      signal.removeEventListener('abort', onAbort);
      this.currentWatch = undefined;
    }
  }

  private watchLiveness(watch: AbortController, silenceMs: number, markSilent: () => void): AbortController {
    const stop = new AbortController();
    void (async () => {
      while (!stop.signal.aborted) {
        await this.clock.sleep(Math.max(50, silenceMs / 4), stop.signal);
        if (stop.signal.aborted) return;
        if (this.clock.now() - this.lastActivity >= silenceMs) {
          markSilent();
          watch.abort(new Error('watch silent'));
          return;
        }
      }
    })();
    return stop;
  }

  private apply(event: WatchEvent<T>): void {
    const object = this.forCache(event.object);
    const resourceVersion = object.metadata.resourceVersion;
    if (resourceVersion) this.lastResourceVersion = resourceVersion;
    switch (event.type) {
      case 'BOOKMARK':
        return;
      case 'ADDED':
      case 'MODIFIED': {
        const previous = this.store.upsert(object);
        if (previous) this.emit((h) => h.onUpdate?.(previous, object));
        else this.emit((h) => h.onAdd?.(object));
        return;
      }
      case 'DELETED': {
        const removed = this.store.remove(objectKey(object)) ?? object;
        this.emit((h) => h.onDelete?.(removed));
        return;
      }
    }
  }

  private startResync(signal: AbortSignal): AbortController {
    const stop = new AbortController();
    const period = this.options.resyncPeriodMs ?? 0;
    if (period > 0) {
      const both = AbortSignal.any([signal, stop.signal]);
      void (async () => {
        while (!both.aborted) {
          await this.clock.sleep(period, both);
          if (both.aborted) return;
          for (const object of this.store.list()) this.emit((h) => h.onUpdate?.(object, object));
        }
      })();
    }
    return stop;
  }

  /**
   * What the cache keeps of an object. List items come without apiVersion/kind: fill them in so
   * owner references and logs can use them. metadata.managedFields goes unless kept: it is often
   * the largest part of an object (controller-runtime strips it by default for the same reason);
   * an update sent from a cached copy leaves it as it is on the server.
   */
  private forCache(object: T): T {
    if (!this.options.keepManagedFields) delete (object.metadata as { managedFields?: unknown }).managedFields;
    if (object.kind && object.apiVersion) return object;
    object.kind ??= this.type.kind;
    object.apiVersion ??= this.type.group === '' ? this.type.version : `${this.type.group}/${this.type.version}`;
    return object;
  }

  private emit(call: (handlers: InformerHandlers<T>) => void): void {
    for (const handlers of this.handlers) {
      try {
        call(handlers);
      } catch (error) {
        this.log('warn', 'Informer handler threw', { error: getErrorMessage(error) });
      }
    }
  }

  private log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
    this.options.onLog?.(level, message, { resource: this.type.plural, ...fields });
  }
}
