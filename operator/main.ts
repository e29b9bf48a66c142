#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { loadClusterConnection } from './kube/config.js';
import { getErrorMessage } from './kube/errors.js';
import { createLogger } from './log.js';
import { Manager } from './manager.js';
import { checkTracingOptions, startTracing } from './tracing.js';
import { createDriftModule } from '../kernel/drift/module.js';
import { createMigrationModule } from '../scheduler/migration.js';
import { createForecastingModule } from '../forecasting/module.js';
import { startDemandServer } from '../forecasting/demand/push-server.js';
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
  .option('--scheduler <bool>', 'run meshos-scheduler (binds pods with schedulerName meshos-scheduler) while leading', (v) => v !== 'false', true)
  .option('--scheduler-solver <name>', 'LP solver of meshos-scheduler: highs, jsLpSolver, or none (greedy + improvement)', 'highs')
  .option('--scheduler-batch-window <ms>', 'wait this long for more pending pods before solving', positiveInt('--scheduler-batch-window'), 100)
  .option('--scheduler-batch-size <n>', 'at most this many pods per solve', positiveInt('--scheduler-batch-size'), 5000)
  .option('--scheduler-time-budget <ms>', 'time budget of one solve; past it the greedy + improvement placement is bound', positiveInt('--scheduler-time-budget'), 2000)
  .option('--scheduler-node-selector <selector>', 'only nodes matching this label selector are candidates')
  .option('--migration <bool>', 'with --scheduler: propose moving placed pods to clearly better nodes (kernel module scheduler-migration)', (v) => v !== 'false', true)
  .option('--migration-threshold <score>', 'minimum gain in placement score (0-1) for a move', (v) => {
    const parsed = Number(v);
    if (!(parsed > 0 && parsed < 1)) throw new InvalidArgumentError(`--migration-threshold must be a number between 0 and 1, got "${v}"`);
    return parsed;
  }, 0.05)
  .option('--migration-max-per-hour <n>', 'at most this many migrations per hour', positiveInt('--migration-max-per-hour'), 20)
  .option('--portal-bind-address <host:port>', "serve the voters' portal here while leading (off when unset)", address('--portal-bind-address'))
  .option('--portal-dev-mode', "voters' portal: offer signing with a local key (development only)", false)
  .option('--chain-dev', 'governance: start a local hardhat chain on 127.0.0.1 and deploy the contracts (development)', false)
  .option('--chain-rpc-url <url>', 'governance: JSON-RPC URL of the chain that anchors proposals')
  .option('--chain-id <id>', 'governance: EIP-155 chain id of --chain-rpc-url', positiveInt('--chain-id'))
  .option('--chain-signer-secret <namespace/name>', 'governance: Secret whose data.privateKey is the key that anchors')
  .option('--chain-anchor-address <address>', 'governance: deployed anchor contract (deployed when unset)')
  .option('--chain-registry-address <address>', 'governance: deployed ERC-1056 DID registry (deployed when unset)')
  .option('--demand-bind-address <host:port>', 'serve the demand push API (POST /v1/demand/<namespace>/<agent>) here (off when unset)', address('--demand-bind-address'))
  .option('--discovery-bind-address <host:port>', 'serve the agent discovery gRPC service here (off when unset)', address('--discovery-bind-address'))
  .option('--discovery-auth <mode>', 'discovery authentication: kubernetes (TokenReview/client certificates + SubjectAccessReview) or none (development, 127.0.0.1 only)', (value: string) => {
    if (value !== 'kubernetes' && value !== 'none') throw new InvalidArgumentError(`--discovery-auth must be kubernetes or none, got "${value}"`);
    return value;
  }, 'kubernetes')
  .option('--discovery-tls-cert <file>', 'PEM certificate of the discovery server (TLS when set with --discovery-tls-key)')
  .option('--discovery-tls-key <file>', 'PEM private key of the discovery server')
  .option('--discovery-client-ca <file>', 'PEM CA that signs client certificates (mTLS: clients must present one)')
  .option('--otlp-endpoint <url>', 'send OpenTelemetry traces of reconciles and gRPC calls to this OTLP/HTTP URL (off when unset)', process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'])
  .option('--trace-sample-ratio <r>', 'fraction of traces sampled (0..1)', (v) => {
    const ratio = Number(v);
    if (!(ratio >= 0 && ratio <= 1)) throw new InvalidArgumentError(`--trace-sample-ratio must be within 0..1, got "${v}"`);
    return ratio;
  }, 1)
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
    scheduler: boolean;
    schedulerSolver: string;
    schedulerBatchWindow: number;
    schedulerBatchSize: number;
    schedulerTimeBudget: number;
    schedulerNodeSelector?: string;
    migration: boolean;
    migrationThreshold: number;
    migrationMaxPerHour: number;
    portalBindAddress?: { host: string; port: number };
    portalDevMode: boolean;
    chainDev: boolean;
    chainRpcUrl?: string;
    chainId?: number;
    chainSignerSecret?: string;
    chainAnchorAddress?: string;
    chainRegistryAddress?: string;
    demandBindAddress?: { host: string; port: number };
    discoveryBindAddress?: { host: string; port: number };
    discoveryAuth: 'kubernetes' | 'none';
    discoveryTlsCert?: string;
    discoveryTlsKey?: string;
    discoveryClientCa?: string;
    otlpEndpoint?: string;
    traceSampleRatio: number;
    healing: boolean;
  }>();
  if (!['highs', 'jsLpSolver', 'none'].includes(flags.schedulerSolver)) throw new InvalidArgumentError(`--scheduler-solver must be highs, jsLpSolver or none, got "${flags.schedulerSolver}"`);
  if ((flags.discoveryTlsCert === undefined) !== (flags.discoveryTlsKey === undefined)) throw new InvalidArgumentError('--discovery-tls-cert and --discovery-tls-key go together');
  const logger = createLogger();
  const tracingProblem = checkTracingOptions({ ...(flags.otlpEndpoint ? { endpoint: flags.otlpEndpoint } : {}) });
  if (tracingProblem) throw new Error(tracingProblem);
  const tracing = startTracing({ ...(flags.otlpEndpoint ? { endpoint: flags.otlpEndpoint } : {}), sampleRatio: flags.traceSampleRatio, ...(flags.identity ? { serviceInstance: flags.identity } : {}) });
  if (tracing) logger.info({ endpoint: flags.otlpEndpoint }, `Tracing to ${flags.otlpEndpoint ?? ''}`);
  const stop = new AbortController();
  const healing = flags.healing ? createHealingModule({ namespace: flags.leaseNamespace, signal: stop.signal }) : undefined;
  const connection = await loadClusterConnection(flags.kubeconfig);
  const schedulerRef: { manager?: Manager } = {};
  const migration = flags.scheduler && flags.migration
    ? [createMigrationModule({ scheduler: () => schedulerRef.manager?.scheduler, threshold: flags.migrationThreshold, maxMovesPerHour: flags.migrationMaxPerHour })]
    : [];
  const forecasting = createForecastingModule();
  const demandServer = flags.demandBindAddress ? await startDemandServer(flags.demandBindAddress.host, flags.demandBindAddress.port, forecasting.demand) : undefined;
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
    kernelModules: [createDriftModule(), ...(healing ? [healing, createAgentHealingModule()] : []), forecasting.module, ...migration],
    ...(flags.scheduler
      ? {
          scheduler: {
            solver: flags.schedulerSolver,
            batchWindowMs: flags.schedulerBatchWindow,
            batchSize: Math.max(1, flags.schedulerBatchSize),
            timeBudgetMs: flags.schedulerTimeBudget,
            configNamespace: flags.leaseNamespace,
            ...(flags.schedulerNodeSelector ? { nodeSelector: flags.schedulerNodeSelector } : {}),
          },
        }
      : {}),
    ...(flags.memoryBindAddress ? { memory: { ...flags.memoryBindAddress, dataDir: flags.memoryDataDir } } : {}),
    governance: {
      chain: {
        devChain: flags.chainDev,
        ...(flags.chainRpcUrl ? { rpcUrl: flags.chainRpcUrl } : {}),
        ...(flags.chainId ? { chainId: flags.chainId } : {}),
        ...(flags.chainSignerSecret ? { signerSecret: flags.chainSignerSecret } : {}),
        ...(flags.chainAnchorAddress ? { anchorAddress: flags.chainAnchorAddress } : {}),
        ...(flags.chainRegistryAddress ? { registryAddress: flags.chainRegistryAddress } : {}),
      },
      ...(flags.portalBindAddress ? { portal: { ...flags.portalBindAddress, devMode: flags.portalDevMode } } : {}),
    },
    ...(flags.discoveryBindAddress
      ? {
          discovery: {
            ...flags.discoveryBindAddress,
            auth: flags.discoveryAuth,
            ...(flags.discoveryTlsCert && flags.discoveryTlsKey
              ? { tls: { certFile: flags.discoveryTlsCert, keyFile: flags.discoveryTlsKey, ...(flags.discoveryClientCa ? { clientCaFile: flags.discoveryClientCa } : {}) } }
              : {}),
          },
        }
      : {}),
  });
  schedulerRef.manager = manager;
  for (const signalName of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signalName, () => {
      logger.info({ signal: signalName }, 'Shutting down');
      stop.abort();
    });
  }
  logger.info({ server: connection.server, identity: manager.identity }, 'Starting Mesh OS operator');
  const outcome = await manager.run(stop.signal);
  await demandServer?.close();
  stop.abort();
  await healing?.close();
  logger.info({ outcome }, 'Operator stopped');
  await tracing?.shutdown().catch(() => undefined);
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
