import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The scheduler's Prometheus metrics, registered in the operator's registry. */
export class SchedulerMetrics {
  readonly podsBound: Counter<'result'>;
  readonly batches: Counter<'method'>;
  readonly fallbacks: Counter<'reason'>;
  readonly batchDuration: Histogram;
  readonly gapRatio: Gauge;
  readonly pending: Gauge;
  readonly preemptions: Counter;
  readonly migrations: Counter<'result'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.podsBound = new Counter({
      name: 'meshos_scheduler_bindings_total',
      help: 'Binding attempts by result: bound, requeued (node filled or vanished since the solve), conflict (already bound), gone, error, unschedulable.',
      labelNames: ['result'] as const,
      registers,
    });
    this.batches = new Counter({
      name: 'meshos_scheduler_batches_total',
      help: 'Batches solved, by method: lp (LP relaxation rounded), greedy+improve (fallback).',
      labelNames: ['method'] as const,
      registers,
    });
    this.fallbacks = new Counter({
      name: 'meshos_scheduler_solver_fallback_total',
      help: 'Batches bound from the greedy+improvement solution because the LP did not finish: time-budget or solver-error.',
      labelNames: ['reason'] as const,
      registers,
    });
    this.batchDuration = new Histogram({
      name: 'meshos_scheduler_solve_duration_seconds',
      help: 'Time to build and solve one batch.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    });
    this.gapRatio = new Gauge({ name: 'meshos_scheduler_last_gap_ratio', help: 'Gap of the last LP-solved batch to its LP lower bound, as a ratio (0.01 = 1%).', registers });
    this.pending = new Gauge({ name: 'meshos_scheduler_pending_pods', help: 'Pods waiting for the Mesh OS scheduler.', registers });
    this.preemptions = new Counter({ name: 'meshos_scheduler_preemption_victims_total', help: 'Pods evicted to make room for higher-priority pods.', registers });
    this.migrations = new Counter({
      name: 'meshos_scheduler_migrations_total',
      help: 'Migration moves by result: executed, rolled-back.',
      labelNames: ['result'] as const,
      registers,
    });
  }
}
