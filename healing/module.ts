import type { Agent, Mesh } from '../crds/types.js';
import { DEFAULT_HEALING } from '../crds/schema/mesh.js';
import type { Action, ExecutionResult, KernelModule, ModuleContext, ModuleStatus, ProposedAction } from '../kernel/contract.js';
import { AGENT_LABEL, MESH_LABEL } from '../operator/controllers/workload.js';
import { applyStatus, serverSideApply } from '../operator/kube/apply.js';
import type { KubeClient } from '../operator/kube/client.js';
import { getErrorMessage, isConflict, isNotFound } from '../operator/kube/errors.js';
import { Informer } from '../operator/informer/informer.js';
import type { KubeObject, OwnerReference } from '../operator/kube/object.js';
import { CoreResources, MeshOsResources, objectPath } from '../operator/kube/resources.js';
import { advanceNode, assessPartition, detectorSettings, type NodeHealth, type NodeObservation, type PartitionVerdict } from './detect.js';
import { addEvent, incidentConfigMap, incidentFromConfigMap, markMitigated, markResolved, openIncident, type Incident } from './incident.js';
import { planFailover, rampBatch, type AgentPod } from './plan.js';
import { HeartbeatPredictor, type HeartbeatWarning } from './predict/heartbeat.js';

export const NAME = 'healing';
export const HEALING_FIELD_MANAGER = 'meshos-healing';
/** The taint Mesh OS puts on a node it considers failed. */
export const FAILED_NODE_TAINT = 'meshos.dev/node-failed';
export const PARTITION_CONDITION = 'PartitionSuspected';
/** The taint a node gets when the predictor warns it may fail: no new pods, existing ones move. */
export const AT_RISK_TAINT = 'meshos.dev/node-at-risk';
/** An at-risk node is released after this long without another warning. */
const AT_RISK_HOLD_MS = 30 * 60_000;
/** Over this share of nodes failed at once, a suspected partition taints and moves nothing. */
const HOLD_ALL_PERCENT = 50;
/**
 * Partition treatment lasts this long after the verdict ends: while a partition heals, nodes come
 * back one by one and the verdict flips before the last ones heartbeat; moving their pods then
 * would be the mass eviction the verdict prevented.
 */
const PARTITION_HOLD_MS = 60_000;
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeObject extends KubeObject {
  spec?: { taints?: Taint[]; unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string; lastHeartbeatTime?: string }[] };
}
export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  timeAdded?: string;
}
export interface LeaseObject extends KubeObject {
  spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
}
interface PodObject extends KubeObject {
  spec?: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

export interface HealingOptions {
  /** Namespace of the incident ConfigMaps (the operator's namespace). */
  namespace?: string;
  /** How often the module checks heartbeat deadlines locally (it wakes the loop only on a change). */
  tickMs?: number;
  /** Time between untaint steps while recovered nodes ramp back. */
  rampIntervalMs?: number;
  /** A blocked or failed action is proposed again after this long. */
  retryMs?: number;
  /** Stops the module's own node and Lease informers. */
  signal?: AbortSignal;
  now?: () => number;
}

export interface HealingModule extends KernelModule {
  /** Node health as the detector sees it (tests, status pages). */
  health(): ReadonlyMap<string, NodeHealth>;
  incidents(): Incident[];
  /** Stops the informers and the tick; pending incident writes finish. */
  close(): Promise<void>;
}

const parseTime = (value: string | undefined): number | undefined => {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
};

/**
 * The healing module: detects failed nodes from their Leases and Ready conditions, taints them
 * with a Mesh OS taint, moves their agent pods (deleting them so their Deployments recreate them
 * elsewhere), untaints recovered nodes gradually, and keeps a postmortem per failure. Under a
 * suspected partition it only taints NoSchedule and moves only Agents with nothing serving.
 *
 * It reacts to Lease and Node events and checks heartbeat deadlines on its own short tick, and
 * asks the loop for an analysis only when a node changes state: the loop's interval (30 s by
 * default) would otherwise dominate the time to recover.
 */
export function createHealingModule(options: HealingOptions = {}): HealingModule {
  const now = options.now ?? Date.now;
  const namespace = options.namespace ?? 'meshos-system';
  const tickMs = options.tickMs ?? 500;
  const rampIntervalMs = options.rampIntervalMs ?? 2000;
  const retryMs = options.retryMs ?? 10_000;
  const stop = new AbortController();
  options.signal?.addEventListener('abort', () => stop.abort(), { once: true });

  const health = new Map<string, NodeHealth>();
  const incidents = new Map<string, Incident>(); // node -> open incident
  const moved = new Set<string>();
  const proposedAt = new Map<string, number>();
  const pendingTaint = new Map<string, Taint['effect']>(); // executed but not yet in the cache
  const pendingUntaint = new Set<string>();
  const writes = new Map<string, Promise<void>>();
  let partition: PartitionVerdict = { suspected: false, failedPercent: 0, zonesDown: [] };
  let lastPartitionAt = -Infinity;
  const partitionReported = new Map<string, boolean>();
  let lastUntaintAt: number | undefined;
  let nodes: Informer<NodeObject> | undefined;
  let leases: Informer<LeaseObject> | undefined;
  let runs: Promise<void>[] = [];
  let timer: NodeJS.Timeout | undefined;
  let context: ModuleContext | undefined;
  const predictor = new HeartbeatPredictor();
  const atRisk = new Map<string, HeartbeatWarning & { at: number }>();

  const settingsFor = (meshes: readonly Mesh[]) => {
    // Node heartbeats are cluster-wide; the strictest mesh's timeout applies to the nodes.
    const timeout = Math.min(...meshes.map((m) => m.spec.healing?.heartbeatTimeoutSeconds ?? DEFAULT_HEALING.heartbeatTimeoutSeconds), DEFAULT_HEALING.heartbeatTimeoutSeconds * 10);
    const maxUnhealthy = Math.min(...meshes.map((m) => m.spec.healing?.maxUnhealthyPercent ?? DEFAULT_HEALING.maxUnhealthyPercent), 100);
    return { detector: detectorSettings(Number.isFinite(timeout) ? timeout : DEFAULT_HEALING.heartbeatTimeoutSeconds), maxUnhealthy };
  };

  function observe(): NodeObservation[] {
    return (nodes?.store.list() ?? []).map((node) => {
      const name = node.metadata.name ?? '';
      const lease = leases?.store.get(`${NODE_LEASE_NAMESPACE}/${name}`);
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      const zone = node.metadata.labels?.['topology.kubernetes.io/zone'];
      const renewed = parseTime(lease?.spec?.renewTime);
      const created = parseTime(node.metadata.creationTimestamp);
      return {
        name,
        ...(zone ? { zone } : {}),
        ...(renewed !== undefined ? { leaseRenewedAt: renewed } : {}),
        ...(ready === 'True' || ready === 'False' || ready === 'Unknown' ? { ready } : {}),
        ...(created !== undefined ? { createdAt: created } : {}),
      };
    });
  }

  const ourTaint = (name: string): Taint | undefined => nodes?.store.get(name)?.spec?.taints?.find((t) => t.key === FAILED_NODE_TAINT);
  const isTainted = (name: string): boolean => (pendingTaint.has(name) || ourTaint(name) !== undefined) && !pendingUntaint.has(name);

  function agentPods(ctx: ModuleContext): AgentPod[] {
    const pods = (ctx.informers.pods?.store.list() ?? []) as PodObject[];
    const out: AgentPod[] = [];
    for (const pod of pods) {
      const agentName = pod.metadata.labels?.[AGENT_LABEL];
      if (!agentName) continue;
      const agentKey = `${pod.metadata.namespace ?? ''}/${agentName}`;
      const agent = ctx.informers.agents.store.get(agentKey);
      out.push({
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name ?? '',
        uid: pod.metadata.uid ?? '',
        agent: agentKey,
        mesh: agent?.spec.meshRef ?? pod.metadata.labels?.[MESH_LABEL] ?? '',
        ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
        ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
        terminating: pod.metadata.deletionTimestamp !== undefined,
      });
    }
    return out;
  }

  const agentWhole = (agent: Agent | undefined, failed: ReadonlySet<string>): boolean => {
    if (!agent) return true; // deleted: nothing left to recover
    const desired = agent.spec.runtime.replicas ?? 1;
    const nodesOfAgent = agent.status?.nodes ?? [];
    return agent.status?.phase === 'Ready' && (agent.status.readyReplicas ?? 0) >= desired && !nodesOfAgent.some((n) => failed.has(n));
  };

  const dirty = new Set<Incident>();
  let flushTimer: NodeJS.Timeout | undefined;

  const writtenAt = new Map<string, { at: number; status: string }>();

  /**
   * Writes changed postmortems in batches every 500 ms; an incident whose status did not change
   * is written at most every 5 s, so a flapping node or a busy failover does not load the API
   * server that the heartbeats themselves go through.
   */
  function persist(incident: Incident): void {
    dirty.add(incident);
    flushTimer ??= setTimeout(flush, 500);
  }

  function flush(): void {
    flushTimer = undefined;
    const ctx = context;
    if (!ctx) return;
    const at = now();
    for (const incident of [...dirty]) {
      const last = writtenAt.get(incident.id);
      if (last && last.status === incident.status && at - last.at < 5000) {
        flushTimer ??= setTimeout(flush, 5000 - (at - last.at));
        continue;
      }
      dirty.delete(incident);
      writtenAt.set(incident.id, { at, status: incident.status });
      if (writtenAt.size > 10_000) writtenAt.delete(writtenAt.keys().next().value as string);
      const owners: OwnerReference[] = incident.meshes
        .map((name) => ctx.informers.meshes.store.get(name))
        .filter((m): m is Mesh => m?.metadata.uid !== undefined)
        .map((m) => ({ apiVersion: 'meshos.dev/v1alpha1', kind: 'Mesh', name: m.metadata.name ?? '', uid: m.metadata.uid ?? '' }));
      const snapshot = incidentConfigMap(incident, namespace, owners);
      // Writes of one incident are chained so the last state wins; they never delay a failover.
      const previous = writes.get(incident.id) ?? Promise.resolve();
      const next = previous
        .then(() => serverSideApply(ctx.client, snapshot, HEALING_FIELD_MANAGER))
        .then(
          () => undefined,
          (error: unknown) => ctx.logger.warn({ incident: incident.id, error: getErrorMessage(error) }, `Failed to write postmortem ${incident.id}`),
        );
      writes.set(incident.id, next);
      void next.finally(() => {
        if (writes.get(incident.id) === next) writes.delete(incident.id);
      });
    }
  }

  /** Pod deletions run in parallel (bounded) so one slow DELETE does not hold up the other moves. */
  const deletions = new Set<Promise<void>>();
  async function deletePod(ctx: ModuleContext, namespace: string, pod: { name: string; uid: string; node: string }, agent: string): Promise<void> {
    while (deletions.size >= 32) await Promise.race(deletions);
    const run = (async () => {
      try {
        // Grace 0: the node is gone, no kubelet will confirm a graceful stop. The uid
        // precondition makes sure a replacement of the same name is never deleted.
        await ctx.client.request('DELETE', objectPath(CoreResources.pod, namespace, pod.name), {
          body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: pod.uid } },
        });
      } catch (error) {
        if (!isNotFound(error) && !isConflict(error)) {
          moved.delete(pod.uid); // let a later analysis try again
          ctx.logger.warn({ pod: `${namespace}/${pod.name}`, agent, error: getErrorMessage(error) }, `Failed to move pod ${namespace}/${pod.name}`);
        }
      }
    })();
    deletions.add(run);
    void run.finally(() => deletions.delete(run));
  }

  /** A new leader continues the record the previous one started (same deterministic id). */
  async function loadIncident(client: KubeClient, fresh: Incident): Promise<Incident> {
    try {
      const existing = incidentFromConfigMap(await client.get<KubeObject & { data?: Record<string, string> }>(CoreResources.configMap, namespace, fresh.id));
      if (existing && existing.status !== 'Resolved') {
        for (const uid of existing.movedPods) moved.add(uid);
        return existing;
      }
    } catch (error) {
      if (!isNotFound(error)) context?.logger.warn({ incident: fresh.id, error: getErrorMessage(error) }, 'Failed to read postmortem');
    }
    return fresh;
  }

  async function reportPartition(ctx: ModuleContext, meshes: readonly Mesh[]): Promise<void> {
    for (const mesh of meshes) {
      const name = mesh.metadata.name ?? '';
      const suspected = partition.suspected;
      if (partitionReported.get(name) === suspected) continue;
      const live = mesh.status?.conditions?.find((c) => c.type === PARTITION_CONDITION);
      if (!live && !suspected) {
        partitionReported.set(name, false);
        continue;
      }
      const condition = {
        type: PARTITION_CONDITION,
        status: suspected ? 'True' : 'False',
        reason: suspected ? 'ManyNodesFailed' : 'NodesHealthy',
        message: suspected ? `${partition.reason ?? 'many nodes failed at once'}: no mass eviction, only Agents with nothing serving move` : 'No partition suspected',
        lastTransitionTime: new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...(mesh.metadata.generation !== undefined ? { observedGeneration: mesh.metadata.generation } : {}),
      };
      try {
        await applyStatus(ctx.client, MeshOsResources.mesh, name, { conditions: [condition] }, HEALING_FIELD_MANAGER);
        partitionReported.set(name, suspected);
      } catch (error) {
        ctx.logger.warn({ mesh: name, error: getErrorMessage(error) }, `Failed to report partition on Mesh ${name}`);
      }
    }
  }

  /** Cheap local check on every tick: wakes the loop when a node would change state. */
  function tick(): void {
    const ctx = context;
    if (!ctx || !nodes?.hasSynced() || !leases?.hasSynced()) return;
    const { detector } = settingsFor(ctx.informers.meshes.store.list());
    const at = now();
    let changed = false;
    for (const observation of observe()) {
      const previous = health.get(observation.name);
      const next = advanceNode(previous, observation, at, detector);
      if ((previous?.state ?? 'Healthy') !== next.state) changed = true;
      if (next.state === 'Healthy' && isTainted(observation.name) && !pendingUntaint.has(observation.name)) changed = true;
    }
    if (changed) ctx.requestAnalysis();
  }

  const due = (id: string, at: number): boolean => at - (proposedAt.get(id) ?? -Infinity) >= retryMs;

  function meshesOn(node: string, pods: readonly AgentPod[]): string[] {
    return [...new Set(pods.filter((p) => p.nodeName === node && p.mesh).map((p) => p.mesh))].sort();
  }

  return {
    name: NAME,
    observes: ['Mesh', 'Agent', 'Pod', 'Node', 'Lease'],
    actions: ['taint-node', 'failover-agent', 'untaint-node', 'drain-node', 'release-node'],

    health: () => health,
    incidents: () => [...incidents.values()],

    async close(): Promise<void> {
      stop.abort();
      if (timer) clearInterval(timer);
      if (flushTimer) clearTimeout(flushTimer);
      writtenAt.clear();
      flush();
      if (flushTimer) clearTimeout(flushTimer);
      await Promise.allSettled([...deletions]);
      await Promise.allSettled(runs);
      await Promise.allSettled([...writes.values()]);
    },

    async setup(ctx: ModuleContext): Promise<ModuleStatus> {
      context = ctx;
      if (!nodes) {
        // The operator's shared informers do not watch Nodes or Leases; these two are the module's own.
        nodes = new Informer<NodeObject>(ctx.client, CoreResources.node, { resyncPeriodMs: 0 });
        leases = new Informer<LeaseObject>(ctx.client, CoreResources.lease, { namespace: NODE_LEASE_NAMESPACE, resyncPeriodMs: 0 });
        runs = [nodes.run(stop.signal), leases.run(stop.signal)];
        const wake = (): void => tick();
        nodes.addHandlers({ onUpdate: wake, onDelete: () => ctx.requestAnalysis() });
        leases.addHandlers({
          onUpdate: (_, lease) => {
            const renewed = parseTime(lease.spec?.renewTime);
            const name = lease.metadata.name ?? '';
            if (renewed !== undefined) {
              const warning = predictor.observe(name, renewed);
              if (warning && ctx.informers.meshes.store.list().some((m) => m.spec.healing?.predictiveDrain === true)) {
                atRisk.set(name, { ...warning, at: now() });
                ctx.logger.warn({ node: name, score: warning.score }, `Predicted failure of node ${name}: ${warning.reason}`);
                ctx.requestAnalysis();
              }
            }
            tick();
          },
        });
        // While an incident is open, Agent updates may complete it: check, at most every 250 ms.
        let agentCheck: NodeJS.Timeout | undefined;
        ctx.informers.agents.addHandlers({
          onUpdate: () => {
            if (agentCheck || ![...incidents.values()].some((i) => i.status === 'Open')) return;
            agentCheck = setTimeout(() => {
              agentCheck = undefined;
              ctx.requestAnalysis();
            }, 250);
          },
        });
        timer = setInterval(tick, tickMs);
        timer.unref();
      }
      await Promise.race([Promise.all([nodes.waitForSync(), leases?.waitForSync()]), new Promise((resolve) => setTimeout(resolve, 30_000))]);
      return nodes.hasSynced() ? { code: 'Success' } : { code: 'Error', message: 'node and Lease caches did not sync within 30 s' };
    },

    async analyse(ctx: ModuleContext): Promise<ProposedAction[]> {
      context = ctx;
      if (!nodes?.hasSynced() || !leases?.hasSynced()) return [];
      const meshes = ctx.informers.meshes.store.list();
      const { detector, maxUnhealthy } = settingsFor(meshes);
      const at = now();
      const observations = observe();
      const pods = agentPods(ctx);
      const proposals: ProposedAction[] = [];

      for (const observation of observations) {
        const previous = health.get(observation.name);
        const next = advanceNode(previous, observation, at, detector);
        health.set(observation.name, next);
        const from = previous?.state ?? 'Healthy';
        if (from === next.state) continue;
        if (next.state === 'Failed' && from === 'Healthy') {
          const silentFor = next.lastHeartbeatAt !== undefined ? ((at - next.lastHeartbeatAt) / 1000).toFixed(1) : '?';
          const cause = next.cause === 'lease' ? `node ${observation.name} stopped heartbeating: its Lease was not renewed for ${silentFor} s (timeout ${detector.heartbeatTimeoutMs / 1000} s)` : `node ${observation.name} reports Ready=${observation.ready ?? '?'}`;
          const incident = await loadIncident(ctx.client, openIncident(observation.name, cause, next.lastHeartbeatAt, at));
          incident.meshes = [...new Set([...incident.meshes, ...meshesOn(observation.name, pods)])].sort();
          incident.affectedAgents = [...new Set([...incident.affectedAgents, ...pods.filter((p) => p.nodeName === observation.name).map((p) => p.agent)])].sort();
          incidents.set(observation.name, incident);
          ctx.logger.warn({ node: observation.name, incident: incident.id }, `Detected failure of node ${observation.name}: ${cause}`);
          persist(incident);
        } else if (next.state === 'Failed' && from === 'Recovering') {
          const incident = incidents.get(observation.name);
          if (incident) {
            addEvent(incident, at, 'failed-again', `node ${observation.name} failed again before it was stable (flapping); the same incident goes on`);
            persist(incident);
          }
        } else if (next.state === 'Recovering') {
          const incident = incidents.get(observation.name);
          if (incident) {
            addEvent(incident, at, 'heartbeat-returned', `node ${observation.name} heartbeats again; untainted after it stays stable`);
            persist(incident);
          }
        }
      }
      // Nodes that were deleted: their incidents end, their state goes.
      const present = new Set(observations.map((o) => o.name));
      for (const name of [...health.keys()]) {
        if (present.has(name)) continue;
        health.delete(name);
        const incident = incidents.get(name);
        if (incident) {
          markResolved(incident, at, 'node deleted');
          addEvent(incident, at, 'node-deleted', `node ${name} was deleted`);
          persist(incident);
          incidents.delete(name);
        }
      }

      const failed = new Set([...health].filter(([, h]) => h.state === 'Failed').map(([name]) => name));
      const down = new Set([...health].filter(([, h]) => h.state !== 'Healthy').map(([name]) => name));
      const wasSuspected = partition.suspected;
      partition = assessPartition(observations, failed, maxUnhealthy);
      if (partition.suspected && !wasSuspected) {
        ctx.logger.warn({ reason: partition.reason }, `Suspected partition: ${partition.reason ?? ''}`);
        for (const node of failed) {
          const incident = incidents.get(node);
          if (incident) {
            addEvent(incident, at, 'partition-suspected', partition.failedPercent > HOLD_ALL_PERCENT ? `${partition.reason ?? ''}: most nodes look down, so nothing is tainted or moved` : `${partition.reason ?? ''}: the node is tainted NoSchedule only and only Agents with nothing serving move`);
            incident.cause = `suspected network partition (${partition.reason ?? ''}); ${incident.cause}`;
            persist(incident);
          }
        }
      }
      await reportPartition(ctx, meshes);

      // 1. Taint failed nodes (NoExecute; NoSchedule only under a suspected partition). When most
      // nodes look failed, this operator (or the heartbeat source) is the likelier one cut off:
      // tainting them all would only stop scheduling everywhere, so nothing is tainted or moved.
      if (partition.suspected) lastPartitionAt = at;
      const partitionMode = at - lastPartitionAt < PARTITION_HOLD_MS;
      const standDown = partition.suspected && partition.failedPercent > HOLD_ALL_PERCENT;
      for (const node of standDown ? [] : failed) {
        const effect: Taint['effect'] = partitionMode ? 'NoSchedule' : 'NoExecute';
        // A node tainted NoExecute just before the partition became apparent is downgraded, so
        // that nothing more is evicted from it; a NoSchedule taint is never raised to NoExecute.
        const current = pendingUntaint.has(node) ? undefined : (pendingTaint.get(node) ?? ourTaint(node)?.effect);
        if (current === effect || current === 'NoSchedule') continue;
        const id = `taint/${node}/${effect}`;
        if (!due(id, at)) continue;
        proposedAt.set(id, at);
        proposals.push({
          module: NAME,
          kind: 'taint-node',
          target: { kind: 'Node', name: node, mesh: meshesOn(node, pods)[0] ?? '' },
          reason: incidents.get(node)?.cause ?? `node ${node} failed`,
          risk: 0.2,
          verifyWindowMs: 0,
          remediation: true,
          params: { effect },
        });
      }

      // 2. Move agent pods off tainted failed nodes, each pod once per incident.
      const tainted = new Set(standDown ? [] : [...failed].filter((n) => isTainted(n)));
      for (const plan of planFailover({ pods, tainted, failed: down, moved, partition: partitionMode })) {
        const id = `failover/${plan.agent}/${plan.pods.map((p) => p.uid).join(',')}`;
        if (!due(id, at)) continue;
        proposedAt.set(id, at);
        const [agentNamespace = '', agentName = ''] = plan.agent.split('/');
        proposals.push({
          module: NAME,
          kind: 'failover-agent',
          target: { kind: 'Agent', name: agentName, namespace: agentNamespace, mesh: plan.mesh },
          reason: `${plan.pods.length} replica(s) on failed node(s) ${[...new Set(plan.pods.map((p) => p.node))].join(', ')}; ${plan.servingElsewhere} replica(s) keep serving elsewhere`,
          risk: 0.2,
          verifyWindowMs: 0,
          remediation: true,
          agentsTouched: 1,
          params: { pods: plan.pods },
        });
      }

      // 2b. Early warnings: drain a node predicted to fail (not remediation: the policy gate decides).
      for (const [node, warning] of atRisk) {
        const hasTaint = nodes.store.get(node)?.spec?.taints?.some((t) => t.key === AT_RISK_TAINT) ?? false;
        if (at - warning.at > AT_RISK_HOLD_MS || !nodes.store.get(node)) {
          if (hasTaint && due(`release/${node}`, at)) {
            proposedAt.set(`release/${node}`, at);
            proposals.push({ module: NAME, kind: 'release-node', target: { kind: 'Node', name: node, mesh: meshesOn(node, pods)[0] ?? '' }, reason: `no further warning for node ${node} in ${AT_RISK_HOLD_MS / 60_000} min`, risk: 0.1, verifyWindowMs: 0, remediation: false, params: {} });
          }
          if (!hasTaint) atRisk.delete(node);
          continue;
        }
        if (hasTaint || failed.has(node) || !due(`drain/${node}`, at)) continue;
        proposedAt.set(`drain/${node}`, at);
        const agentsThere = new Set(pods.filter((p) => p.nodeName === node).map((p) => p.agent));
        proposals.push({
          module: NAME,
          kind: 'drain-node',
          target: { kind: 'Node', name: node, mesh: meshesOn(node, pods)[0] ?? '' },
          reason: warning.reason,
          risk: 0.5,
          verifyWindowMs: 0,
          remediation: false,
          agentsTouched: agentsThere.size,
          params: { score: warning.score },
        });
      }

      // 3. Untaint recovered nodes, a few at a time.
      const recovered = [...health].filter(([name, h]) => h.state === 'Healthy' && ourTaint(name) !== undefined && !pendingUntaint.has(name)).map(([name]) => name).sort();
      const batch = rampBatch(recovered.length, lastUntaintAt, at, rampIntervalMs);
      for (const node of recovered.slice(0, batch)) {
        const id = `untaint/${node}`;
        if (!due(id, at)) continue;
        proposedAt.set(id, at);
        proposals.push({
          module: NAME,
          kind: 'untaint-node',
          target: { kind: 'Node', name: node, mesh: incidents.get(node)?.meshes[0] ?? '' },
          reason: `node ${node} heartbeats again and stayed stable for ${(detector.recoveryStableMs / 1000).toFixed(0)} s or more`,
          risk: 0.1,
          verifyWindowMs: 0,
          remediation: true,
          params: {},
        });
      }
      if (recovered.length > batch) setTimeout(() => ctx.requestAnalysis(), rampIntervalMs).unref();

      // 4. Incidents: mitigated when every affected Agent is whole; resolved when the node is back and untainted.
      for (const [node, incident] of incidents) {
        if (incident.status === 'Open' && incident.affectedAgents.every((key) => agentWhole(ctx.informers.agents.store.get(key), down))) {
          // Only after the pods were moved (or nothing had to move).
          const stranded = pods.some((p) => p.nodeName === node && !p.terminating && !partitionMode);
          if (!stranded) {
            markMitigated(incident, at);
            persist(incident);
          }
        }
        if (health.get(node)?.state === 'Healthy' && ourTaint(node) === undefined && !pendingTaint.has(node)) {
          markResolved(incident, at, 'node back');
          persist(incident);
          incidents.delete(node);
        }
      }
      return proposals;
    },

    async rollback(action: Action, _result: ExecutionResult, ctx: ModuleContext): Promise<ExecutionResult> {
      if (action.kind !== 'drain-node') throw new Error(`healing does not roll back ${action.kind}`);
      await updateTaints(ctx.client, action.target.name, (taints) => taints.filter((t) => t.key !== AT_RISK_TAINT));
      return { message: `removed taint ${AT_RISK_TAINT} from node ${action.target.name}` };
    },

    async execute(action: Action, ctx: ModuleContext): Promise<ExecutionResult> {
      const at = now();
      const node = action.target.name;
      if (action.kind === 'taint-node') {
        const effect = action.params['effect'] === 'NoSchedule' ? 'NoSchedule' : 'NoExecute';
        await updateTaints(ctx.client, node, (taints) => [
          ...taints.filter((t) => t.key !== FAILED_NODE_TAINT),
          { key: FAILED_NODE_TAINT, value: 'heartbeat-lost', effect, timeAdded: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z') },
        ]);
        pendingTaint.set(node, effect);
        pendingUntaint.delete(node);
        const incident = incidents.get(node);
        if (incident) {
          addEvent(incident, at, 'tainted', `tainted ${node} ${FAILED_NODE_TAINT}:${effect}`);
          persist(incident);
        }
        ctx.requestAnalysis();
        return { message: `tainted node ${node} ${FAILED_NODE_TAINT}:${effect}`, undo: { node } };
      }
      if (action.kind === 'untaint-node') {
        await updateTaints(ctx.client, node, (taints) => taints.filter((t) => t.key !== FAILED_NODE_TAINT));
        pendingUntaint.add(node);
        pendingTaint.delete(node);
        lastUntaintAt = at;
        const incident = incidents.get(node);
        if (incident) {
          addEvent(incident, at, 'untainted', `removed ${FAILED_NODE_TAINT} from ${node}; the scheduler may use it again`);
          markResolved(incident, at, 'node back');
          persist(incident);
          incidents.delete(node);
        }
        return { message: `removed taint ${FAILED_NODE_TAINT} from node ${node}` };
      }
      if (action.kind === 'failover-agent') {
        const pods = (action.params['pods'] ?? []) as { name: string; uid: string; node: string }[];
        const namespace = action.target.namespace ?? '';
        for (const pod of pods) {
          if (moved.has(pod.uid)) continue;
          moved.add(pod.uid);
          await deletePod(ctx, namespace, pod, `${namespace}/${action.target.name}`);
          const incident = incidents.get(pod.node);
          if (incident && !incident.movedPods.includes(pod.uid)) incident.movedPods.push(pod.uid);
        }
        for (const node of new Set(pods.map((p) => p.node))) {
          const incident = incidents.get(node);
          if (!incident) continue;
          const here = pods.filter((p) => p.node === node).map((p) => p.name);
          addEvent(incident, at, 'failover', `deleting pod(s) ${here.join(', ')} of Agent ${namespace}/${action.target.name} for its Deployment to recreate elsewhere`);
          persist(incident);
        }
        return { message: `moving ${pods.length} pod(s) of Agent ${namespace}/${action.target.name} off failed node(s): ${pods.map((p) => p.name).join(', ')}` };
      }
      if (action.kind === 'drain-node') {
        await updateTaints(ctx.client, node, (taints) => [
          ...taints.filter((t) => t.key !== AT_RISK_TAINT),
          { key: AT_RISK_TAINT, value: 'predicted', effect: 'NoSchedule', timeAdded: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z') },
        ]);
        // Graceful deletes: the node still works, so replicas stop cleanly while replacements start.
        const there = agentPods(ctx).filter((p) => p.nodeName === node && !p.terminating);
        for (const pod of there) {
          try {
            await ctx.client.request('DELETE', objectPath(CoreResources.pod, pod.namespace, pod.name), { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: pod.uid } } });
          } catch (error) {
            if (!isNotFound(error) && !isConflict(error)) throw error;
          }
        }
        return { message: `drained node ${node} (taint ${AT_RISK_TAINT}:NoSchedule, ${there.length} agent pod(s) moved) before its predicted failure`, undo: { node } };
      }
      if (action.kind === 'release-node') {
        await updateTaints(ctx.client, node, (taints) => taints.filter((t) => t.key !== AT_RISK_TAINT));
        atRisk.delete(node);
        return { message: `removed taint ${AT_RISK_TAINT} from node ${node}` };
      }
      throw new Error(`healing cannot execute ${action.kind}`);
    },
  };
}

/** Read-modify-write of a node's taints with optimistic concurrency (kcm adds taints too). */
async function updateTaints(client: KubeClient, name: string, change: (taints: Taint[]) => Taint[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const node = await client.get<NodeObject>(CoreResources.node, undefined, name);
    const taints = node.spec?.taints ?? [];
    const next = change(taints);
    if (JSON.stringify(next) === JSON.stringify(taints)) return;
    try {
      await client.patch(CoreResources.node, undefined, name, [
        { op: 'test', path: '/metadata/resourceVersion', value: node.metadata.resourceVersion },
        { op: 'add', path: '/spec/taints', value: next },
      ], { patchType: 'json' });
      return;
    } catch (error) {
      // A failed JSON-patch test answers 422 on some servers, 409 on others: reread and retry.
      if (attempt >= 4) throw error;
    }
  }
}
