// `mesh plan --mesh X --horizon 30d`: the capacity plan the forecasting module wrote into the
// Mesh's status, per region: demand, replicas, nodes, cost, carbon and risks with their dates.
import type { Command } from 'commander';
import type { Mesh } from '../../crds/types.js';
import { PLAN_HORIZONS } from '../../crds/schema/mesh.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import { SilentExit, UsageError, type CliIo } from '../io.js';
import { ObjectError, addKubeOptions, objectRef, withKube, type KubeFlags } from '../kube.js';
import { printResult, type Column } from '../output.js';

interface PlanFlags extends KubeFlags {
  mesh?: string;
  horizon: string;
}

type Plan = NonNullable<NonNullable<NonNullable<Mesh['status']>['capacityPlans']>['plans']>[number];

type Region = Plan['regions'][number];

/** One row per region, for -o json|yaml's sake and anyone reusing the table. */
export const PLAN_COLUMNS: Column<Region>[] = [
  { header: 'REGION', value: (r) => r.region },
  { header: 'AGENTS', value: (r) => String(r.agents) },
  { header: 'PEAK DEMAND', value: (r) => `${r.peakDemand}/s` },
  { header: 'PEAK REPLICAS', value: (r) => String(r.peakReplicas) },
  { header: 'NODES', value: (r) => `${r.nodesNeeded}/${r.nodesAvailable}` },
  { header: 'COST', value: (r) => String(r.cost) },
  { header: 'CARBON KG', value: (r) => String(r.carbonKg) },
  { header: 'RISKS', value: (r) => String((r.risks ?? []).length) },
];

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
  const name = flags.mesh;
  if (!name) throw new UsageError('--mesh is required');
  if (!(PLAN_HORIZONS as readonly string[]).includes(flags.horizon)) throw new UsageError(`--horizon must be one of ${PLAN_HORIZONS.join(', ')}, got "${flags.horizon}"`);
  await withKube(flags, async ({ client }) => {
    let mesh: Mesh;
    try {
      mesh = await client.get<Mesh>(MeshOsResources.mesh, undefined, name);
    } catch (error) {
      throw new ObjectError(objectRef('Mesh', undefined, name), error);
    }
    const plans = mesh.status?.capacityPlans;
    const plan = plans?.plans?.find((p) => p.horizon === flags.horizon);
    if (!plan) {
      io.stderr.write(`Mesh ${name} has no ${flags.horizon} capacity plan yet (the forecasting module writes plans once an autoscaled agent has a demand history).\n`);
      throw new SilentExit(1);
    }
    const currency = plans?.currency ?? 'USD';
    if (flags.output === 'table') {
      // A report rather than one table: a block per region with its risks and their dates.
      io.stdout.write(formatPlan(plan, name, currency, plans?.updatedAt));
      return;
    }
    printResult(io, { format: flags.output, rows: plan.regions, columns: PLAN_COLUMNS, data: { mesh: name, updatedAt: plans?.updatedAt, currency, ...plan } });
  });
}

export function registerPlanCommand(program: Command, io: CliIo): void {
  addKubeOptions(
    program
      .command('plan')
      .description("Show a Mesh's capacity plan: forecast demand, replicas, nodes, cost, carbon and risks per region")
      .option('--mesh <name>', 'the Mesh')
      .option('--horizon <h>', `one of ${PLAN_HORIZONS.join(', ')}`, '30d'),
    { namespaced: false },
  )
    .addHelpText('after', '\n-o table prints a report per region; -o wide one row per region.\nExit code 1 when the Mesh has no plan for that horizon yet.\n\nExamples:\n  mesh plan --mesh demo --horizon 30d\n  mesh plan --mesh demo --horizon 90d -o yaml')
    .action(async (flags: PlanFlags) => {
      await showPlan(flags, io);
    });
}
