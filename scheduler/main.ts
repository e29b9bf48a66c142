#!/usr/bin/env node
// meshos-scheduler as its own process (the operator also runs it while leading, with
// --scheduler): for clusters that want the scheduler apart from the operator, and for the bench.
import { Command, InvalidArgumentError } from 'commander';
import { Registry } from 'prom-client';
import { loadClusterConnection } from '../operator/kube/config.js';
import { KubeClient } from '../operator/kube/client.js';
import { getErrorMessage } from '../operator/kube/errors.js';
import { createLogger } from '../operator/log.js';
import { MeshScheduler } from './scheduler.js';

const positiveInt = (flag: string) => (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError(`${flag} must be a positive integer, got "${value}"`);
  return parsed;
};

const program = new Command('meshos-scheduler')
  .description('Runs meshos-scheduler: binds pods with spec.schedulerName meshos-scheduler to the nodes that best balance cost, latency, trust and carbon')
  .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)', process.env['KUBECONFIG'])
  .option('--scheduler-name <name>', 'schedulerName of the pods to bind', 'meshos-scheduler')
  .option('--solver <name>', 'LP solver: highs, jsLpSolver, or none (greedy + improvement)', 'highs')
  .option('--batch-window <ms>', 'wait this long for more pending pods before solving', positiveInt('--batch-window'), 100)
  .option('--batch-size <n>', 'at most this many pods per solve', positiveInt('--batch-size'), 5000)
  .option('--time-budget <ms>', 'time budget of one solve', positiveInt('--time-budget'), 2000)
  .option('--bind-concurrency <n>', 'parallel bindings', positiveInt('--bind-concurrency'), 64)
  .option('--qps <n>', 'API requests per second', positiveInt('--qps'), 500)
  .option('--burst <n>', 'API request burst', positiveInt('--burst'), 1000)
  .option('--namespace <ns>', 'only pods of this namespace (default: all)')
  .option('--node-selector <selector>', 'only nodes matching this label selector')
  .option('--config-namespace <ns>', 'namespace of the meshos-latency ConfigMap', 'meshos-system');

async function main(): Promise<void> {
  program.parse();
  const flags = program.opts<{
    kubeconfig?: string;
    schedulerName: string;
    solver: string;
    batchWindow: number;
    batchSize: number;
    timeBudget: number;
    bindConcurrency: number;
    qps: number;
    burst: number;
    namespace?: string;
    nodeSelector?: string;
    configNamespace: string;
  }>();
  if (!['highs', 'jsLpSolver', 'none'].includes(flags.solver)) throw new InvalidArgumentError(`--solver must be highs, jsLpSolver or none, got "${flags.solver}"`);
  const logger = createLogger();
  const client = new KubeClient(await loadClusterConnection(flags.kubeconfig), { qps: flags.qps, burst: flags.burst, userAgent: 'meshos-scheduler' });
  const scheduler = new MeshScheduler({
    client,
    logger,
    schedulerName: flags.schedulerName,
    solver: flags.solver,
    batchWindowMs: flags.batchWindow,
    batchSize: flags.batchSize,
    timeBudgetMs: flags.timeBudget,
    bindConcurrency: flags.bindConcurrency,
    configNamespace: flags.configNamespace,
    registry: new Registry(),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(flags.nodeSelector ? { nodeSelector: flags.nodeSelector } : {}),
  });
  const stop = new AbortController();
  for (const signalName of ['SIGTERM', 'SIGINT'] as const) process.once(signalName, () => stop.abort());
  await scheduler.run(stop.signal);
  await client.destroy();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`meshos-scheduler: ${getErrorMessage(error)}\n`);
    process.exit(1);
  },
);
