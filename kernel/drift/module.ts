import type { Mesh, Proposal } from '../../crds/types.js';
import { applyStatus } from '../../operator/kube/apply.js';
import { getErrorMessage } from '../../operator/kube/errors.js';
import { CoreResources, MeshOsResources } from '../../operator/kube/resources.js';
import type { Action, ExecutionResult, KernelModule, ModuleContext, ProposedAction } from '../contract.js';
import { detectDrift, type Drift } from './detect.js';

export const NAME = 'drift';
export const DRIFT_FIELD_MANAGER = 'meshos-drift';
export const DRIFTED_CONDITION = 'Drifted';
/** A drift still present is proposed for correction again after this long. */
const REPROPOSE_MS = 10 * 60_000;

const reasons: Record<Drift['kind'], string> = {
  'mesh-settings': 'SettingsDiffer',
  'agent-sla': 'SLANotMet',
  'agent-replicas': 'ReplicasMissing',
  placement: 'PlacementDiffers',
};

const keyOf = (drift: Pick<Drift, 'target'>): string =>
  `${drift.target.kind}/${drift.target.namespace ? `${drift.target.namespace}/` : ''}${drift.target.name}`;

/** The condition a drift (or its absence) puts on the affected resource. */
export function driftCondition(drifts: readonly Drift[], generation: number | undefined, now: Date): Record<string, unknown> {
  const top = [...drifts].sort((a, b) => b.score - a.score)[0];
  const base = { type: DRIFTED_CONDITION, lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(generation !== undefined ? { observedGeneration: generation } : {}) };
  if (!top) return { ...base, status: 'False', reason: 'NoDrift', message: 'What was decided and what is agree' };
  const message = `score ${top.score}: ${top.evidence.join('; ')} (${top.systems.join(' vs ')}); recommended: ${top.corrections.map((c) => c.description).join('; ')}`;
  return { ...base, status: 'True', reason: reasons[top.kind], message: message.slice(0, 1000) };
}

/**
 * The drift module: finds contradictions between decisions and the live state, reports each as a
 * `Drifted` condition on the affected Mesh or Agent, and proposes the corrections it can make
 * (re-applying an executed proposal, rescheduling a misplaced pod); the loop's policy decides.
 */
export function createDriftModule(): KernelModule {
  const drifted = new Map<string, boolean>(); // condition key -> last reported status
  const proposedAt = new Map<string, number>();

  async function reportConditions(context: ModuleContext, drifts: Drift[]): Promise<void> {
    const now = context.now();
    const byTarget = new Map<string, Drift[]>();
    for (const drift of drifts) {
      if (drift.target.kind !== 'Agent' && drift.target.kind !== 'Mesh') continue;
      byTarget.set(keyOf(drift), [...(byTarget.get(keyOf(drift)) ?? []), drift]);
    }
    const targets = new Set([...byTarget.keys(), ...[...drifted.entries()].filter(([, on]) => on).map(([key]) => key)]);
    for (const key of targets) {
      const found = byTarget.get(key) ?? [];
      const isDrifted = found.length > 0;
      if (drifted.get(key) === isDrifted && !isDrifted) continue;
      const [kind, ...rest] = key.split('/');
      const objectKey = rest.join('/');
      const object =
        kind === 'Mesh' ? context.informers.meshes.store.get(objectKey) : context.informers.agents.store.get(objectKey);
      if (!object) {
        drifted.delete(key);
        continue;
      }
      const condition = driftCondition(found, object.metadata.generation, now);
      const live = object.status?.conditions?.find((c) => c.type === DRIFTED_CONDITION);
      if (live && live.status === condition['status'] && live.message === condition['message']) {
        drifted.set(key, isDrifted);
        continue;
      }
      if (live && live.status === condition['status']) condition['lastTransitionTime'] = live.lastTransitionTime;
      try {
        await applyStatus(context.client, kind === 'Mesh' ? MeshOsResources.mesh : MeshOsResources.agent, objectKey, { conditions: [condition] }, DRIFT_FIELD_MANAGER);
        drifted.set(key, isDrifted);
      } catch (error) {
        context.logger.warn({ object: objectKey, error: getErrorMessage(error) }, `Failed to report drift on ${key}`);
      }
    }
  }

  return {
    name: NAME,
    observes: ['Mesh', 'Agent', 'Proposal', 'Pod'],
    actions: ['reapply-proposal', 'reschedule-pod'],

    async analyse(context: ModuleContext): Promise<ProposedAction[]> {
      const drifts = detectDrift({
        meshes: context.informers.meshes.store.list(),
        agents: context.informers.agents.store.list(),
        proposals: context.informers.proposals.store.list(),
        pods: context.informers.pods?.store.list() ?? [],
      });
      // Reporting what is observed (conditions) is not an action: it changes nothing but status.
      await reportConditions(context, drifts);
      const now = context.now().getTime();
      const proposals: ProposedAction[] = [];
      for (const drift of drifts) {
        for (const correction of drift.corrections) {
          if (correction.kind === 'manual') continue;
          const id = `${drift.id}/${correction.kind}`;
          if (now - (proposedAt.get(id) ?? -Infinity) < REPROPOSE_MS) continue;
          proposedAt.set(id, now);
          proposals.push({
            module: NAME,
            kind: correction.kind,
            target: drift.target,
            reason: `drift ${drift.score}: ${drift.evidence[0] ?? drift.kind}; ${correction.description}`,
            risk: correction.risk,
            verifyWindowMs: 0,
            remediation: false,
            ...(drift.target.kind === 'Agent' ? { agentsTouched: 1 } : {}),
            params: { ...correction.params, driftScore: drift.score },
          });
        }
      }
      return proposals;
    },

    async execute(action: Action, context: ModuleContext): Promise<ExecutionResult> {
      if (action.kind === 'reapply-proposal') {
        const [namespace = '', name = ''] = String(action.params['proposal']).split('/');
        const proposal: Proposal | undefined = context.informers.proposals.store.get(`${namespace}/${name}`);
        if (!proposal) throw new Error(`Proposal ${namespace}/${name} is gone; cannot re-apply it`);
        const before: Mesh | undefined = context.informers.meshes.store.get(action.target.name);
        await context.client.patch(MeshOsResources.mesh, undefined, action.target.name, proposal.spec.change.patch);
        return { message: `re-applied Proposal ${namespace}/${name} to Mesh ${action.target.name}`, undo: { spec: before?.spec ?? null } };
      }
      if (action.kind === 'reschedule-pod') {
        await context.client.delete(CoreResources.pod, action.target.namespace, action.target.name);
        return { message: `deleted pod ${action.target.namespace ?? ''}/${action.target.name} for its Deployment to recreate` };
      }
      throw new Error(`drift cannot execute ${action.kind}`);
    },
  };
}
