// The `trust` kernel module. Recomputing scores is bookkeeping, not a risky change to the world,
// so it proposes one zero-risk `recompute-trust` action per Mesh whose scores are out of date
// (for the decision log) and leaves the arithmetic to TrustRecomputer, which the operator can
// also call per Agent key.
import type { ActionTarget, ExecutionResult, KernelModule, ModuleContext, ProposedAction } from '../contract.js';
import { TrustRecomputer, recomputeAll, type TrustComputeOptions } from './recompute.js';

export const NAME = 'trust';
export const RECOMPUTE_TRUST = 'recompute-trust';

export type TrustModuleOptions = TrustComputeOptions | undefined;

export function createTrustModule(options: TrustModuleOptions = {}): KernelModule {
  let recomputer: TrustRecomputer | undefined;
  // Created on first use, so analyse/execute work even when the loop skips setup.
  const recomputerFor = (context: ModuleContext): TrustRecomputer =>
    (recomputer ??= new TrustRecomputer({
      ...options,
      client: context.client,
      meshes: context.informers.meshes,
      agents: context.informers.agents,
      now: () => context.now(),
      logger: context.logger,
    }));

  return {
    name: NAME,
    observes: ['Mesh', 'Agent'],
    actions: [RECOMPUTE_TRUST],

    setup(context) {
      recomputerFor(context);
      const wake = { onAdd: () => context.requestAnalysis(), onUpdate: () => context.requestAnalysis() };
      context.informers.meshes.addHandlers(wake);
      context.informers.agents.addHandlers(wake);
      return { code: 'Success' };
    },

    analyse(context) {
      const now = context.now();
      const agents = context.informers.agents.store.list();
      const proposals: ProposedAction[] = [];
      for (const mesh of context.informers.meshes.store.list()) {
        const name = mesh.metadata.name ?? '';
        const { plan, agents: scored } = recomputeAll(agents, mesh, now, options);
        const stale = scored.filter((agent) => agent.changed).length;
        if (!plan.stateChanged && stale === 0) continue;
        const target: ActionTarget = { kind: 'Mesh', name, mesh: name };
        proposals.push({
          module: NAME,
          kind: RECOMPUTE_TRUST,
          target,
          reason: plan.stateChanged
            ? `Trust weights of mesh ${name} changed to ${plan.state.weightsVersion}; ${stale} agent scores to update`
            : `${stale} agent trust scores of mesh ${name} are out of date (weights ${plan.version})`,
          risk: 0,
          verifyWindowMs: 0,
          params: { mesh: name },
        });
      }
      return proposals;
    },

    async execute(action, context): Promise<ExecutionResult> {
      const mesh = typeof action.params['mesh'] === 'string' ? action.params['mesh'] : action.target.mesh;
      const results = await recomputerFor(context).recomputeMesh(mesh);
      const written = results.filter((result) => result.written).length;
      return { message: `Recomputed trust of ${results.length} agents of mesh ${mesh}, updated ${written}` };
    },
  };
}
