// meshos-scheduler: a secondary Kubernetes scheduler. It watches pods that name it and the
// nodes, batches pending pods (a short window or a size limit), solves their placement for
// the Mesh's weighted objectives, and binds each pod through pods/binding. The cache of node
// usage is the informers' view plus the pods it bound that the watch has not shown yet
// ("assumed", as kube-scheduler does), so it never counts the same capacity twice; just
// before each binding it checks the node again and re-queues the pod when the node filled
// or vanished since the solve.
import type { Registry } from 'prom-client';
import type { Agent, Mesh } from '../crds/types.js';
import { EventRecorder } from '../operator/events.js';
import { Informer } from '../operator/informer/informer.js';
import type { KubeClient } from '../operator/kube/client.js';
import { ApiError, getErrorMessage, isConflict, isNotFound } from '../operator/kube/errors.js';
import { objectKey, type KubeObject } from '../operator/kube/object.js';
import { CoreResources, MeshOsResources, objectPath, type ResourceType } from '../operator/kube/resources.js';
import type { Logger } from '../operator/log.js';
import {
  SCHEDULED_NODE_ANNOTATION,
  PLACEMENT_SCORE_ANNOTATION,
  LATENCY_CONFIGMAP,
  SCHEDULER_NAME,
  agentKeyOf,
  holdsResources,
  isPendingFor,
  isSchedulable,
  latencyFromConfigMap,
  nodeModel,
  podDemand,
  podRequests,
  weightsOf,
  type NodeObject,
  type PodObject,
} from './cluster.js';
import {
  commit,
  normaliserFor,
  objectiveTerms,
  violation,
  weightedScore,
  zoneSpreadOf,
  type LatencyMatrix,
  type NodeModel,
  type ObjectiveWeights,
  type PodDemand,
  type Resources,
} from './model.js';
import { SchedulerMetrics } from './metrics.js';
import { generateInstance } from './instances.js';
import { chooseVictims, type RunningPod } from './preempt.js';
import { RESERVE_ANNOTATION, RESERVE_REFRESHED_ANNOTATION, reservationOf } from './reservation.js';
import { solvePlacement, type PlacementResult } from './solve/optimise.js';
import { DEFAULT_LP_SOLVER, lpSolver } from './solve/registry.js';

export const PDB: ResourceType = { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true };

export interface PodDisruptionBudget extends KubeObject {
  spec?: { selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } };
  status?: { disruptionsAllowed?: number };
}

export interface MeshSchedulerOptions {
  client: KubeClient;
  logger: Logger;
  schedulerName?: string;
  /** Only pods of this namespace (tests); default every namespace. */
  namespace?: string;
  /** Only nodes matching this label selector are candidates. */
  nodeSelector?: string;
  /** Wait this long after the first pending pod for more to batch (default 100 ms). */
  batchWindowMs?: number;
  /** At most this many pods per batch (default 5000). */
  batchSize?: number;
  /** Time budget of one solve (default 2000 ms). */
  timeBudgetMs?: number;
  /** LP solver name (default highs); 'none' = greedy + improvement only. */
  solver?: string;
  /** Parallel bindings (default 64). */
  bindConcurrency?: number;
  /** Namespace of the latency ConfigMap (default meshos-system). */
  configNamespace?: string;
  registry?: Registry;
  /** Agent and Mesh caches shared with the operator; the scheduler starts its own when absent. */
  agents?: Informer<Agent>;
  meshes?: Informer<Mesh>;
  /** Re-try unschedulable pods after this long even without cluster changes (default 10 s). */
  retryUnschedulableMs?: number;
  /** Preempt lower-priority pods for pods that fit nowhere (default true). */
  preemption?: boolean;
  /** Called after the solve and before each binding's race check; tests change the cluster here to force a race. */
  beforeBind?: (pod: string, node: string) => Promise<void>;
}

interface Contribution {
  node: string;
  requests: Resources;
  group: string | undefined;
}

interface Usage {
  cpu: number;
  memory: number;
  pods: number;
  groups: Map<string, number>;
}

/** Capacity held on a node for one pod (preemption nominee, migration target) or one Agent (reservation). */
export interface Hold {
  id: string;
  node: string;
  requests: Resources;
  /** `namespace/name` of the pod the hold is for, or undefined for an Agent-wide reservation. */
  pod?: string;
  /** `namespace/name` of the Agent whose pods may use the hold. */
  agent?: string;
  expiresAt: number;
  /** What made the hold: a reservation, a preemption nominee, a migration. */
  reason?: 'reservation' | 'preemption' | 'migration';
}

export interface BindingRecord {
  pod: string;
  node: string;
  score: number;
  method: string;
}

const PODS_BY_NODE = 'node';

interface BindTask {
  pod: PodObject;
  demand: PodDemand;
  node: string;
  score: number;
  terms: string;
  method: string;
  matrix: LatencyMatrix;
}
export { RESERVE_ANNOTATION, RESERVE_REFRESHED_ANNOTATION, RESERVATION_TTL_MS, annotationSetAt } from './reservation.js';

export class MeshScheduler {
  readonly name: string;
  readonly pods: Informer<PodObject>;
  readonly nodes: Informer<NodeObject>;
  readonly agents: Informer<Agent>;
  readonly meshes: Informer<Mesh>;
  readonly metrics: SchedulerMetrics | undefined;
  private readonly ownInformers: Informer<KubeObject>[] = [];
  private readonly events: EventRecorder;
  private readonly pending = new Set<string>();
  private readonly unschedulable = new Map<string, number>(); // pod key -> retry at
  private readonly contributions = new Map<string, Contribution>();
  private readonly usage = new Map<string, Usage>();
  /** Pods bound (or being bound) by this scheduler that the watch has not shown bound yet, indexed by node. */
  private readonly assumed = new AssumedPods();
  private readonly holds = new Map<string, Hold>();
  private wake: (() => void) | undefined;
  private latency: { matrix: LatencyMatrix; readAt: number } = { matrix: {}, readAt: 0 };
  private holdSequence = 0;
  private started = false;
  private readonly reservedFor = new Map<string, string>();
  private readonly bindQueue: BindTask[] = [];
  private activeBinds = 0;
  /** Every binding made, newest last (bounded); tests and the bench read it. */
  readonly bindings: BindingRecord[] = [];
  lastBatch: { pods: number; result?: Pick<PlacementResult, 'method' | 'objective' | 'lpBound' | 'gapPercent' | 'seconds' | 'fallback'> } | undefined;

  constructor(private readonly options: MeshSchedulerOptions) {
    this.name = options.schedulerName ?? SCHEDULER_NAME;
    const { client } = options;
    this.pods = new Informer<PodObject>(client, CoreResources.pod, options.namespace ? { namespace: options.namespace } : {});
    this.nodes = new Informer<NodeObject>(client, CoreResources.node, options.nodeSelector ? { labelSelector: options.nodeSelector } : {});
    this.agents = options.agents ?? this.own(new Informer<Agent>(client, MeshOsResources.agent, { keepManagedFields: true, ...(options.namespace ? { namespace: options.namespace } : {}) }));
    this.meshes = options.meshes ?? this.own(new Informer<Mesh>(client, MeshOsResources.mesh));
    this.ownInformers.push(this.pods, this.nodes);
    this.metrics = options.registry ? new SchedulerMetrics(options.registry) : undefined;
    this.events = new EventRecorder(client, { controller: `meshos.dev/${this.name}`, instance: this.name, logger: options.logger, maxPending: 20_000, concurrency: 8 });
    this.pods.store.addIndex(PODS_BY_NODE, (pod) => (pod.spec?.nodeName ? [pod.spec.nodeName] : []));
    this.pods.addHandlers({
      onAdd: (pod) => this.onPod(pod),
      onUpdate: (_, pod) => this.onPod(pod),
      onDelete: (pod) => this.onPodDeleted(pod),
    });
    this.agents.addHandlers({ onAdd: (a) => this.onAgentAnnotation(a), onUpdate: (_, a) => this.onAgentAnnotation(a) });
    this.nodes.addHandlers({ onAdd: () => this.retryUnschedulable(), onUpdate: (previous, current) => previous !== current && this.retryUnschedulable() });
  }

  private own<T extends KubeObject>(informer: Informer<T>): Informer<T> {
    this.ownInformers.push(informer as unknown as Informer<KubeObject>);
    return informer;
  }

  /** The reservation API across processes: `kubectl annotate agent x meshos.dev/reserve-replicas=3` (the forecaster sets it). */
  private onAgentAnnotation(agent: Agent): void {
    if (!this.started) return;
    this.applyReservation(agent).catch((error: unknown) => this.options.logger.warn({ agent: objectKey(agent), error: getErrorMessage(error) }, `Failed to reserve for Agent ${objectKey(agent)}`));
  }

  /**
   * Makes the Agent's holds match its annotation (reservation.ts): derived from the annotation,
   * the time it was set and the pods bound since, so a restarted scheduler rebuilds the same holds.
   */
  private async applyReservation(agent: Agent): Promise<void> {
    const key = objectKey(agent);
    // Only Agents whose pods this scheduler binds: its namespace, a Mesh that names it.
    if (this.options.namespace !== undefined && agent.metadata.namespace !== this.options.namespace) return;
    const schedulerName = this.meshes.store.get(agent.spec.meshRef)?.spec.scheduling?.schedulerName ?? SCHEDULER_NAME;
    if (schedulerName !== this.name) return;
    // A new value or a confirmation (RESERVE_REFRESHED_ANNOTATION) re-reserves; other updates of
    // the Agent do not (they may move managedFields' time for the manager that set the
    // annotation, which only matters when rebuilding).
    const value = agent.metadata.annotations?.[RESERVE_ANNOTATION];
    const marker = value === undefined ? undefined : `${value}@${agent.metadata.annotations?.[RESERVE_REFRESHED_ANNOTATION] ?? ''}`;
    if (marker === this.reservedFor.get(key)) return;
    if (marker === undefined) this.reservedFor.delete(key);
    else this.reservedFor.set(key, marker);
    for (const [id, hold] of this.holds) if (hold.agent === key && hold.reason === 'reservation') this.holds.delete(id);
    const now = Date.now();
    const reservation = reservationOf(agent, this.pods.store.list(), now);
    if (reservation === undefined) return;
    if ('error' in reservation) {
      this.events.record(agent, { type: 'Warning', reason: 'InvalidReservation', action: 'Reserving', note: reservation.error });
      return;
    }
    if (reservation.remaining === 0 || reservation.expiresAt <= now) return;
    const holds = await this.reserveUntil(key, reservation.remaining, reservation.expiresAt);
    const minutes = Math.round((reservation.expiresAt - Date.now()) / 60_000);
    this.events.record(agent, {
      type: 'Normal',
      reason: 'Reserved',
      action: 'Reserving',
      note: `Reserved room for ${holds.length} of ${reservation.remaining} replicas (${reservation.replicas} asked, ${reservation.replicas - reservation.remaining} landed since) on ${holds.map((h) => h.node).join(', ') || 'no node'} for ${minutes} min`,
    });
  }

  // ---- cache of node usage ----

  private onPod(pod: PodObject): void {
    const key = objectKey(pod);
    this.setContribution(key, holdsResources(pod) ? { node: pod.spec?.nodeName ?? '', requests: safeRequests(pod), group: agentKeyOf(pod) } : undefined);
    if (pod.spec?.nodeName) this.assumed.delete(key);
    if (isPendingFor(pod, this.name)) {
      if (!this.unschedulable.has(key)) this.enqueue(key);
    } else {
      this.pending.delete(key);
      this.unschedulable.delete(key);
    }
  }

  private onPodDeleted(pod: PodObject): void {
    const key = objectKey(pod);
    this.setContribution(key, undefined);
    this.assumed.delete(key);
    this.pending.delete(key);
    this.unschedulable.delete(key);
    for (const [id, hold] of this.holds) if (hold.pod === key) this.holds.delete(id);
    this.retryUnschedulable();
  }

  private setContribution(key: string, next: Contribution | undefined): void {
    const previous = this.contributions.get(key);
    if (previous) this.addUsage(previous, -1);
    if (next) {
      this.contributions.set(key, next);
      this.addUsage(next, 1);
    } else this.contributions.delete(key);
  }

  private addUsage(contribution: Contribution, sign: 1 | -1): void {
    let usage = this.usage.get(contribution.node);
    if (!usage) this.usage.set(contribution.node, (usage = { cpu: 0, memory: 0, pods: 0, groups: new Map() }));
    usage.cpu += sign * contribution.requests.cpu;
    usage.memory += sign * contribution.requests.memory;
    usage.pods += sign * contribution.requests.pods;
    if (contribution.group !== undefined) {
      const count = (usage.groups.get(contribution.group) ?? 0) + sign;
      if (count > 0) usage.groups.set(contribution.group, count);
      else usage.groups.delete(contribution.group);
    }
  }

  private enqueue(key: string): void {
    this.pending.add(key);
    this.metrics?.pending.set(this.pending.size);
    this.wake?.();
  }

  private retryUnschedulable(): void {
    if (this.unschedulable.size === 0) return;
    for (const key of this.unschedulable.keys()) this.pending.add(key);
    this.unschedulable.clear();
    this.wake?.();
  }

  /** The node as the scheduler sees it now: informer usage + assumed bindings + holds (except those `forPod`/`forAgent` may use). */
  nodeNow(node: NodeObject, forPod?: string, forAgent?: string): NodeModel {
    const name = node.metadata.name ?? '';
    const usage = this.usage.get(name);
    const used: Resources = { cpu: usage?.cpu ?? 0, memory: usage?.memory ?? 0, pods: usage?.pods ?? 0 };
    const groups = new Set(usage?.groups.keys() ?? []);
    for (const [key, assumed] of this.assumed.onNode(name)) {
      if (key === forPod) continue;
      used.cpu += assumed.requests.cpu;
      used.memory += assumed.requests.memory;
      used.pods += assumed.requests.pods;
      if (assumed.group !== undefined) groups.add(assumed.group);
    }
    const now = Date.now();
    for (const hold of this.holds.values()) {
      if (hold.node !== name || hold.expiresAt < now) continue;
      if ((forPod !== undefined && hold.pod === forPod) || (forAgent !== undefined && hold.agent === forAgent && hold.pod === undefined)) continue;
      used.cpu += hold.requests.cpu;
      used.memory += hold.requests.memory;
      used.pods += hold.requests.pods;
    }
    return nodeModel(node, used, groups);
  }

  /** Candidate nodes now, every hold subtracted. */
  nodeModels(): NodeModel[] {
    return this.nodes.store.list().filter(isSchedulable).map((node) => this.nodeNow(node));
  }

  /** The latency matrix from the ConfigMap, re-read at most every 30 s; a bad ConfigMap keeps the last good one. */
  async latencyMatrix(): Promise<LatencyMatrix> {
    if (Date.now() - this.latency.readAt < 30_000) return this.latency.matrix;
    const namespace = this.options.configNamespace ?? 'meshos-system';
    try {
      const configMap = await this.options.client.get<KubeObject & { data?: Record<string, string> }>(CoreResources.configMap, namespace, LATENCY_CONFIGMAP);
      this.latency = { matrix: latencyFromConfigMap(configMap), readAt: Date.now() };
    } catch (error) {
      if (!isNotFound(error)) this.options.logger.warn({ error: getErrorMessage(error) }, `Failed to read latency ConfigMap ${namespace}/${LATENCY_CONFIGMAP}; keeping the last matrix`);
      this.latency = { matrix: isNotFound(error) ? {} : this.latency.matrix, readAt: Date.now() };
    }
    return this.latency.matrix;
  }

  demandOf(pod: PodObject): { demand: PodDemand; mesh: Mesh | undefined } {
    const agentName = pod.metadata.labels?.['meshos.dev/agent'];
    const agent = agentName ? this.agents.store.get(`${pod.metadata.namespace ?? ''}/${agentName}`) : undefined;
    const mesh = agent ? this.meshes.store.get(agent.spec.meshRef) : undefined;
    return { demand: podDemand(pod, agent, mesh), mesh };
  }

  // ---- holds: reservations, preemption nominees, migration targets ----

  /**
   * Reserves room for `replicas` more pods of an Agent (its current pod size) on the nodes the
   * objective prefers, for `ttlMs`, so a forecast scale-up lands at once. Returns the holds made
   * (fewer than asked when the cluster is short).
   */
  async reserve(agentKey: string, replicas: number, ttlMs: number, requests?: Resources): Promise<Hold[]> {
    if (!(ttlMs > 0)) throw new Error(`reserve: ttlMs must be positive, got ${ttlMs}`);
    return this.reserveUntil(agentKey, replicas, Date.now() + ttlMs, requests);
  }

  private async reserveUntil(agentKey: string, replicas: number, expiresAt: number, requests?: Resources): Promise<Hold[]> {
    if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`reserve: replicas must be a positive integer, got ${replicas}`);
    const agent = this.agents.store.get(agentKey);
    if (!agent) throw new Error(`reserve: Agent ${agentKey} is not known`);
    const mesh = this.meshes.store.get(agent.spec.meshRef);
    const [namespace = '', name = ''] = agentKey.split('/');
    const template: PodObject = {
      metadata: { name: `${name}-reserved`, namespace, labels: { 'meshos.dev/agent': name } },
      spec: { containers: [{ name: 'agent', resources: { requests: (agent.spec.runtime.resources?.requests ?? {}) } }] },
    };
    const base = podDemand(template, agent, mesh);
    if (requests) base.requests = requests;
    const pods = Array.from({ length: replicas }, (_, i) => ({ ...base, key: `${agentKey}#reserved-${i}` }));
    const matrix = await this.latencyMatrix();
    const solver = await this.solver();
    const result = solvePlacement({ nodes: this.nodeModels(), pods, weights: weightsOf(mesh), latency: matrix }, { ...(solver ? { solver } : {}), timeBudgetMs: this.options.timeBudgetMs ?? 2000 });
    const made: Hold[] = [];
    for (const node of result.assignments.values()) made.push(this.addHold({ node, requests: base.requests, agent: agentKey, expiresAt, reason: 'reservation' }));
    this.options.logger.info({ agent: agentKey, holds: made.map((h) => h.node) }, `Reserved ${made.length} of ${replicas} replicas for Agent ${agentKey}`);
    return made;
  }

  addHold(hold: Omit<Hold, 'id'>): Hold {
    const made = { ...hold, id: `hold-${++this.holdSequence}` };
    this.holds.set(made.id, made);
    return made;
  }

  releaseHold(id: string): void {
    this.holds.delete(id);
  }

  listHolds(): Hold[] {
    const now = Date.now();
    for (const [id, hold] of this.holds) if (hold.expiresAt < now) this.holds.delete(id);
    return [...this.holds.values()];
  }

  private async solver(): Promise<Awaited<ReturnType<typeof lpSolver>> | undefined> {
    const name = this.options.solver ?? DEFAULT_LP_SOLVER;
    return name === 'none' ? undefined : lpSolver(name);
  }

  // ---- the loop ----

  async run(signal: AbortSignal): Promise<void> {
    const runs = this.ownInformers.map((informer) => informer.run(signal));
    try {
      await Promise.all([...this.ownInformers, this.agents, this.meshes].map((i) => i.waitForSync()));
      this.options.logger.info({ scheduler: this.name, nodes: this.nodes.store.size, pending: this.pending.size }, `Scheduler ${this.name} started`);
      // Load the WebAssembly and warm the solve path (JavaScript's JIT) on a generated batch
      // before the first real one: the first solve of a process ran about twice as long. Kept
      // small (500 pods x 100 nodes): WebAssembly memory never shrinks, and a 2,000 x 200 batch
      // grew the operator's resident memory by about 65 MB against about 27 MB for this one.
      const solver = await this.solver();
      const warm = generateInstance(500, 100, 1);
      solvePlacement({ nodes: warm.nodes, pods: warm.pods, weights: weightsOf(undefined), latency: {} }, solver ? { solver } : {});
      this.started = true;
      // Holds are derived state: rebuild every reservation before the first batch, so pending
      // pods of other Agents cannot take the room a reserved Agent's scale-up will need.
      const rebuilt = await Promise.allSettled(this.agents.store.list().map((agent) => this.applyReservation(agent)));
      for (const outcome of rebuilt) if (outcome.status === 'rejected') this.options.logger.warn({ error: getErrorMessage(outcome.reason) }, 'Failed to rebuild a reservation');
      while (!signal.aborted) {
        if (this.pending.size === 0) await this.sleep(this.options.retryUnschedulableMs ?? 10_000, signal, true);
        if (signal.aborted) break;
        if (this.pending.size === 0) {
          this.retryDue();
          continue;
        }
        // The batch window: let a burst of creations arrive before solving.
        if (this.pending.size < (this.options.batchSize ?? 5000)) await this.sleep(this.options.batchWindowMs ?? 100, signal, false);
        try {
          await this.scheduleBatch();
        } catch (error) {
          this.options.logger.error({ error: getErrorMessage(error) }, 'Scheduling batch failed');
          await this.sleep(1000, signal, false);
        }
        this.retryDue();
      }
    } finally {
      await this.bindsSettled(5000);
      await Promise.allSettled(runs);
      await this.events.flush(2000);
    }
  }

  private retryDue(): void {
    const now = Date.now();
    for (const [key, at] of this.unschedulable) {
      if (at <= now) {
        this.unschedulable.delete(key);
        this.pending.add(key);
      }
    }
  }

  private sleep(ms: number, signal: AbortSignal, wakeOnWork: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      if (wakeOnWork) this.wake = done;
    });
  }

  /** Takes up to batchSize pending pods, places them, binds them. */
  async scheduleBatch(): Promise<void> {
    const keys = [...this.pending].slice(0, this.options.batchSize ?? 5000);
    for (const key of keys) this.pending.delete(key);
    this.metrics?.pending.set(this.pending.size);
    try {
      await this.placeBatch(keys);
    } catch (error) {
      // Nothing is lost: pods still pending go back to the queue (bound ones are no longer pending).
      for (const key of keys) {
        const pod = this.pods.store.get(key);
        if (pod && isPendingFor(pod, this.name) && !this.assumed.has(key)) this.pending.add(key);
      }
      throw error;
    }
  }

  private async placeBatch(keys: string[]): Promise<void> {
    const pods = keys.map((key) => this.pods.store.get(key)).filter((pod): pod is PodObject => pod !== undefined && isPendingFor(pod, this.name));
    if (pods.length === 0) return;
    const started = performance.now();
    const matrix = await this.latencyMatrix();
    const nodeObjects = new Map(this.nodes.store.list().filter(isSchedulable).map((n) => [n.metadata.name ?? '', n]));
    const podByKey = new Map(pods.map((pod) => [objectKey(pod), pod]));

    // Pods with a hold (reservation, preemption nominee, migration target) go there first.
    const direct: { pod: PodObject; node: string; hold: Hold }[] = [];
    const toSolve: { demand: PodDemand; mesh: Mesh | undefined }[] = [];
    const demands = new Map<string, { demand: PodDemand; mesh: Mesh | undefined }>();
    const usedHolds = new Set<string>();
    for (const pod of pods) {
      const key = objectKey(pod);
      let entry: { demand: PodDemand; mesh: Mesh | undefined };
      try {
        entry = this.demandOf(pod);
      } catch (error) {
        this.markUnschedulable(pod, `invalid pod: ${getErrorMessage(error)}`);
        continue;
      }
      demands.set(key, entry);
      const hold = this.holdFor(key, agentKeyOf(pod), entry.demand, nodeObjects, matrix, usedHolds);
      if (hold) {
        usedHolds.add(hold.id);
        direct.push({ pod, node: hold.node, hold });
      }
      else toSolve.push(entry);
    }
    for (const { hold } of direct) this.holds.delete(hold.id);

    // One solve per Mesh: each Mesh has its own weights. Nodes carry over between solves.
    let nodes = [...nodeObjects.values()].map((node) => this.nodeNow(node));
    for (const { pod, node } of direct) {
      const model = nodes.find((n) => n.name === node);
      const entry = demands.get(objectKey(pod));
      if (model && entry) commit(model, entry.demand);
    }
    const normaliser = normaliserFor(nodes, matrix);
    const assignments: BindTask[] = [];
    for (const { pod, node, hold } of direct) {
      const entry = demands.get(objectKey(pod));
      const model = nodes.find((n) => n.name === node);
      if (!entry || !model) continue;
      const { score, terms } = explain(entry.demand, model, weightsOf(entry.mesh), matrix, normaliser);
      assignments.push({ pod, demand: entry.demand, node, score, terms, method: `held capacity (${hold.reason ?? 'hold'} ${hold.id})`, matrix });
    }
    const unplaced: PodObject[] = [];
    const byMesh = new Map<string, { demand: PodDemand; mesh: Mesh | undefined }[]>();
    for (const entry of toSolve) {
      const meshName = entry.mesh?.metadata.name ?? '';
      byMesh.set(meshName, [...(byMesh.get(meshName) ?? []), entry]);
    }
    const solver = await this.solver();
    for (const entries of byMesh.values()) {
      const weights = weightsOf(entries[0]?.mesh);
      const result = solvePlacement(
        { nodes, pods: entries.map((e) => e.demand), weights, latency: matrix, normaliser },
        { ...(solver ? { solver } : {}), timeBudgetMs: this.options.timeBudgetMs ?? 2000 },
      );
      this.metrics?.batches.inc({ method: result.method });
      if (result.fallback) this.metrics?.fallbacks.inc({ reason: result.fallback });
      if (result.gapPercent !== undefined) this.metrics?.gapRatio.set(result.gapPercent / 100);
      if (result.fallback) this.options.logger.warn({ reason: result.fallback, pods: entries.length }, `Solver did not finish (${result.fallback}); binding the greedy+improvement placement`);
      this.lastBatch = { pods: entries.length, result: { method: result.method, objective: result.objective, seconds: result.seconds, ...(result.lpBound !== undefined ? { lpBound: result.lpBound } : {}), ...(result.gapPercent !== undefined ? { gapPercent: result.gapPercent } : {}), ...(result.fallback ? { fallback: result.fallback } : {}) } };
      const after = new Map(result.nodesAfter.map((n) => [n.name, n]));
      const method = result.method === 'lp' ? `LP (batch of ${entries.length}, gap ${(result.gapPercent ?? 0).toFixed(2)}% to the bound)` : `${result.method}${result.fallback ? ` (${result.fallback})` : ''}`;
      for (const { demand } of entries) {
        const pod = podByKey.get(demand.key) as PodObject;
        const node = result.assignments.get(demand.key);
        const model = node ? after.get(node) : undefined;
        if (!node || !model) {
          unplaced.push(pod);
          continue;
        }
        const { score, terms } = explain(demand, model, weights, matrix, normaliser);
        assignments.push({ pod, demand, node, score, terms, method, matrix });
      }
      nodes = result.nodesAfter;
    }
    const solved = performance.now();
    this.metrics?.batchDuration.observe((solved - started) / 1000);

    this.bindAll(assignments);
    this.options.logger.info(
      { pods: pods.length, placed: assignments.length, unplaced: unplaced.length, solveMs: Math.round(solved - started), queuedBinds: this.bindQueue.length, method: this.lastBatch?.result?.method },
      `Scheduled a batch of ${pods.length} pods`,
    );
    for (const pod of unplaced) await this.handleUnplaced(pod, demands.get(objectKey(pod))?.demand, matrix);
  }

  /** A usable hold for the pod: its own (nominee, migration target) or its Agent's reservation, on a node where it still fits. */
  private holdFor(podKey: string, agentKey: string | undefined, demand: PodDemand, nodeObjects: Map<string, NodeObject>, matrix: LatencyMatrix, used: Set<string>): Hold | undefined {
    const now = Date.now();
    for (const hold of this.holds.values()) {
      if (hold.expiresAt < now || used.has(hold.id)) continue;
      if (hold.pod !== podKey && !(hold.pod === undefined && agentKey !== undefined && hold.agent === agentKey)) continue;
      const node = nodeObjects.get(hold.node);
      if (!node) continue;
      const model = this.nodeNow(node, podKey, hold.pod === undefined ? agentKey : undefined);
      if (violation(demand, model, matrix) === undefined) return hold;
    }
    return undefined;
  }

  /**
   * Queues the bindings and returns: binding runs in the background (bindConcurrency at a time)
   * while the next batch is solved. Each pod is assumed on its node from now on, so the next
   * solve does not count the same room twice.
   */
  private bindAll(assignments: BindTask[]): void {
    for (const task of assignments) this.assumed.set(objectKey(task.pod), { node: task.node, requests: task.demand.requests, group: task.demand.spreadGroup });
    this.bindQueue.push(...assignments);
    this.pumpBinds();
  }

  private pumpBinds(): void {
    while (this.activeBinds < (this.options.bindConcurrency ?? 64) && this.bindQueue.length > 0) {
      const task = this.bindQueue.shift() as BindTask;
      this.activeBinds++;
      void this.bindOne(task).finally(() => {
        this.activeBinds--;
        this.pumpBinds();
      });
    }
  }

  /** Resolves when no binding is queued or in flight (or the timeout passes). */
  async bindsSettled(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.activeBinds > 0 || this.bindQueue.length > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  private async bindOne(task: BindTask): Promise<void> {
    const key = objectKey(task.pod);
    const { demand } = task;
    try {
      if (this.options.beforeBind) await this.options.beforeBind(key, task.node);
    } catch (error) {
      this.options.logger.warn({ pod: key, error: getErrorMessage(error) }, 'beforeBind hook failed');
    }
    // The race check: is the node still there, and does the pod still fit on it now?
    const live = this.nodes.store.get(task.node);
    if (!live || !isSchedulable(live)) {
      this.assumed.delete(key);
      this.requeue(key, 'requeued', `node ${task.node} vanished or became unschedulable since the solve`);
      return;
    }
    const reason = violation(demand, this.nodeNow(live, key, agentKeyOf(task.pod)), task.matrix);
    if (reason !== undefined) {
      this.assumed.delete(key);
      this.requeue(key, 'requeued', `node ${task.node} changed since the solve: ${reason}`);
      return;
    }
    try {
      await this.bind(task.pod, task.node, task.score);
      this.metrics?.podsBound.inc({ result: 'bound' });
      this.bindings.push({ pod: key, node: task.node, score: task.score, method: task.method });
      if (this.bindings.length > 100_000) this.bindings.splice(0, 50_000);
      this.events.record(task.pod, {
        type: 'Normal',
        reason: 'Scheduled',
        action: 'Binding',
        note: `Bound ${key} to ${task.node}: score ${task.score.toFixed(3)} (0 best, 1 worst) = ${task.terms}; by ${task.method}`,
      });
    } catch (error) {
      this.assumed.delete(key);
      if (isConflict(error) || (error instanceof ApiError && error.statusCode === 409)) {
        this.metrics?.podsBound.inc({ result: 'conflict' });
      } else if (isNotFound(error)) {
        this.metrics?.podsBound.inc({ result: 'gone' });
      } else {
        this.metrics?.podsBound.inc({ result: 'error' });
        this.options.logger.warn({ pod: key, node: task.node, error: getErrorMessage(error) }, `Failed to bind pod ${key}`);
        this.requeue(key, undefined, undefined);
      }
    }
  }

  private requeue(key: string, result: 'requeued' | undefined, why: string | undefined): void {
    if (result) this.metrics?.podsBound.inc({ result });
    if (why) this.options.logger.info({ pod: key }, `Re-queued pod ${key}: ${why}`);
    this.enqueue(key);
  }

  /** POST pods/<name>/binding; the binding's annotations are copied onto the pod by the API server. */
  private async bind(pod: PodObject, node: string, score: number): Promise<void> {
    const namespace = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    await this.options.client.request('POST', objectPath(CoreResources.pod, namespace, name, 'binding'), {
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}), annotations: { [SCHEDULED_NODE_ANNOTATION]: node, [PLACEMENT_SCORE_ANNOTATION]: score.toFixed(4) } },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      },
    });
  }

  private async handleUnplaced(pod: PodObject, demand: PodDemand | undefined, matrix: LatencyMatrix): Promise<void> {
    const key = objectKey(pod);
    // Nominated already: wait for the victims to go rather than preempting again.
    if ([...this.holds.values()].some((h) => h.pod === key && h.expiresAt > Date.now())) {
      this.unschedulable.set(key, Date.now() + 500);
      return;
    }
    if (demand && demand.priority > 0 && this.options.preemption !== false) {
      try {
        if (await this.preempt(pod, demand, matrix)) return;
      } catch (error) {
        this.options.logger.warn({ pod: key, error: getErrorMessage(error) }, `Preemption for pod ${key} failed`);
      }
    }
    const nodes = this.nodeModels();
    const reasons = new Map<string, number>();
    for (const node of nodes) {
      const reason = demand ? violation(demand, node, matrix) : 'invalid pod';
      const short = reason?.replace(/ \d+(\.\d+)? ms.*$| [\d.]+ below.*$/, '') ?? 'capacity taken by this batch';
      reasons.set(short, (reasons.get(short) ?? 0) + 1);
    }
    const summary = `0/${nodes.length} nodes are available: ${[...reasons].map(([reason, count]) => `${count} ${reason}`).join(', ')}`;
    this.markUnschedulable(pod, summary);
  }

  private markUnschedulable(pod: PodObject, message: string): void {
    const key = objectKey(pod);
    this.metrics?.podsBound.inc({ result: 'unschedulable' });
    this.unschedulable.set(key, Date.now() + (this.options.retryUnschedulableMs ?? 10_000));
    this.events.record(pod, { type: 'Warning', reason: 'FailedScheduling', action: 'Scheduling', note: message });
    const condition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: message.slice(0, 1000) };
    if (pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable')) return;
    this.options.client
      .patch(CoreResources.pod, pod.metadata.namespace, pod.metadata.name ?? '', { status: { conditions: [condition] } }, { patchType: 'strategic', subresource: 'status' })
      .catch((error: unknown) => this.options.logger.warn({ pod: key, error: getErrorMessage(error) }, `Failed to mark pod ${key} unschedulable`));
  }

  /** Evicts the fewest, lowest-priority pods (PDBs honoured) on the best node, and holds the room for the pod. */
  private async preempt(pod: PodObject, demand: PodDemand, matrix: LatencyMatrix): Promise<boolean> {
    const key = objectKey(pod);
    const budgets = await this.options.client.list<PodDisruptionBudget>(PDB);
    const allowed = new Map(budgets.items.map((b) => [objectKey(b), b.status?.disruptionsAllowed ?? 0]));
    const running = new Map<string, RunningPod[]>();
    const nodes = this.nodeModels();
    for (const node of nodes) {
      const list: RunningPod[] = [];
      for (const other of this.pods.store.byIndex(PODS_BY_NODE, node.name)) {
        if (!holdsResources(other) || other.metadata.deletionTimestamp) continue;
        const group = agentKeyOf(other);
        list.push({
          key: objectKey(other),
          priority: other.spec?.priority ?? 0,
          requests: safeRequests(other),
          ...(group !== undefined ? { spreadGroup: group } : {}),
          budgets: budgets.items.filter((b) => b.metadata.namespace === other.metadata.namespace && selects(b, other)).map((b) => objectKey(b)),
        });
      }
      running.set(node.name, list);
    }
    const choice = chooseVictims(demand, nodes, running, allowed, matrix, zoneSpreadOf(demand, nodes, matrix));
    if (!choice) return false;
    const victims = choice.victims.map((v) => this.pods.store.get(v)).filter((v): v is PodObject => v !== undefined);
    for (const victim of victims) {
      await this.options.client.request('POST', objectPath(CoreResources.pod, victim.metadata.namespace, victim.metadata.name ?? '', 'eviction'), {
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: victim.metadata.name, namespace: victim.metadata.namespace } },
      });
      this.metrics?.preemptions.inc();
      this.events.record(victim, { type: 'Normal', reason: 'Preempted', action: 'Preempting', note: `Evicted by meshos-scheduler to make room on ${choice.node} for ${key} (priority ${demand.priority})` });
    }
    this.addHold({ node: choice.node, requests: demand.requests, pod: key, expiresAt: Date.now() + 60_000, reason: 'preemption' });
    await this.options.client
      .patch(CoreResources.pod, pod.metadata.namespace, pod.metadata.name ?? '', { status: { nominatedNodeName: choice.node } }, { subresource: 'status' })
      .catch(() => undefined);
    this.events.record(pod, { type: 'Normal', reason: 'Preempting', action: 'Preempting', note: `Nominated ${choice.node} after evicting ${choice.victims.join(', ')}` });
    this.options.logger.info({ pod: key, node: choice.node, victims: choice.victims }, `Preempted ${choice.victims.length} pods on ${choice.node} for ${key}`);
    this.enqueue(key);
    return true;
  }
}

/** Assumed pods by key and by node, so the per-node view stays cheap with thousands in flight. */
class AssumedPods {
  private readonly byKey = new Map<string, Contribution>();
  private readonly byNode = new Map<string, Map<string, Contribution>>();

  set(key: string, contribution: Contribution): void {
    this.delete(key);
    this.byKey.set(key, contribution);
    let onNode = this.byNode.get(contribution.node);
    if (!onNode) this.byNode.set(contribution.node, (onNode = new Map<string, Contribution>()));
    onNode.set(key, contribution);
  }

  delete(key: string): void {
    const previous = this.byKey.get(key);
    if (!previous) return;
    this.byKey.delete(key);
    const onNode = this.byNode.get(previous.node);
    onNode?.delete(key);
    if (onNode?.size === 0) this.byNode.delete(previous.node);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  onNode(node: string): Iterable<[string, Contribution]> {
    return this.byNode.get(node) ?? [];
  }
}

function selects(budget: PodDisruptionBudget, pod: PodObject): boolean {
  const selector = budget.spec?.selector;
  if (!selector) return false;
  const labels = pod.metadata.labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = labels[e.key];
    if (e.operator === 'In' && (value === undefined || !(e.values ?? []).includes(value))) return false;
    if (e.operator === 'NotIn' && value !== undefined && (e.values ?? []).includes(value)) return false;
    if (e.operator === 'Exists' && value === undefined) return false;
    if (e.operator === 'DoesNotExist' && value !== undefined) return false;
  }
  return true;
}

/** Requests of a pod, zero when its spec is malformed (the API server validated it; this is belt and braces). */
function safeRequests(pod: PodObject): Resources {
  try {
    return podRequests(pod);
  } catch {
    return { cpu: 0, memory: 0, pods: 1 };
  }
}

/** The score and its terms, for the Event that says why the pod went there. */
export function explain(demand: PodDemand, node: NodeModel, weights: ObjectiveWeights, matrix: LatencyMatrix, normaliser: ReturnType<typeof normaliserFor>): { score: number; terms: string } {
  const terms = objectiveTerms(demand, node, matrix, normaliser);
  const score = weightedScore(terms, weights);
  const text = (['cost', 'latency', 'trust', 'carbon'] as const).map((t) => `${t} ${terms[t].toFixed(2)}×${weights[t]}`).join(' + ');
  return { score, terms: `${text} (node ${node.region}/${node.zone}, $${node.costPerHour}/h, ${node.carbonIntensity} gCO2/kWh, trust ${node.trustLevel})` };
}


