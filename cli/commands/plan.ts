// `mesh plan --mesh X --horizon 30d`: the capacity plan the forecasting module wrote into the
// Mesh's status, per region: demand, replicas, nodes, cost, carbon and risks with their dates.
import type { Command } from 'commander';
import type { Mesh } from '../../crds/types.js';
import { PLAN_HORIZONS } from '../../crds/schema/mesh.js';
import { KubeClient } from '../../operator/kube/client.js';
import { loadClusterConnection } from '../../operator/kube/config.js';
import { isNotFound } from '../../operator/kube/errors.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import { SilentExit, UsageError, type CliIo } from '../io.js';

interface PlanFlags {
  kubeconfig?: string;
  mesh?: string;
  horizon: string;
  output: string;
}

type Plan = NonNullable<NonNullable<NonNullable<Mesh['status']>['capacityPlans']>['plans']>[number];

export function formatPlan(plan: Plan, mesh: string, currency: string, updatedAt: string | undefined): string {
  const lines = [`Capacity plan for mesh ${mesh}, ${plan.horizon} (${plan.from} to ${plan.to})${updatedAt ? `, computed ${updatedAt}` : ''}`];
  if (plan.regions.length === 0) lines.push('  No autoscaled agents with a demand history yet.');
  for (const r of plan.regions) {
    lines.push('');
    lines.push(`Region ${r.region} (${r.agents} agent${r.agents === 1 ? '' : 's'})`);
    lines.push(`  demand      peak ${r.peakDemand}/s${r.peakAt ? ` at ${r.peakAt}` : ''}, mean ${r.meanDemand}/s`);
    lines.push(`  replicas    peak ${r.peakReplicas}, mean ${r.meanReplicas}`);
    lines.push(`  capacity    ${r.cpuCores} CPU at peak = ${r.nodesNeeded} node${r.nodesNeeded === 1 ? '' : 's'} (${r.nodesAvailable} ready now)`);
    lines.push(`  cost        ${r.cost} ${currency}    carbon ${r.carbonKg} kg CO2e`);
    const risks = r.risks ?? [];
    if (risks.length === 0) lines.push('  risks       none');
    for (const risk of risks) lines.push(`  risk        ${risk.kind}${risk.date ? ` from ${risk.date}` : ''}: ${risk.message}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function showPlan(flags: PlanFlags, io: CliIo): Promise<void> {
  if (!flags.mesh) throw new UsageError('--mesh is required');
  if (!(PLAN_HORIZONS as readonly string[]).includes(flags.horizon)) throw new UsageError(`--horizon must be one of ${PLAN_HORIZONS.join(', ')}, got "${flags.horizon}"`);
  if (!['table', 'json'].includes(flags.output)) throw new UsageError(`-o/--output must be table or json, got "${flags.output}"`);
  const client = new KubeClient(await loadClusterConnection(flags.kubeconfig));
  try {
    let mesh: Mesh;
    try {
      mesh = await client.get<Mesh>(MeshOsResources.mesh, undefined, flags.mesh);
    } catch (error) {
      if (isNotFound(error)) throw new UsageError(`mesh "${flags.mesh}" not found`);
      throw error;
    }
    const plans = mesh.status?.capacityPlans;
    const plan = plans?.plans?.find((p) => p.horizon === flags.horizon);
    if (!plan) {
      io.stderr.write(`Mesh ${flags.mesh} has no ${flags.horizon} capacity plan yet (the forecasting module writes plans once an autoscaled agent has a demand history).\n`);
      throw new SilentExit(1);
    }
    io.stdout.write(flags.output === 'json' ? `${JSON.stringify({ mesh: flags.mesh, updatedAt: plans?.updatedAt, currency: plans?.currency ?? 'USD', ...plan }, null, 2)}\n` : formatPlan(plan, flags.mesh, plans?.currency ?? 'USD', plans?.updatedAt));
  } finally {
    await client.destroy();
  }
}

export function registerPlanCommand(program: Command, io: CliIo): void {
  program
    .command('plan')
    .description("Show a Mesh's capacity plan: forecast demand, replicas, nodes, cost, carbon and risks per region")
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--mesh <name>', 'the Mesh')
    .option('--horizon <h>', `one of ${PLAN_HORIZONS.join(', ')}`, '30d')
    .option('-o, --output <format>', 'table or json', 'table')
    .addHelpText('after', '\nExit code 1 when the Mesh has no plan for that horizon yet.\n\nExample:\n  mesh plan --mesh demo --horizon 30d')
    .action(async (flags: PlanFlags) => {
      await showPlan(flags, io);
    });
}
