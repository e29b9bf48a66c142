import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The operator's Prometheus metrics, in one registry per process (tests make their own). */
export class OperatorMetrics {
  readonly registry = new Registry();

  readonly reconcileTotal = new Counter({
    name: 'meshos_reconcile_total',
    help: 'Reconciles finished, by controller and result (success, requeue, error, terminal_error).',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });

  readonly reconcileDuration = new Histogram({
    name: 'meshos_reconcile_duration_seconds',
    help: 'Time spent in one reconcile, by controller and result.',
    labelNames: ['controller', 'result'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'meshos_workqueue_depth',
    help: 'Keys waiting in a controller work queue.',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  readonly queueRetries = new Counter({
    name: 'meshos_workqueue_retries_total',
    help: 'Keys re-added after a failed reconcile.',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  readonly apiRequests = new Counter({
    name: 'meshos_api_requests_total',
    help: 'Requests to the Kubernetes API, by verb and HTTP status code.',
    labelNames: ['verb', 'code'] as const,
    registers: [this.registry],
  });

  readonly isLeader = new Gauge({
    name: 'meshos_leader_is_leader',
    help: '1 while this replica holds the leader lease, else 0.',
    registers: [this.registry],
  });

  readonly informerRelists = new Counter({
    name: 'meshos_informer_relists_total',
    help: 'Full lists by informers, by resource and reason (initial, gone).',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });

  readonly watchRestarts = new Counter({
    name: 'meshos_informer_watch_restarts_total',
    help: 'Watch streams reopened, by resource and reason (closed, silent, error).',
    labelNames: ['resource', 'reason'] as const,
    registers: [this.registry],
  });

  readonly apiEvents = new Counter({
    name: 'meshos_events_emitted_total',
    help: 'Kubernetes Events written, by type (Normal, Warning); dropped ones by result.',
    labelNames: ['type', 'result'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'meshos_' });
  }
}
