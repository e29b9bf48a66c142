// `mesh policy simulate -f actions.yaml`: what the kernel's policy gate would do with each action.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import type { Agent, Mesh } from '../../crds/types.js';
import type { MeshPolicy } from '../../kernel/policy.js';
import { ActionFileError, parseActionFile, simulatePolicy, type SimulatedDecision } from '../../kernel/simulate.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import { UsageError, parseCount, type CliIo } from '../io.js';
import { addKubeOptions, withKube, type KubeFlags } from '../kube.js';
import { printResult, toneOf, type Column } from '../output.js';

interface SimulateFlags extends KubeFlags {
  file: string;
  meshFile?: string;
  agents?: number;
  at?: string;
}

type MeshView = { policy: MeshPolicy | undefined; agentCount: number };

async function meshesFromFile(path: string, agents: number | undefined): Promise<Map<string, MeshView>> {
  const meshes = new Map<string, MeshView>();
  for (const document of parseAllDocuments(await readFile(path, 'utf8'))) {
    const mesh = document.toJS() as Mesh | null;
    if (!mesh || mesh.kind !== 'Mesh') continue;
    meshes.set(mesh.metadata.name ?? '', { policy: mesh.spec.policy, agentCount: agents ?? mesh.status?.agents?.total ?? 0 });
  }
  if (meshes.size === 0) throw new UsageError(`--mesh-file ${path}: no Mesh in the file`);
  return meshes;
}

async function meshesFromCluster(names: Set<string>, flags: Partial<KubeFlags>): Promise<Map<string, MeshView>> {
  return withKube(flags, async ({ client }) => {
    const meshes = new Map<string, MeshView>();
    const agents = (await client.list<Agent>(MeshOsResources.agent)).items;
    for (const mesh of (await client.list<Mesh>(MeshOsResources.mesh)).items) {
      const name = mesh.metadata.name ?? '';
      if (names.has(name)) meshes.set(name, { policy: mesh.spec.policy, agentCount: agents.filter((a) => a.spec.meshRef === name).length });
    }
    return meshes;
  });
}

const targetOf = (r: SimulatedDecision): string => `${r.action.target.kind}/${r.action.target.namespace ? `${r.action.target.namespace}/` : ''}${r.action.target.name}`;

const SIMULATE_COLUMNS: Column<SimulatedDecision>[] = [
  { header: '#', value: (r) => String(r.index) },
  { header: 'MODULE', value: (r) => r.action.module },
  { header: 'ACTION', value: (r) => r.action.kind },
  { header: 'TARGET', value: targetOf },
  { header: 'MESH', value: (r) => r.action.target.mesh, wide: true },
  { header: 'RISK', value: (r) => String(r.action.risk) },
  { header: 'DECISION', value: (r) => r.decision.outcome, tone: (r) => toneOf(r.decision.outcome) },
  { header: 'WHY', value: (r) => (r.decision.outcome === 'blocked' ? `${r.decision.rule}: ${r.decision.reason}` : r.decision.reason) },
];

export async function simulate(flags: SimulateFlags, io: CliIo): Promise<void> {
  const now = flags.at ? new Date(flags.at) : new Date();
  if (Number.isNaN(now.getTime())) throw new UsageError(`--at must be an RFC 3339 time such as 2026-11-23T22:30:00Z, got "${flags.at}"`);
  let actions;
  try {
    const text = await readFile(flags.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`-f ${flags.file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
    });
    actions = parseActionFile(text);
  } catch (error) {
    if (error instanceof ActionFileError) throw new UsageError(`${flags.file}: ${error.message}`);
    throw error;
  }
  const meshes = flags.meshFile
    ? await meshesFromFile(flags.meshFile, flags.agents)
    : await meshesFromCluster(new Set(actions.map((a) => a.target.mesh)), flags);
  const results = simulatePolicy(actions, meshes, now);
  printResult(io, {
    format: flags.output,
    rows: results,
    columns: SIMULATE_COLUMNS,
    data: results.map((r) => ({ index: r.index, module: r.action.module, kind: r.action.kind, target: r.action.target, ...r.decision })),
  });
}

export function registerPolicyCommands(program: Command, io: CliIo): void {
  const policy = program
    .command('policy')
    .description("The kernel's policy gate (autonomy caps, risk ceiling, rate limit, quiet hours)")
    .addHelpText('after', '\nExample:\n  mesh policy simulate -f actions.yaml --mesh-file samples/mesh.yaml');
  addKubeOptions(
    policy
      .command('simulate')
      .description('Report which actions would be allowed, blocked or held for approval, and why')
      .requiredOption('-f, --file <actions.yaml>', 'actions to evaluate, in order (a YAML list, or a mapping with actions:)')
      .option('--mesh-file <mesh.yaml>', 'evaluate against the Mesh(es) in this file instead of the cluster')
      .option('--agents <n>', 'with --mesh-file: the number of Agents in the mesh (for percentage caps)', parseCount)
      .option('--at <time>', 'evaluate as of this RFC 3339 time (quiet hours)'),
    { namespaced: false },
  )
    .addHelpText('after', '\nExample:\n  mesh policy simulate -f actions.yaml --mesh-file samples/mesh.yaml --agents 12 --at 2026-11-23T23:00:00Z')
    .action(async (flags: SimulateFlags) => simulate(flags, io));
}
