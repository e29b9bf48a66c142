// Trust recomputation: bookkeeping the operator runs per Agent key (and the trust module per
// Mesh). Reads Agent and Mesh from the informer caches, scores with the weights in force, and
// writes `status.trust` with server-side apply only when it changed.
import type { Agent, Mesh } from '../../crds/types.js';
import { attestationKeysOf, type AttestationKeys } from './attestations.js';
import type { Informer } from '../../operator/informer/informer.js';
import { applyStatus } from '../../operator/kube/apply.js';
import type { KubeClient } from '../../operator/kube/client.js';
import { objectKey } from '../../operator/kube/object.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import type { Logger } from '../../operator/log.js';
import {
  TRUST_COMPONENTS,
  trustComponents,
  trustInputsFromAgent,
  trustScore,
  trustTier,
  type TrustComponents,
  type TrustEvidence,
  type TrustTier,
} from './score.js';
import { meshTrustState, planWeights, type MeshTrustState, type WeightsPlan } from './transition.js';

/** Field manager of every status field the trust module writes. */
export const TRUST_FIELD_MANAGER = 'meshos-trust';

/** What goes into an Agent's `status.trust` (the CRD's shape). */
export interface AgentTrustStatus {
  score: number;
  components: TrustComponents;
  weightsVersion: string;
  /** RFC 3339; when the score was computed. */
  updatedAt: string;
}

/** A computed score with its tier (the tier is derived, not stored: the CRD has no field for it). */
export interface AgentTrust {
  key: string;
  status: AgentTrustStatus;
  tier: TrustTier;
  /** True when score, components or version differ from the Agent's recorded `status.trust`. */
  changed: boolean;
}

export interface TrustComputeOptions {
  registeredIssuers?: readonly string[];
  /** Evidence source per Agent; default: the `trust.meshos.dev/evidence` annotation. */
  evidenceFor?: (agent: Agent) => TrustEvidence | undefined;
  /** The Mesh's attestation issuer keys: when given, only verified signed attestations count. */
  attestationKeys?: AttestationKeys;
}

/** True when the recorded status says the same as `next` (the time it was computed aside). */
export function sameTrust(recorded: NonNullable<Agent['status']>['trust'], next: AgentTrustStatus): boolean {
  if (!recorded || recorded.score !== next.score || recorded.weightsVersion !== next.weightsVersion) return false;
  const components = recorded.components ?? {};
  return TRUST_COMPONENTS.every((component) => components[component] === next.components[component]);
}

/** Scores one Agent with the plan's weights; pure. */
export function computeAgentTrust(agent: Agent, plan: WeightsPlan, now: Date, options: TrustComputeOptions = {}): AgentTrust {
  const evidence = options.evidenceFor?.(agent);
  const inputs = trustInputsFromAgent(agent, now.getTime(), {
    ...(options.registeredIssuers ? { registeredIssuers: options.registeredIssuers } : {}),
    ...(evidence ? { evidence } : {}),
    ...(options.attestationKeys ? { attestationKeys: options.attestationKeys } : {}),
  });
  const components = trustComponents(inputs);
  const score = trustScore(components, plan.effectiveWeights);
  const status: AgentTrustStatus = { score, components, weightsVersion: plan.version, updatedAt: now.toISOString() };
  return { key: objectKey(agent), status, tier: trustTier(score), changed: !sameTrust(agent.status?.trust, status) };
}

/**
 * Recomputes every Agent of `mesh` (those whose `spec.meshRef` names it) at `now`; pure, for the
 * module's analysis and the 10,000-agent benchmark. `recorded` defaults to the Mesh's status.
 */
export function recomputeAll(
  agents: readonly Agent[],
  mesh: Mesh,
  now: Date,
  options: TrustComputeOptions & { recorded?: MeshTrustState } = {},
): { plan: WeightsPlan; agents: AgentTrust[] } {
  const plan = planWeights(mesh, options.recorded ?? meshTrustState(mesh), now.getTime());
  const meshName = mesh.metadata.name;
  const results = agents.filter((agent) => agent.spec.meshRef === meshName).map((agent) => computeAgentTrust(agent, plan, now, options));
  return { plan, agents: results };
}

/** Outcome of recomputing one Agent. */
export interface RecomputeResult {
  key: string;
  /** Undefined when the Agent or its Mesh is not in the cache. */
  trust?: AgentTrust;
  /** True when `status.trust` was written. */
  written: boolean;
  /** During a weights transition: recompute again after this long so the score keeps blending. */
  requeueAfterMs?: number;
}

export interface TrustRecomputerOptions extends TrustComputeOptions {
  client: KubeClient;
  meshes: Informer<Mesh>;
  agents: Informer<Agent>;
  now?: () => Date;
  logger?: Logger;
}

/** Requeue cadence during a transition: 1/20 of the period, between 1 s and 60 s, never past the end. */
export function transitionRequeueMs(plan: WeightsPlan): number | undefined {
  if (plan.remainingMs <= 0) return undefined;
  return Math.max(1, Math.min(plan.remainingMs, Math.min(60_000, Math.max(1_000, plan.periodMs / 20))));
}

/**
 * Recomputes trust scores against the cluster. Writes of a Mesh's `status.trust` are serialised
 * per Mesh and remembered, so a cache that lags behind its own write never starts a second
 * transition.
 */
export class TrustRecomputer {
  private readonly written = new Map<string, MeshTrustState>();
  private readonly meshLocks = new Map<string, Promise<unknown>>();
  private readonly now: () => Date;

  constructor(private readonly options: TrustRecomputerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Brings the Mesh's weights state up to date (starting or ending a transition); undefined when the Mesh is not cached. */
  syncMesh(meshName: string): Promise<WeightsPlan | undefined> {
    const previous = this.meshLocks.get(meshName) ?? Promise.resolve();
    const next = previous.then(
      () => this.syncMeshNow(meshName),
      () => this.syncMeshNow(meshName),
    );
    this.meshLocks.set(meshName, next);
    void next.finally(() => {
      if (this.meshLocks.get(meshName) === next) this.meshLocks.delete(meshName);
    }).catch(() => undefined);
    return next;
  }

  private async syncMeshNow(meshName: string): Promise<WeightsPlan | undefined> {
    const mesh = this.options.meshes.store.get(meshName);
    if (!mesh) return undefined;
    const memoKey = `${meshName}/${mesh.metadata.uid ?? ''}`;
    const recorded = this.written.get(memoKey) ?? meshTrustState(mesh);
    const plan = planWeights(mesh, recorded, this.now().getTime());
    if (plan.stateChanged) {
      await applyStatus(this.options.client, MeshOsResources.mesh, meshName, { trust: plan.state }, TRUST_FIELD_MANAGER);
      this.written.set(memoKey, plan.state);
      this.options.logger?.info(
        { object: meshName, weightsVersion: plan.state.weightsVersion, transitionPeriod: plan.state.transitionPeriod },
        plan.state.previousWeights ? `Started trust weights transition of mesh ${meshName}` : `Recorded trust weights in force for mesh ${meshName}`,
      );
    }
    return plan;
  }

  /** Recomputes one Agent (`namespace/name`) and writes its `status.trust` when it changed. */
  async recompute(agentKey: string): Promise<RecomputeResult> {
    const agent = this.options.agents.store.get(agentKey);
    if (!agent) return { key: agentKey, written: false };
    const meshName = agent.spec.meshRef;
    const plan = await this.syncMesh(meshName);
    if (!plan) return { key: agentKey, written: false };
    const mesh = this.options.meshes.store.get(meshName);
    const trust = computeAgentTrust(agent, plan, this.now(), { ...this.options, ...(mesh ? { attestationKeys: attestationKeysOf(mesh) } : {}) });
    if (trust.changed) {
      await applyStatus(this.options.client, MeshOsResources.agent, agentKey, { trust: trust.status }, TRUST_FIELD_MANAGER);
      this.options.logger?.debug({ object: agentKey, score: trust.status.score, weightsVersion: trust.status.weightsVersion }, `Updated trust score of agent ${agentKey}`);
    }
    const requeue = transitionRequeueMs(plan);
    return { key: agentKey, trust, written: trust.changed, ...(requeue !== undefined ? { requeueAfterMs: requeue } : {}) };
  }

  /** Recomputes every cached Agent of one Mesh. */
  async recomputeMesh(meshName: string): Promise<RecomputeResult[]> {
    const keys = this.options.agents.store
      .list()
      .filter((agent) => agent.spec.meshRef === meshName)
      .map((agent) => objectKey(agent));
    const results: RecomputeResult[] = [];
    for (const key of keys) results.push(await this.recompute(key));
    return results;
  }
}
