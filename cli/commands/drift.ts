// `mesh drift`: contradictions between what was decided and what is, found by the same detectors
// the operator's drift module runs, over the cluster's current objects.
import type { Command } from 'commander';
import type { Agent, Mesh, Proposal } from '../../crds/types.js';
import { detectDrift, type PlacedPod } from '../../kernel/drift/detect.js';
import { CoreResources, MeshOsResources } from '../../operator/kube/resources.js';
import { MANAGED_SELECTOR } from '../../operator/controllers/workload.js';
import { SilentExit, UsageError, type CliIo } from '../io.js';
import { addKubeOptions, withKube, type KubeFlags } from '../kube.js';
import { colorEnabled, paint, serialize } from '../output.js';

interface DriftFlags extends KubeFlags {
  mesh?: string;
  minScore: string;
}

export async function showDrift(flags: DriftFlags, io: CliIo): Promise<boolean> {
  const minScore = Number(flags.minScore);
  if (!(minScore >= 0 && minScore <= 1)) throw new UsageError(`--min-score must be a number within 0..1, got "${flags.minScore}"`);
  return withKube(flags, async ({ client }) => {
    const [meshes, agents, proposals, pods] = await Promise.all([
      client.list<Mesh>(MeshOsResources.mesh),
      client.list<Agent>(MeshOsResources.agent),
      client.list<Proposal>(MeshOsResources.proposal),
      client.list<PlacedPod & { metadata: Record<string, unknown> }>(CoreResources.pod, undefined, { labelSelector: MANAGED_SELECTOR }),
    ]);
    const drifts = detectDrift({ meshes: meshes.items, agents: agents.items, proposals: proposals.items, pods: pods.items }).filter(
      (d) => d.score >= minScore && (flags.mesh === undefined || d.target.mesh === flags.mesh),
    );
    const color = colorEnabled(io.stdout);
    if (flags.output === 'json' || flags.output === 'yaml') {
      io.stdout.write(serialize(drifts, flags.output));
    } else if (drifts.length === 0) {
      io.stdout.write('No drift: what was decided and what is agree.\n');
    } else {
      for (const d of drifts) {
        const target = `${d.target.kind}/${d.target.namespace ? `${d.target.namespace}/` : ''}${d.target.name}`;
        io.stdout.write(`${paint(d.score.toFixed(2), d.score >= 0.5 ? 'bad' : 'warn', color)}  ${d.kind}  ${target}  (mesh ${d.target.mesh})\n`);
        io.stdout.write(`      between: ${d.systems.join(' and ')}\n`);
        for (const line of d.evidence) io.stdout.write(`      evidence: ${line}\n`);
        for (const c of d.corrections) io.stdout.write(`      correct: ${c.description}${c.kind === 'manual' ? ' (needs a human)' : ` (the loop proposes ${c.kind}, risk ${c.risk})`}\n`);
      }
    }
    return drifts.length === 0;
  });
}

export function registerDriftCommand(program: Command, io: CliIo): void {
  addKubeOptions(
    program
      .command('drift')
      .description('Show drift: Mesh settings vs executed proposals, Agent SLA vs observed, placements vs scheduler decisions, desired vs ready replicas')
      .option('--mesh <name>', 'only this mesh')
      .option('--min-score <s>', 'hide drifts scored below this (0..1)', '0'),
    { namespaced: false },
  )
    .addHelpText('after', '\nExit code 0 when there is no drift, 1 when there is.\n\nExample:\n  mesh drift --mesh demo --min-score 0.2')
    .action(async (flags: DriftFlags) => {
      if (!(await showDrift(flags, io))) throw new SilentExit(1);
    });
}
