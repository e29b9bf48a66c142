import { getErrorMessage, TerminalError, isConflict } from './kube/errors.js';
import type { Logger } from './log.js';
import type { OperatorMetrics } from './metrics.js';
import { WorkQueue } from './queue/workqueue.js';
import { traceReconcile } from './tracing.js';

export interface ReconcileResult {
  /** Reconcile this key again after the delay (level-based polling, e.g. a voting deadline). */
  requeueAfterMs?: number;
}

/**
 * One reconciler per kind. `reconcile(key)` reads the current state from the caches and drives
 * it toward the spec; it never trusts the event that woke it. Throwing retries with backoff;
 * throwing TerminalError drops the key until the next change.
 */
export interface Reconciler {
  readonly name: string;
  reconcile(key: string, logger: Logger): Promise<ReconcileResult | void>;
}

export interface ControllerOptions {
  workers: number;
  metrics: OperatorMetrics;
  logger: Logger;
}

/** Runs a reconciler over a work queue with N workers. */
export class Controller {
  readonly queue: WorkQueue;

  constructor(
    readonly reconciler: Reconciler,
    private readonly options: ControllerOptions,
  ) {
    this.queue = new WorkQueue(reconciler.name, { baseDelayMs: 5, maxDelayMs: 300_000 });
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  /** Runs the workers until `signal` aborts; resolves once every in-flight reconcile finished. */
  async run(signal: AbortSignal): Promise<void> {
    const stop = (): void => this.queue.shutDown();
    signal.addEventListener('abort', stop, { once: true });
    const gauge = setInterval(() => this.options.metrics.queueDepth.set({ queue: this.reconciler.name }, this.queue.depth), 1000);
    gauge.unref();
    try {
      await Promise.all(Array.from({ length: this.options.workers }, () => this.worker()));
    } finally {
      clearInterval(gauge);
      signal.removeEventListener('abort', stop);
    }
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.process(key);
      this.queue.done(key);
    }
  }

  private async process(key: string): Promise<void> {
    const name = this.reconciler.name;
    const logger = this.options.logger.child({ controller: name, object: key });
    const started = performance.now();
    let result = 'success';
    try {
      const outcome = await traceReconcile(name, key, () => this.reconciler.reconcile(key, logger));
      this.queue.forget(key);
      if (outcome?.requeueAfterMs !== undefined) {
        result = 'requeue';
        this.queue.addAfter(key, outcome.requeueAfterMs);
      }
    } catch (error) {
      if (error instanceof TerminalError) {
        result = 'terminal_error';
        this.queue.forget(key);
        logger.error({ error: error.message }, 'Reconcile failed permanently');
      } else {
        result = isConflict(error) ? 'conflict' : 'error';
        const delay = this.queue.addRateLimited(key);
        this.options.metrics.queueRetries.inc({ queue: name });
        // Conflicts are expected under concurrent writers: the cache was stale, retry quietly.
        if (result === 'error') logger.warn({ error: getErrorMessage(error), retryInMs: delay }, 'Reconcile failed');
      }
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.options.metrics.reconcileTotal.inc({ controller: name, result });
      this.options.metrics.reconcileDuration.observe({ controller: name, result }, seconds);
    }
  }
}
