import { isDeepStrictEqual } from 'node:util';
import type { Agent, Mesh } from '../../crds/types.js';
import type { Reconciler, ReconcileResult } from '../controller.js';
import type { EventRecorder } from '../events.js';
import type { KubeClient } from '../kube/client.js';
import type { Informer } from '../informer/informer.js';
import type { Logger } from '../log.js';
import { MeshOsResources } from '../kube/resources.js';
import { applyStatus } from '../kube/apply.js';
import { ConditionType, Reason, setConditions, type Condition, type ConditionInput } from './conditions.js';

export const MESH_CONTROLLER = 'mesh';
export const MESH_FIELD_MANAGER = 'meshos-mesh-controller';
/** Index on the Agent informer: the Mesh an Agent joins. */
export const AGENTS_BY_MESH = 'byMesh';

export interface MeshHealthStatus {
  observedGeneration: number;
  phase: 'Ready' | 'Progressing' | 'Degraded';
  agents: { total: number; ready: number; degraded: number };
  conditions: Condition[];
}

/** Aggregates the health of a Mesh's Agents into the Mesh's status. Pure. */
export function computeMeshStatus(mesh: Mesh, agents: readonly Agent[], now: Date): MeshHealthStatus {
  const generation = mesh.metadata.generation ?? 0;
  const total = agents.length;
  const ready = agents.filter((a) => a.status?.phase === 'Ready').length;
  const degraded = agents.filter((a) => a.status?.phase === 'Degraded' || a.status?.phase === 'Failed').length;
  const base = { observedGeneration: generation };
  let phase: MeshHealthStatus['phase'];
  let readyCondition: ConditionInput;
  let degradedCondition: ConditionInput;
  if (degraded > 0) {
    phase = 'Degraded';
    const message = `${degraded} of ${total} agents degraded or failed`;
    readyCondition = { ...base, type: ConditionType.Ready, status: 'False', reason: Reason.AgentsDegraded, message };
    degradedCondition = { ...base, type: ConditionType.Degraded, status: 'True', reason: Reason.AgentsDegraded, message };
  } else if (ready < total) {
    phase = 'Progressing';
    const message = `${ready} of ${total} agents ready`;
    readyCondition = { ...base, type: ConditionType.Ready, status: 'False', reason: Reason.AgentsNotReady, message };
    degradedCondition = { ...base, type: ConditionType.Degraded, status: 'False', reason: Reason.AsExpected, message: '' };
  } else {
    phase = 'Ready';
    const reason = total === 0 ? Reason.NoAgents : Reason.AllAgentsReady;
    const message = total === 0 ? 'No agents have joined this mesh yet' : `All ${total} agents ready`;
    readyCondition = { ...base, type: ConditionType.Ready, status: 'True', reason, message };
    degradedCondition = { ...base, type: ConditionType.Degraded, status: 'False', reason: Reason.AsExpected, message: '' };
  }
  const own = ((mesh.status?.conditions ?? []) as Condition[]).filter((c) => c.type === ConditionType.Ready || c.type === ConditionType.Degraded);
  return { observedGeneration: generation, phase, agents: { total, ready, degraded }, conditions: setConditions(own, [readyCondition, degradedCondition], now) };
}

/** The Mesh controller: aggregates Agent health into Mesh status and records phase changes as Events. */
export class MeshReconciler implements Reconciler {
  readonly name = MESH_CONTROLLER;

  constructor(
    private readonly deps: {
      client: KubeClient;
      meshes: Informer<Mesh>;
      agents: Informer<Agent>;
      events: EventRecorder;
      now?: () => Date;
    },
  ) {}

  async reconcile(key: string, logger: Logger): Promise<ReconcileResult | void> {
    const mesh = this.deps.meshes.store.get(key);
    if (!mesh || mesh.metadata.deletionTimestamp) return;
    const agents = this.deps.agents.store.byIndex(AGENTS_BY_MESH, key);
    const status = computeMeshStatus(mesh, agents, (this.deps.now ?? (() => new Date()))());
    const live = mesh.status ?? {};
    const liveConditions = ((live.conditions ?? []) as Condition[]).filter((c) => c.type === ConditionType.Ready || c.type === ConditionType.Degraded);
    if (
      live.observedGeneration === status.observedGeneration &&
      live.phase === status.phase &&
      isDeepStrictEqual(live.agents, status.agents) &&
      isDeepStrictEqual(liveConditions, status.conditions)
    ) {
      return;
    }
    await applyStatus(this.deps.client, MeshOsResources.mesh, key, status, MESH_FIELD_MANAGER);
    if (live.phase !== status.phase) {
      this.deps.events.record(mesh, {
        type: status.phase === 'Degraded' ? 'Warning' : 'Normal',
        reason: status.conditions.find((c) => c.type === ConditionType.Ready)?.reason ?? status.phase,
        action: 'AggregateHealth',
        note: `Mesh is ${status.phase}: ${status.agents.ready}/${status.agents.total} agents ready, ${status.agents.degraded} degraded`,
      });
      logger.info({ phase: status.phase, agents: status.agents }, `Mesh ${key} became ${status.phase}`);
    }
  }
}

export function agentMeshKeys(agent: Agent): string[] {
  return [agent.spec.meshRef];
}
