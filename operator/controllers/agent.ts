import type { Agent, AgentStatus, Mesh } from '../../crds/types.js';
import { computeAgentTrust, transitionRequeueMs, type TrustRecomputer } from '../../kernel/trust/recompute.js';
import { attestationKeysOf } from '../../kernel/trust/attestations.js';
import type { Reconciler, ReconcileResult } from '../controller.js';
import type { EventRecorder } from '../events.js';
import type { KubeClient } from '../kube/client.js';
import { getErrorMessage, isAlreadyExists } from '../kube/errors.js';
import { CoreResources, MeshOsResources } from '../kube/resources.js';
import { applyStatus } from '../kube/apply.js';
import type { Informer } from '../informer/informer.js';
import type { Logger } from '../log.js';
import { agentStatusUpToDate, computeAgentStatus, type AgentObservation, type AgentWorkloadStatus } from './agent-status.js';
import {
  AGENT_LABEL,
  deploymentNeedsUpdate,
  desiredDeployment,
  desiredService,
  isOwnedBy,
  serviceNeedsUpdate,
  type Deployment,
  type Pod,
  type Service,
} from './workload.js';

export const AGENT_CONTROLLER = 'agent';
export const AGENT_FIELD_MANAGER = 'meshos-agent-controller';
/** Index on the pod informer: `namespace/agent-name` of the Agent a pod belongs to. */
export const PODS_BY_AGENT = 'byAgent';

export interface AgentControllerDeps {
  client: KubeClient;
  agents: Informer<Agent>;
  meshes: Informer<Mesh>;
  deployments: Informer<Deployment>;
  services: Informer<Service>;
  pods: Informer<Pod>;
  events: EventRecorder;
  /** Trust weights in force per Mesh (starting a transition when they changed); scores go into this controller's status write. */
  trust?: TrustRecomputer;
  now?: () => Date;
}

/**
 * Keeps each Agent's workload (a Deployment and a Service, owned by the Agent so deletion
 * cascades) in line with its spec, and reports replicas, placement and conditions in status.
 * Names are the Agent's own, so a restart mid-reconcile can never create a second workload.
 */
export class AgentReconciler implements Reconciler {
  readonly name = AGENT_CONTROLLER;

  constructor(private readonly deps: AgentControllerDeps) {}

  async reconcile(key: string, logger: Logger): Promise<ReconcileResult | void> {
    const { agents, meshes, deployments, services, pods } = this.deps;
    const agent = agents.store.get(key);
    if (!agent || agent.metadata.deletionTimestamp) return; // owner references clean up the workload

    const mesh = meshes.store.get(agent.spec.meshRef);
    let deployment = deployments.store.get(key);
    let service = services.store.get(key);
    let conflict: string | undefined;
    let failure: string | undefined;

    if (mesh) {
      const wantDeployment = desiredDeployment(agent, mesh);
      const wantService = desiredService(agent);
      if (deployment && !isOwnedBy(deployment, agent)) {
        conflict = `Deployment ${key} exists and is not owned by this Agent`;
      } else if (service && !isOwnedBy(service, agent)) {
        conflict = `Service ${key} exists and is not owned by this Agent`;
      } else {
        const createdDeployment = !deployment;
        try {
          deployment = await this.ensure(CoreResources.deployment, deployment, wantDeployment, deploymentNeedsUpdate);
          service = await this.ensure(CoreResources.service, service, wantService, serviceNeedsUpdate);
        } catch (error) {
          // Say why in status before retrying, so `kubectl get agent` shows the cause.
          failure = `Failed to apply workload ${key}: ${getErrorMessage(error)}`;
          await this.writeStatus(key, agent, { agent, meshFound: true, deployment, pods: [], failure }, logger);
          throw error;
        }
        if (createdDeployment) {
          logger.info({ deployment: key, scheduler: wantDeployment.spec?.template.spec.schedulerName }, `Created workload for agent ${key}`);
          this.deps.events.record(agent, {
            type: 'Normal',
            reason: 'WorkloadCreated',
            action: 'Create',
            note: `Created Deployment and Service ${key} (${wantDeployment.spec?.replicas ?? 0} replicas, scheduler ${wantDeployment.spec?.template.spec.schedulerName ?? ''})`,
          });
        }
      }
    }

    // Trust rides in the same status write as the workload: one write per Agent, not two.
    const plan = mesh ? await this.deps.trust?.syncMesh(mesh.metadata.name ?? '') : undefined;
    const trust = plan && mesh ? computeAgentTrust(agent, plan, (this.deps.now ?? (() => new Date()))(), { attestationKeys: attestationKeysOf(mesh) }) : undefined;
    await this.writeStatus(
      key,
      agent,
      { agent, meshFound: mesh !== undefined, deployment, pods: pods.store.byIndex(PODS_BY_AGENT, key), conflict, failure },
      logger,
      trust && (trust.changed ? trust.status : agent.status?.trust),
    );
    const requeue = plan ? transitionRequeueMs(plan) : undefined;
    return requeue !== undefined ? { requeueAfterMs: requeue } : undefined;
  }

  private async writeStatus(key: string, agent: Agent, observation: AgentObservation, logger: Logger, trust?: AgentStatus['trust']): Promise<void> {
    const status: AgentWorkloadStatus & { trust?: AgentStatus['trust'] } = computeAgentStatus(observation, (this.deps.now ?? (() => new Date()))());
    if (trust) status.trust = trust;
    if (agentStatusUpToDate(agent, status)) return;
    const problem = observation.conflict ?? observation.failure;
    if (problem) {
      this.deps.events.record(agent, { type: 'Warning', reason: status.conditions.find((c) => c.type === 'Ready')?.reason ?? 'Failed', action: 'Apply', note: problem });
    }
    await applyStatus(this.deps.client, MeshOsResources.agent, key, status, AGENT_FIELD_MANAGER);
    logger.debug({ phase: status.phase, replicas: status.replicaSummary }, `Updated status of agent ${key}`);
  }

  /**
   * Creates the object if the cache has none (an AlreadyExists means the cache lags: adopt the
   * live one), or replaces it when it drifted from the desired spec. Returns what is live now.
   */
  private async ensure<T extends Deployment | Service>(
    type: typeof CoreResources.deployment | typeof CoreResources.service,
    live: T | undefined,
    desired: T,
    needsUpdate: (live: T, desired: T) => boolean,
  ): Promise<T> {
    if (!live) {
      try {
        return await this.deps.client.create<T>(type, desired, { fieldManager: AGENT_FIELD_MANAGER });
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
        live = await this.deps.client.get<T>(type, desired.metadata.namespace, desired.metadata.name ?? '');
      }
    }
    if (!needsUpdate(live, desired)) return live;
    const updated = {
      ...live,
      metadata: {
        ...live.metadata,
        labels: { ...live.metadata.labels, ...desired.metadata.labels },
        annotations: { ...live.metadata.annotations, ...desired.metadata.annotations },
        ownerReferences: desired.metadata.ownerReferences,
      },
      spec: { ...live.spec, ...desired.spec },
    } as T;
    return this.deps.client.replace<T>(type, updated);
  }
}

/** Pod index function: the Agent a managed pod belongs to. */
export function podAgentKeys(pod: Pod): string[] {
  const agent = pod.metadata.labels?.[AGENT_LABEL];
  return agent ? [`${pod.metadata.namespace ?? ''}/${agent}`] : [];
}
