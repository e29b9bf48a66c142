import type { Agent } from '../crds/types.js';
import type { Action, ExecutionResult, KernelModule, ModuleContext, ProposedAction } from '../kernel/contract.js';
import { AGENT_LABEL } from '../operator/controllers/workload.js';
import { applyStatus } from '../operator/kube/apply.js';
import { getErrorMessage, isConflict, isNotFound } from '../operator/kube/errors.js';
import { CoreResources, MeshOsResources, objectPath, type ResourceType } from '../operator/kube/resources.js';
import { QUARANTINE_CONDITION, quarantineDecision, quarantinePolicy } from './quarantine.js';
import { recordRevision, rollbackVerdict, sampleHealth, type Revision } from './rollback.js';
import { replicaProblems, type PodObservation } from './detect.js';
import { DEFAULT_HEALING } from '../crds/schema/mesh.js';

export const NAME = 'agent-healing';
export const AGENT_HEALING_FIELD_MANAGER = 'meshos-agent-healing';
export const DEFAULT_ROLLBACK_WINDOW_SECONDS = 300;
export const networkPolicyResource: ResourceType = { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true };

interface PodView {
  metadata: { name?: string; uid?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string; creationTimestamp?: string };
  spec?: { nodeName?: string };
  status?: { conditions?: { type: string; status: string }[]; containerStatuses?: { restartCount?: number; state?: { waiting?: { reason?: string } } }[] };
}

/** An agent replica may report liveness itself by renewing this pod annotation (RFC 3339). */
export const AGENT_HEARTBEAT_ANNOTATION = 'meshos.dev/heartbeat';

const keyOf = (agent: Agent): string => `${agent.metadata.namespace ?? ''}/${agent.metadata.name ?? ''}`;
const stamp = (at: Date): string => at.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface AgentHealingOptions {
  /** A blocked or failed action is proposed again after this long. */
  retryMs?: number;
}

/**
 * Agent-level healing: quarantine (trust below the Mesh threshold or a flagged policy violation ->
 * a deny-all NetworkPolicy and a `Quarantined` condition that takes the Agent out of discovery;
 * released on recovery or operator override) and rollback (a revision history per Agent; a new
 * revision clearly less healthy than the previous one over the verification window is rolled
 * back, with the reason). Every step is a kernel decision, and so an Event on the Agent.
 */
export function createAgentHealingModule(options: AgentHealingOptions = {}): KernelModule & { history(key: string): readonly Revision[] } {
  const retryMs = options.retryMs ?? 30_000;
  const histories = new Map<string, Revision[]>();
  const restartsSeen = new Map<string, number>(); // pod uid -> restart count
  const lastSample = new Map<string, number>();
  const proposedAt = new Map<string, number>();
  const persisted = new Map<string, string>();
  const replaced = new Set<string>();

  const due = (id: string, at: number): boolean => at - (proposedAt.get(id) ?? -Infinity) >= retryMs;

  function podsOf(context: ModuleContext, agent: Agent): PodView[] {
    return ((context.informers.pods?.store.list() ?? []) as PodView[]).filter(
      (p) => p.metadata.namespace === agent.metadata.namespace && p.metadata.labels?.[AGENT_LABEL] === agent.metadata.name && !p.metadata.deletionTimestamp,
    );
  }

  /** Writes the history to status.revisions once there is one (a change), off the loop's path. */
  function persistHistory(context: ModuleContext, key: string, history: readonly Revision[]): void {
    if (history.length < 2) return;
    void writeHistory(context, key, history);
  }

  async function writeHistory(context: ModuleContext, key: string, history: readonly Revision[]): Promise<void> {
    const summary = history.map((r) => ({ revision: r.revision, hash: r.hash, startedAt: r.startedAt, runtime: r.runtime, ...(r.rolledBack ? { rolledBack: r.rolledBack } : {}) }));
    const text = JSON.stringify(summary);
    if (persisted.get(key) === text) return;
    try {
      await applyStatus(context.client, MeshOsResources.agent, key, { revisions: summary }, AGENT_HEALING_FIELD_MANAGER);
      persisted.set(key, text);
    } catch (error) {
      context.logger.warn({ agent: key, error: getErrorMessage(error) }, `Failed to record revisions of ${key}`);
    }
  }

  async function setQuarantineCondition(context: ModuleContext, agent: Agent, quarantined: boolean, reason: string, message: string): Promise<void> {
    await applyStatus(
      context.client,
      MeshOsResources.agent,
      keyOf(agent),
      {
        conditions: [
          {
            type: QUARANTINE_CONDITION,
            status: quarantined ? 'True' : 'False',
            reason,
            message: message.slice(0, 1000),
            lastTransitionTime: stamp(context.now()),
            ...(agent.metadata.generation !== undefined ? { observedGeneration: agent.metadata.generation } : {}),
          },
        ],
      },
      AGENT_HEALING_FIELD_MANAGER,
    );
  }

  return {
    name: NAME,
    observes: ['Mesh', 'Agent', 'Pod'],
    actions: ['quarantine-agent', 'release-agent', 'rollback-agent', 'replace-replica'],
    history: (key) => histories.get(key) ?? [],

    analyse(context: ModuleContext): ProposedAction[] {
      const now = context.now();
      const at = now.getTime();
      const proposals: ProposedAction[] = [];
      const present = new Set<string>();
      for (const agent of context.informers.agents.store.list()) {
        const key = keyOf(agent);
        present.add(key);
        const mesh = context.informers.meshes.store.get(agent.spec.meshRef);
        const target = { kind: 'Agent' as const, name: agent.metadata.name ?? '', namespace: agent.metadata.namespace ?? '', mesh: agent.spec.meshRef };

        // Quarantine.
        const decision = quarantineDecision(agent, mesh?.spec.healing?.quarantineTrustThreshold);
        if (decision.action !== 'none' && due(`${decision.action}/${key}`, at)) {
          proposedAt.set(`${decision.action}/${key}`, at);
          proposals.push({
            module: NAME,
            kind: decision.action === 'quarantine' ? 'quarantine-agent' : 'release-agent',
            target,
            reason: decision.reason,
            risk: decision.action === 'quarantine' ? 0.3 : 0.2,
            verifyWindowMs: 0,
            remediation: true,
            agentsTouched: 1,
            params: {},
          });
        }

        // Revision history and health.
        const hash = JSON.stringify(agent.spec.runtime);
        let history = histories.get(key);
        if (!history) {
          // A new leader starts from what the previous one recorded in status.
          const recorded = (agent.status?.revisions ?? []) as unknown as Revision[];
          history = recorded.filter((r) => typeof r.hash === 'string').map((r) => ({ ...r, health: { samples: 0, replicaSamples: 0, notReadySamples: 0, restarts: 0, observedMs: 0 } }));
        }
        const before = history.length;
        history = recordRevision(history, hash, agent.spec.runtime, now);
        if (history.length !== before || history.at(-1)?.revision !== histories.get(key)?.at(-1)?.revision) lastSample.set(key, at);
        const pods = podsOf(context, agent);
        let restartsDelta = 0;
        for (const pod of pods) {
          const restarts = (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
          const uid = pod.metadata.uid ?? '';
          if (restartsSeen.has(uid)) restartsDelta += restarts - (restartsSeen.get(uid) ?? 0);
          restartsSeen.set(uid, restarts);
        }
        const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
        const desired = Math.max(agent.spec.runtime.replicas ?? 1, pods.length);
        const elapsedMs = at - (lastSample.get(key) ?? at);
        lastSample.set(key, at);
        const current = history.at(-1);
        if (current && elapsedMs > 0) history[history.length - 1] = { ...current, health: sampleHealth(current.health, { desired, ready, restartsDelta, elapsedMs }) };
        histories.set(key, history);
        persistHistory(context, key, history);

        // Failed replicas: crash-looping, agent heartbeat missing, or scheduled but not ready for
        // three heartbeat timeouts. Each is replaced once (deleted for its Deployment to recreate),
        // and only while another replica serves or it is the only one.
        const timeoutMs = (mesh?.spec.healing?.heartbeatTimeoutSeconds ?? DEFAULT_HEALING.heartbeatTimeoutSeconds) * 1000;
        for (const pod of pods) {
          const uid = pod.metadata.uid ?? '';
          if (!pod.spec?.nodeName || replaced.has(uid)) continue;
          const observation: PodObservation = {
            name: pod.metadata.name ?? '',
            nodeName: pod.spec.nodeName,
            ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
            restarts: Math.max(0, ...(pod.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0)),
            crashLooping: (pod.status?.containerStatuses ?? []).some((c) => c.state?.waiting?.reason === 'CrashLoopBackOff'),
            ...(pod.metadata.annotations?.[AGENT_HEARTBEAT_ANNOTATION] ? { heartbeatAt: Date.parse(pod.metadata.annotations[AGENT_HEARTBEAT_ANNOTATION]) } : {}),
            ...(pod.metadata.creationTimestamp ? { createdAt: Date.parse(pod.metadata.creationTimestamp) } : {}),
          };
          const problems = replicaProblems(observation, at, timeoutMs).filter((p) => p !== 'not-ready' || at - (observation.createdAt ?? at) > 3 * timeoutMs);
          if (problems.length === 0) continue;
          const othersServing = ready - (observation.ready ? 1 : 0);
          if (othersServing < 1 && pods.length > 1) continue;
          replaced.add(uid);
          proposals.push({
            module: NAME,
            kind: 'replace-replica',
            target,
            reason: `replica ${observation.name} on ${pod.spec.nodeName} is ${problems.join(', ')}; ${othersServing} other replica(s) keep serving`,
            risk: 0.2,
            verifyWindowMs: 0,
            remediation: true,
            agentsTouched: 1,
            params: { pod: observation.name, uid },
          });
        }

        const windowMs = (mesh?.spec.healing?.rollbackWindowSeconds ?? DEFAULT_ROLLBACK_WINDOW_SECONDS) * 1000;
        const verdict = rollbackVerdict(history, windowMs);
        if (verdict.rollback && due(`rollback/${key}/${current?.revision ?? 0}`, at)) {
          proposedAt.set(`rollback/${key}/${current?.revision ?? 0}`, at);
          proposals.push({
            module: NAME,
            kind: 'rollback-agent',
            target,
            reason: verdict.reason,
            risk: 0.3,
            verifyWindowMs: 0,
            remediation: true,
            agentsTouched: 1,
            params: { fromRevision: current?.revision ?? 0, toRevision: verdict.to.revision, runtime: verdict.to.runtime },
          });
        }
      }
      for (const key of [...histories.keys()]) if (!present.has(key)) histories.delete(key);
      return proposals;
    },

    async execute(action: Action, context: ModuleContext): Promise<ExecutionResult> {
      const key = `${action.target.namespace ?? ''}/${action.target.name}`;
      const agent = context.informers.agents.store.get(key);
      if (!agent) throw new Error(`Agent ${key} is gone`);
      if (action.kind === 'quarantine-agent') {
        const policy = quarantinePolicy(agent, AGENT_LABEL);
        const name = (policy['metadata'] as { name: string }).name;
        await context.client.patch(networkPolicyResource, agent.metadata.namespace, name, policy, { patchType: 'apply', fieldManager: AGENT_HEALING_FIELD_MANAGER, force: true });
        await setQuarantineCondition(context, agent, true, action.reason.startsWith('policy violation') ? 'PolicyViolation' : 'LowTrust', `${action.reason}; isolated by NetworkPolicy ${name} and removed from discovery`);
        return { message: `quarantined Agent ${key}: NetworkPolicy ${name} denies all traffic of its pods` };
      }
      if (action.kind === 'release-agent') {
        const name = `${agent.metadata.name ?? ''}-quarantine`;
        try {
          await context.client.delete(networkPolicyResource, agent.metadata.namespace, name);
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
        await setQuarantineCondition(context, agent, false, action.reason.startsWith('operator override') ? 'OperatorOverride' : 'Recovered', action.reason);
        return { message: `released Agent ${key} from quarantine: ${action.reason}` };
      }
      if (action.kind === 'rollback-agent') {
        const runtime = action.params['runtime'];
        await context.client.patch(MeshOsResources.agent, agent.metadata.namespace, agent.metadata.name ?? '', [{ op: 'replace', path: '/spec/runtime', value: runtime }], { patchType: 'json' });
        const history = histories.get(key) ?? [];
        const from = history.find((r) => r.revision === action.params['fromRevision']);
        if (from) from.rolledBack = { at: stamp(context.now()), reason: action.reason };
        await writeHistory(context, key, history);
        return { message: `rolled Agent ${key} back from revision ${String(action.params['fromRevision'])} to revision ${String(action.params['toRevision'])}: ${action.reason}` };
      }
      if (action.kind === 'replace-replica') {
        const pod = String(action.params['pod']);
        try {
          await context.client.request('DELETE', objectPath(CoreResources.pod, agent.metadata.namespace, pod), { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: action.params['uid'] } } });
        } catch (error) {
          if (!isNotFound(error) && !isConflict(error)) throw error;
        }
        return { message: `replaced failed replica ${agent.metadata.namespace ?? ''}/${pod} of Agent ${key}` };
      }
      throw new Error(`${NAME} cannot execute ${action.kind}`);
    },
  };
}
