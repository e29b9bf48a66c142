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

  readonly kernelDecisions = new Counter({
    name: 'meshos_kernel_decisions_total',
    help: 'Kernel loop decisions, by module and outcome (proposed, allowed, blocked, held, executed, verified, rolled-back, ...).',
    labelNames: ['module', 'kind', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly grpcHandled = new Counter({
    name: 'meshos_grpc_server_handled_total',
    help: 'gRPC calls served, by service, method and status code name.',
    labelNames: ['service', 'method', 'code'] as const,
    registers: [this.registry],
  });

  readonly grpcDuration = new Histogram({
    name: 'meshos_grpc_server_handling_seconds',
    help: 'Time to answer one gRPC call, by service and method.',
    labelNames: ['service', 'method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** The hook traceService() takes, so every gRPC server of the operator counts its calls here. */
  readonly observeGrpcCall = (call: { service: string; method: string; code: string; seconds: number }): void => {
    this.grpcHandled.inc({ service: call.service, method: call.method, code: call.code });
    this.grpcDuration.observe({ service: call.service, method: call.method }, call.seconds);
  };

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'meshos_' });
  }
}
