import { hostname } from 'node:os';
import type { Agent, Mesh, Proposal } from '../crds/types.js';
import { Controller } from './controller.js';
import { AgentReconciler, PODS_BY_AGENT, podAgentKeys } from './controllers/agent.js';
import { AGENTS_BY_MESH, MeshReconciler, agentMeshKeys } from './controllers/mesh.js';
import { PROPOSALS_BY_MESH, ProposalReconciler, proposalMeshKeys } from './controllers/proposal.js';
import { MANAGED_SELECTOR, type Deployment, type Pod, type Service } from './controllers/workload.js';
import { EventRecorder } from './events.js';
import { TrustRecomputer } from '../kernel/trust/recompute.js';
import { startHealthServer } from './health.js';
import { Informer, type InformerOptions } from './informer/informer.js';
import { KubeClient } from './kube/client.js';
import type { ClusterConnection } from './kube/config.js';
import { getErrorMessage, isAlreadyExists, isNotFound } from './kube/errors.js';
import { controllerOf, objectKey, type KubeObject } from './kube/object.js';
import { CoreResources, MeshOsResources } from './kube/resources.js';
import { LeaseElection } from './leader/lease-election.js';
import type { Logger } from './log.js';
import type { KernelModule } from '../kernel/contract.js';
import { recordDecisionEvent, KERNEL_REPORTER } from '../kernel/decision-events.js';
import { DecisionLog, type DecisionOutcome } from '../kernel/decision-log.js';
import { KernelLoop } from '../kernel/loop.js';
import { ApprovalBridge } from '../kernel/approval-bridge.js';
import { tokenReviewCallerResolver } from '../kernel/memory/callers.js';
import { SecretKeyStore } from '../kernel/memory/keystore.js';
import { startMemoryServer, type MemoryServer } from '../kernel/memory/server.js';
import { startDiscoveryService, type DiscoveryServiceOptions, type RunningDiscovery } from '../discovery/service.js';
import { OperatorMetrics } from './metrics.js';
import { ProposalLifecycle } from './controllers/proposal-lifecycle.js';
import { Governance } from '../governance/service.js';
import { connectGovernanceChain, type GovernanceChainOptions } from '../governance/setup.js';
import { IdentityRegistrar } from '../governance/did/registrar.js';
import { startPortal, type PortalOptions, type PortalServer } from '../governance/portal/server.js';
import { systemClock } from './ratelimit/clock.js';
import { MeshScheduler, type MeshSchedulerOptions } from '../scheduler/scheduler.js';

export interface ManagerOptions {
  connection: ClusterConnection;
  logger: Logger;
  identity?: string;
  leaderElection?: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  workers?: number;
  healthHost?: string;
  healthPort?: number;
  qps?: number;
  burst?: number;
  informer?: Pick<InformerOptions, 'resyncPeriodMs' | 'watchSilenceMs' | 'watchTimeoutSeconds'>;
  metrics?: OperatorMetrics;
  /** Debounce for re-aggregating a Mesh after its Agents change. */
  meshAggregationDelayMs?: number;
  /** Kernel modules the autonomous loop runs while this replica leads. */
  kernelModules?: readonly KernelModule[];
  /** How often the loop asks every module to analyse. */
  kernelIntervalMs?: number;
  decisionLogCapacity?: number;
  /**
   * The shared context memory gRPC service, served while this replica leads (one writer of its
   * log). Agents authenticate with a token of the ServiceAccount named like their Agent.
   */
  memory?: { host: string; port: number; dataDir: string; keyNamespace?: string };
  /** Runs meshos-scheduler (the multi-objective secondary scheduler) while this replica leads. */
  scheduler?: Omit<MeshSchedulerOptions, 'client' | 'logger' | 'agents' | 'meshes' | 'registry'>;
  /** Governance: the chain that anchors Proposals and the voters' portal (served while leading). */
  governance?: { chain?: GovernanceChainOptions; portal?: PortalOptions };
  /** The agent discovery gRPC service, served on every replica once the caches synced. */
  discovery?: DiscoveryServiceOptions;
}

/**
 * The operator process: informers on the three kinds and what they own, one controller per
 * kind, leader election, and the health/metrics server. Caches run on every replica (a
 * standby takes over warm); only the leader's workers reconcile.
 */
export class Manager {
  readonly client: KubeClient;
  readonly metrics: OperatorMetrics;
  readonly identity: string;
  readonly informers: {
    meshes: Informer<Mesh>;
    agents: Informer<Agent>;
    proposals: Informer<Proposal>;
    deployments: Informer<Deployment>;
    services: Informer<Service>;
    pods: Informer<Pod>;
  };
  readonly controllers: { agent: Controller; mesh: Controller; proposal: Controller };
  election: LeaseElection | undefined;
  private leading = false;
  private healthPort = 0;
  private readonly logger: Logger;
  private readonly events: EventRecorder;
  /** Every autonomous decision, bounded; mirrored as Events and served at /decisions. */
  readonly decisions: DecisionLog;
  /** The autonomous loop, present while this replica leads. */
  kernel: KernelLoop | undefined;
  private approvals: ApprovalBridge | undefined;
  /** meshos-scheduler, when enabled; it binds pods only while this replica leads. */
  readonly scheduler: MeshScheduler | undefined;
  /** Proposals' votes, tallies and anchors; its chain is connected while this replica leads. */
  readonly governance: Governance;
  /** Port of the voters' portal while it runs. */
  portalPort = 0;

  constructor(private readonly options: ManagerOptions) {
    this.logger = options.logger;
    this.identity = options.identity ?? `${hostname()}-${process.pid}`;
    this.metrics = options.metrics ?? new OperatorMetrics();
    this.client = new KubeClient(options.connection, {
      qps: options.qps ?? 500,
      burst: options.burst ?? 1000,
      userAgent: `meshos-operator/${this.identity}`,
      onResponse: (verb, code) => this.metrics.apiRequests.inc({ verb, code: String(code) }),
    });
    this.events = new EventRecorder(this.client, {
      controller: 'meshos.dev/operator',
      instance: this.identity,
      metrics: this.metrics,
      logger: this.logger,
    });

    this.decisions = new DecisionLog(options.decisionLogCapacity ?? 10_000);
    const kernelEvents = new EventRecorder(this.client, { controller: KERNEL_REPORTER, instance: this.identity, metrics: this.metrics, logger: this.logger });
    this.decisions.onRecord((record) => {
      recordDecisionEvent(kernelEvents, record);
      this.metrics.kernelDecisions.inc({ module: record.module, kind: record.kind, outcome: record.outcome });
      this.approvals?.onDecision(record);
      this.logger.info({ module: record.module, action: record.actionId, kind: record.kind, target: record.target, outcome: record.outcome }, `Kernel action ${record.outcome}: ${record.reason}`);
    });

    const informerOptions = (resource: string, extra: InformerOptions = {}): InformerOptions => ({
      resyncPeriodMs: 10 * 60_000,
      ...options.informer,
      ...extra,
      onLog: (level, message, fields) => this.logger[level](fields, message),
      onStat: (stat) => {
        if (stat === 'relist' || stat === 'gone') this.metrics.informerRelists.inc({ resource, reason: stat === 'relist' ? 'list' : 'gone' });
        if (stat !== 'relist') this.metrics.watchRestarts.inc({ resource, reason: stat });
      },
    });
    const managed = { labelSelector: MANAGED_SELECTOR };
    this.informers = {
      meshes: new Informer<Mesh>(this.client, MeshOsResources.mesh, informerOptions('meshes')),
      // Keeps managedFields: when an Agent's reservation annotation was set is read from them (scheduler/reservation.ts).
      agents: new Informer<Agent>(this.client, MeshOsResources.agent, informerOptions('agents', { keepManagedFields: true })),
      proposals: new Informer<Proposal>(this.client, MeshOsResources.proposal, informerOptions('proposals')),
      deployments: new Informer<Deployment>(this.client, CoreResources.deployment, informerOptions('deployments', managed)),
      services: new Informer<Service>(this.client, CoreResources.service, informerOptions('services', managed)),
      pods: new Informer<Pod>(this.client, CoreResources.pod, informerOptions('pods', { ...managed, resyncPeriodMs: 0 })),
    };
    this.scheduler = options.scheduler
      ? new MeshScheduler({
          ...options.scheduler,
          client: this.client,
          logger: this.logger.child({ component: 'scheduler' }),
          agents: this.informers.agents,
          meshes: this.informers.meshes,
          registry: this.metrics.registry,
        })
      : undefined;
    const { meshes, agents, proposals, deployments, services, pods } = this.informers;
    agents.store.addIndex(AGENTS_BY_MESH, agentMeshKeys);
    proposals.store.addIndex(PROPOSALS_BY_MESH, proposalMeshKeys);
    pods.store.addIndex(PODS_BY_AGENT, podAgentKeys);

    this.governance = new Governance({ client: this.client, meshes: meshes.store, agents: agents.store, proposals: proposals.store });
    const lifecycle = new ProposalLifecycle({ client: this.client, governance: this.governance, events: this.events, agents: () => agents.store.list(), now: () => new Date() });

    const workers = options.workers ?? 16;
    const controllerOptions = { metrics: this.metrics, logger: this.logger };
    this.controllers = {
      agent: new Controller(
        new AgentReconciler({
          client: this.client,
          agents,
          meshes,
          deployments,
          services,
          pods,
          events: this.events,
          trust: new TrustRecomputer({ client: this.client, meshes, agents, logger: this.logger.child({ controller: 'trust' }) }),
        }),
        { ...controllerOptions, workers },
      ),
      mesh: new Controller(new MeshReconciler({ client: this.client, meshes, agents, events: this.events }), { ...controllerOptions, workers: 2 }),
      proposal: new Controller(new ProposalReconciler({ client: this.client, proposals, meshes, events: this.events, lifecycle }), {
        ...controllerOptions,
        workers: 4,
      }),
    };
    this.wireEvents();
  }

  isLeader(): boolean {
    return this.leading;
  }

  get port(): number {
    return this.healthPort;
  }

  /** Maps informer events to work-queue keys. */
  private wireEvents(): void {
    const { meshes, agents, proposals, deployments, services, pods } = this.informers;
    const { agent, mesh, proposal } = this.controllers;
    const meshDelay = this.options.meshAggregationDelayMs ?? 1000;

    agents.addHandlers({
      onAdd: (a) => {
        agent.enqueue(objectKey(a));
        mesh.enqueueAfter(a.spec.meshRef, meshDelay);
      },
      onUpdate: (previous, current) => {
        agent.enqueue(objectKey(current));
        mesh.enqueueAfter(current.spec.meshRef, meshDelay);
        if (previous.spec.meshRef !== current.spec.meshRef) mesh.enqueueAfter(previous.spec.meshRef, meshDelay);
      },
      onDelete: (a) => mesh.enqueueAfter(a.spec.meshRef, meshDelay),
    });
    meshes.addHandlers({
      onAdd: (m) => this.onMeshChanged(m, true),
      onUpdate: (previous, current) => this.onMeshChanged(current, previous.metadata.generation !== current.metadata.generation),
      onDelete: (m) => this.onMeshChanged(m, true),
    });
    proposals.addHandlers({
      onAdd: (p) => {
        proposal.enqueue(objectKey(p));
        this.approvals?.onProposal(p);
      },
      onUpdate: (_, p) => {
        proposal.enqueue(objectKey(p));
        this.approvals?.onProposal(p);
      },
    });
    const enqueueOwner = (object: KubeObject): void => {
      const owner = controllerOf(object);
      if (owner?.kind === 'Agent') agent.enqueue(`${object.metadata.namespace ?? ''}/${owner.name}`);
    };
    for (const informer of [deployments, services]) {
      informer.addHandlers({ onAdd: enqueueOwner, onUpdate: (_, o) => enqueueOwner(o), onDelete: enqueueOwner });
    }
    const enqueuePodAgent = (pod: Pod): void => {
      for (const key of podAgentKeys(pod)) agent.enqueue(key);
    };
    pods.addHandlers({ onAdd: enqueuePodAgent, onUpdate: (_, p) => enqueuePodAgent(p), onDelete: enqueuePodAgent });
  }

  /** A Mesh's spec (scheduler, governance period) shapes its Agents' workloads and Proposals. */
  private onMeshChanged(changed: Mesh, specChanged: boolean): void {
    const name = changed.metadata.name ?? '';
    this.controllers.mesh.enqueue(name);
    if (!specChanged) return;
    for (const a of this.informers.agents.store.byIndex(AGENTS_BY_MESH, name)) this.controllers.agent.enqueue(objectKey(a));
    for (const p of this.informers.proposals.store.byIndex(PROPOSALS_BY_MESH, name)) this.controllers.proposal.enqueue(objectKey(p));
  }

  private allInformers(): Informer<KubeObject>[] {
    return Object.values(this.informers) as unknown as Informer<KubeObject>[];
  }

  /** Runs until `signal` aborts or leadership is lost; resolves after a clean shutdown. */
  async run(signal: AbortSignal): Promise<'stopped' | 'lost-leadership'> {
    const { server, port } = await startHealthServer(
      this.options.healthHost ?? '127.0.0.1',
      this.options.healthPort ?? 0,
      {
        live: () => {
          const stuck = this.allInformers().filter((i) => i.hasSynced() && !i.isHealthy()).map((i) => i.type.plural);
          return { ok: stuck.length === 0, detail: stuck.length ? `watches not healthy: ${stuck.join(', ')}` : `leader=${this.leading}` };
        },
        ready: () => {
          const pending = this.allInformers().filter((i) => !i.hasSynced()).map((i) => i.type.plural);
          return { ok: pending.length === 0, detail: pending.length ? `caches not synced: ${pending.join(', ')}` : 'caches synced' };
        },
      },
      this.metrics.registry,
      {
        '/decisions': (query) =>
          this.decisions.query({
            ...(query.get('module') ? { module: query.get('module') as string } : {}),
            ...(query.get('outcome') ? { outcome: query.get('outcome') as DecisionOutcome } : {}),
            ...(query.get('target') ? { target: query.get('target') as string } : {}),
            ...(query.get('mesh') ? { mesh: query.get('mesh') as string } : {}),
            ...(query.get('action') ? { actionId: query.get('action') as string } : {}),
            limit: Number(query.get('limit') ?? 200),
          }),
      },
    );
    this.healthPort = port;
    this.logger.info({ port, identity: this.identity }, `Serving health and metrics on ${this.options.healthHost ?? '127.0.0.1'}:${port}`);

    const stopInformers = new AbortController();
    const informerRuns = this.allInformers().map((i) => i.run(stopInformers.signal));
    try {
      await Promise.race([Promise.all(this.allInformers().map((i) => i.waitForSync())), abortPromise(signal)]);
      if (signal.aborted) return 'stopped';
      this.logger.info({ agents: this.informers.agents.store.size, meshes: this.informers.meshes.store.size }, 'Caches synced');
      if (this.options.discovery) {
        this.discovery = await startDiscoveryService(this.options.discovery, { client: this.client, agents: this.informers.agents, logger: this.logger.child({ component: 'discovery' }), observeCall: this.metrics.observeGrpcCall });
      }

      if (this.options.leaderElection !== false) return await this.campaign(signal);
      await this.lead(signal);
      return 'stopped';
    } finally {
      await this.discovery?.server.close();
      this.discovery = undefined;
      stopInformers.abort();
      await Promise.allSettled(informerRuns);
      await this.events.flush(2000);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await this.client.destroy();
      this.metrics.isLeader.set(0);
    }
  }

  /** Campaigns for the lease and leads while holding it; resolves when stopped or when leadership is lost. */
  private async campaign(signal: AbortSignal): Promise<'stopped' | 'lost-leadership'> {
    await this.ensureLeaseNamespace();
    let led = false;
    this.election = new LeaseElection(this.client, {
      namespace: this.options.leaseNamespace ?? 'meshos-system',
      name: this.options.leaseName ?? 'meshos-operator',
      identity: this.identity,
      ...(this.options.leaseDurationMs !== undefined ? { leaseDurationMs: this.options.leaseDurationMs } : {}),
      ...(this.options.renewDeadlineMs !== undefined ? { renewDeadlineMs: this.options.renewDeadlineMs } : {}),
      ...(this.options.retryPeriodMs !== undefined ? { retryPeriodMs: this.options.retryPeriodMs } : {}),
      onStartedLeading: (leadership) => {
        led = true;
        return this.lead(leadership);
      },
      onNewLeader: (leader) => this.logger.info({ leader }, `Observed leader ${leader}`),
      onLog: (level, message, fields) => this.logger[level](fields, message),
    });
    await this.election.run(signal);
    return led && !signal.aborted ? 'lost-leadership' : 'stopped';
  }

  /** Runs the controllers' workers while leading. Every cached object is queued first: a new leader starts from the full state. */
  private async lead(signal: AbortSignal): Promise<void> {
    this.leading = true;
    this.metrics.isLeader.set(1);
    this.logger.info({ identity: this.identity }, 'Started leading; reconciling');
    for (const a of this.informers.agents.store.list()) this.controllers.agent.enqueue(objectKey(a));
    for (const m of this.informers.meshes.store.list()) this.controllers.mesh.enqueue(objectKey(m));
    for (const p of this.informers.proposals.store.list()) this.controllers.proposal.enqueue(objectKey(p));
    const kernel = this.startKernel(signal);
    const memory = this.options.memory ? await this.startMemory(this.options.memory) : undefined;
    const chain = await this.connectChain();
    const portal = this.options.governance?.portal ? await this.startPortal(this.options.governance.portal) : undefined;
    try {
      await Promise.all([...Object.values(this.controllers).map((c) => c.run(signal)), kernel, ...(this.scheduler ? [this.scheduler.run(signal)] : [])]);
    } finally {
      await portal?.close();
      this.portalPort = 0;
      this.governance.chain = undefined;
      await chain?.close();
      await memory?.close();
      this.leading = false;
      this.metrics.isLeader.set(0);
    }
  }

  /** Runs the kernel loop's analysis every interval while leading. */
  private async startKernel(signal: AbortSignal): Promise<void> {
    const modules = this.options.kernelModules ?? [];
    const { meshes, agents, proposals } = this.informers;
    let wakeUp = new AbortController();
    const loop = new KernelLoop({
      modules,
      log: this.decisions,
      context: {
        client: this.client,
        logger: this.logger.child({ component: 'kernel' }),
        informers: { meshes, agents, proposals, pods: this.informers.pods },
        now: () => new Date(),
        requestAnalysis: () => wakeUp.abort(),
      },
      policyFor: (mesh) => ({
        policy: meshes.store.get(mesh)?.spec.policy,
        agentCount: agents.store.byIndex(AGENTS_BY_MESH, mesh).length,
      }),
    });
    this.kernel = loop;
    this.approvals = new ApprovalBridge({
      client: this.client,
      loop,
      proposals,
      namespace: this.options.leaseNamespace ?? 'meshos-system',
      logger: this.logger.child({ component: 'approvals' }),
    });
    this.approvals.restoreAll();
    try {
      for (const module of modules) {
        const status = await module.setup?.(loop.context);
        if (status && status.code !== 'Success') this.logger.warn({ module: module.name, status }, `Kernel module ${module.name} setup: ${status.message}`);
      }
      while (!signal.aborted && modules.length > 0) {
        await loop.analyseOnce();
        await systemClock.sleep(this.options.kernelIntervalMs ?? 30_000, AbortSignal.any([signal, wakeUp.signal]));
        if (wakeUp.signal.aborted) wakeUp = new AbortController();
      }
    } finally {
      loop.stop();
      await loop.settle();
      for (const module of modules) {
        try {
          await module.teardown?.(loop.context);
        } catch (error) {
          this.logger.warn({ module: module.name, error: getErrorMessage(error) }, `Kernel module ${module.name} teardown failed`);
        }
      }
      this.kernel = undefined;
      this.approvals = undefined;
    }
  }

  /** The discovery service while it runs. */
  discovery: RunningDiscovery | undefined;

  /** Port of the context memory service while it runs. */
  memoryPort = 0;

  private async startMemory(options: NonNullable<ManagerOptions['memory']>): Promise<MemoryServer> {
    const agents = this.informers.agents;
    const server = await startMemoryServer({
      dataDir: options.dataDir,
      keyStore: new SecretKeyStore(this.client, options.keyNamespace ?? this.options.leaseNamespace ?? 'meshos-system'),
      resolveCaller: tokenReviewCallerResolver({ client: this.client, findAgent: ({ namespace, name }) => agents.store.get(`${namespace}/${name}`) }),
      host: options.host,
      port: options.port,
      observeCall: this.metrics.observeGrpcCall,
    });
    this.memoryPort = server.port;
    this.logger.info({ address: server.address, dataDir: options.dataDir }, `Serving context memory on ${server.address}`);
    return server;
  }

  /** Connects the governance chain; Proposals wait to be anchored until it is (a failure is logged, not fatal). */
  private async connectChain(): Promise<{ close(): Promise<void> } | undefined> {
    const options = this.options.governance?.chain;
    if (!options) return undefined;
    try {
      await this.ensureLeaseNamespace();
      const connected = await connectGovernanceChain(this.client, options, this.options.leaseNamespace ?? 'meshos-system');
      if (!connected) return undefined;
      this.governance.chain = connected.chain;
      const registrar = new IdentityRegistrar({ client: this.client, chain: connected.chain, operatorKey: connected.signerKey, rpcUrl: connected.rpcUrl, meshes: this.informers.meshes.store, agents: this.informers.agents.store, logger: this.logger.child({ component: 'did' }) });
      const resolver = registrar.resolver();
      this.governance.resolveDid = (did) => resolver.resolve(did);
      // Mesh and Agent DIDs are registered in the background, every 10 s while leading.
      const stopRegistrar = new AbortController();
      const registering = (async () => {
        while (!stopRegistrar.signal.aborted) {
          await registrar.syncOnce();
          await systemClock.sleep(10_000, stopRegistrar.signal).catch(() => undefined);
        }
      })();
      this.logger.info({ chainId: connected.chain.chainId, anchor: connected.chain.anchorAddress, registry: connected.chain.registryAddress, dev: Boolean(connected.devChain) }, `Connected governance chain ${connected.chain.chainId}`);
      return {
        close: async () => {
          stopRegistrar.abort();
          await registering;
          this.governance.resolveDid = undefined;
          await connected.close();
        },
      };
    } catch (error) {
      this.logger.error({ error: getErrorMessage(error) }, 'Failed to connect the governance chain; proposals will not be anchored');
      return undefined;
    }
  }

  private async startPortal(options: PortalOptions): Promise<PortalServer> {
    const portal = await startPortal(this.governance, options);
    this.portalPort = portal.port;
    this.logger.info({ url: portal.url }, `Serving the voters' portal on ${portal.url}`);
    return portal;
  }

  private async ensureLeaseNamespace(): Promise<void> {
    const namespace = this.options.leaseNamespace ?? 'meshos-system';
    try {
      // Read first: an installed chart's namespace exists, and its RBAC grants no namespace create.
      const exists = await this.client.get(CoreResources.namespace, undefined, namespace).then(
        () => true,
        (error: unknown) => {
          if (isNotFound(error)) return false;
          throw error;
        },
      );
      if (exists) return;
      await this.client.create(CoreResources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    } catch (error) {
      if (!isAlreadyExists(error)) this.logger.warn({ namespace, error: getErrorMessage(error) }, 'Failed to create lease namespace');
    }
  }
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
