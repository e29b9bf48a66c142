import { inject } from 'vitest';
import { loadClusterConnection } from '../../operator/kube/config.js';
import { createLogger } from '../../operator/log.js';
import { Manager, type ManagerOptions } from '../../operator/manager.js';
import { OperatorMetrics } from '../../operator/metrics.js';

export interface RunningOperator {
  manager: Manager;
  /** Stops the operator and waits for its clean shutdown. */
  stop(): Promise<void>;
}

/**
 * An operator running in the test process against the integration control plane, without
 * leader election, with its own metrics registry and quiet logs; options override the defaults.
 */
export async function startTestOperator(options: Partial<Omit<ManagerOptions, 'connection' | 'logger'>> = {}): Promise<RunningOperator> {
  const manager = new Manager({
    connection: await loadClusterConnection(inject('kubeconfigPath')),
    logger: createLogger({ level: 'warn' }),
    leaderElection: false,
    metrics: new OperatorMetrics({ defaultMetrics: false }),
    ...options,
  });
  const stopSignal = new AbortController();
  const running = manager.run(stopSignal.signal);
  return {
    manager,
    stop: async () => {
      stopSignal.abort();
      await running;
    },
  };
}
