#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { loadClusterConnection } from './kube/config.js';
import { getErrorMessage } from './kube/errors.js';
import { createLogger } from './log.js';
import { Manager } from './manager.js';
import { createDriftModule } from '../kernel/drift/module.js';
import { createHealingModule } from '../healing/module.js';
import { createAgentHealingModule } from '../healing/agent-module.js';

const positiveInt = (flag: string) => (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`${flag} must be a non-negative integer, got "${value}"`);
  return parsed;
};

const address = (flag: string) => (value: string): { host: string; port: number } => {
  const match = /^(.*):(\d+)$/.exec(value);
  if (!match || Number(match[2]) > 65535) throw new InvalidArgumentError(`${flag} must be host:port, got "${value}"`);
  return { host: match[1] || '0.0.0.0', port: Number(match[2]) };
};

const program = new Command('meshos-operator')
  .description('Runs the Mesh OS operator: reconciles Mesh, Agent and Proposal resources')
  .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)', process.env['KUBECONFIG'])
  .option('--health-bind-address <host:port>', 'address for /healthz, /readyz and /metrics', address('--health-bind-address'), address('--health-bind-address')(process.env['MESHOS_HEALTH_BIND_ADDRESS'] ?? '127.0.0.1:8081'))
  .option('--leader-elect <bool>', 'campaign for a Lease so that only one replica acts', (v) => v !== 'false', true)
  .option('--lease-namespace <ns>', 'namespace of the leader Lease', process.env['POD_NAMESPACE'] ?? 'meshos-system')
  .option('--lease-duration <ms>', 'leader lease duration in ms', positiveInt('--lease-duration'), 15_000)
  .option('--renew-deadline <ms>', 'leader renew deadline in ms', positiveInt('--renew-deadline'), 10_000)
  .option('--retry-period <ms>', 'leader election retry period in ms', positiveInt('--retry-period'), 2_000)
  .option('--identity <id>', 'this replica\'s identity in the Lease (default: host name and pid)', process.env['POD_NAME'])
  .option('--workers <n>', 'concurrent Agent reconciles', positiveInt('--workers'), 16)
  .option('--qps <n>', 'API requests per second', positiveInt('--qps'), 500)
  .option('--burst <n>', 'API request burst', positiveInt('--burst'), 1000)
  .option('--watch-silence <ms>', 'restart a watch silent for this long', positiveInt('--watch-silence'), 150_000)
  .option('--resync-period <ms>', 're-queue every object this often', positiveInt('--resync-period'), 600_000)
  .option('--memory-bind-address <host:port>', 'serve the shared context memory gRPC service here while leading (off when unset)', address('--memory-bind-address'))
  .option('--healing <bool>', 'run the healing module (node failover, postmortems)', (v) => v !== 'false', true)
  .option('--memory-data-dir <dir>', 'directory of the context memory log (a persistent volume in a cluster)', process.env['MESHOS_MEMORY_DIR'] ?? '/var/lib/meshos/memory');

async function main(): Promise<number> {
  program.parse();
  const flags = program.opts<{
    kubeconfig?: string;
    healthBindAddress: { host: string; port: number };
    leaderElect: boolean;
    leaseNamespace: string;
    leaseDuration: number;
    renewDeadline: number;
    retryPeriod: number;
    identity?: string;
    workers: number;
    qps: number;
    burst: number;
    watchSilence: number;
    resyncPeriod: number;
    memoryBindAddress?: { host: string; port: number };
    memoryDataDir: string;
    healing: boolean;
  }>();
  const logger = createLogger();
  const stop = new AbortController();
  const healing = flags.healing ? createHealingModule({ namespace: flags.leaseNamespace, signal: stop.signal }) : undefined;
  const connection = await loadClusterConnection(flags.kubeconfig);
  const manager = new Manager({
    connection,
    logger,
    leaderElection: flags.leaderElect,
    leaseNamespace: flags.leaseNamespace,
    leaseDurationMs: flags.leaseDuration,
    renewDeadlineMs: flags.renewDeadline,
    retryPeriodMs: flags.retryPeriod,
    ...(flags.identity ? { identity: flags.identity } : {}),
    workers: flags.workers,
    qps: flags.qps,
    burst: flags.burst,
    healthHost: flags.healthBindAddress.host,
    healthPort: flags.healthBindAddress.port,
    informer: { watchSilenceMs: flags.watchSilence, resyncPeriodMs: flags.resyncPeriod },
    kernelModules: [createDriftModule(), ...(healing ? [healing, createAgentHealingModule()] : [])],
    ...(flags.memoryBindAddress ? { memory: { ...flags.memoryBindAddress, dataDir: flags.memoryDataDir } } : {}),
  });
  for (const signalName of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signalName, () => {
      logger.info({ signal: signalName }, 'Shutting down');
      stop.abort();
    });
  }
  logger.info({ server: connection.server, identity: manager.identity }, 'Starting Mesh OS operator');
  const outcome = await manager.run(stop.signal);
  stop.abort();
  await healing?.close();
  logger.info({ outcome }, 'Operator stopped');
  // Lost leadership exits non-zero so the Deployment restarts the replica as a fresh candidate.
  return outcome === 'lost-leadership' ? 1 : 0;
}

main().then(
  (code) => setTimeout(() => process.exit(code), 50),
  (error: unknown) => {
    process.stderr.write(`meshos-operator: ${getErrorMessage(error)}\n`);
    process.exit(1);
  },
);
