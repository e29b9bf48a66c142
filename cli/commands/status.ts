// `mesh status`: the health of the mesh in one screen: the operator's leader, nodes, each Mesh
// with its Agents, open Proposals and held actions, and the problems worth a look.
import type { Command } from 'commander';
import type { Agent, Mesh, Proposal } from '../../crds/types.js';
import { ACTION_APPROVAL_LABEL } from '../../kernel/approvals.js';
import { isNotFound } from '../../operator/kube/errors.js';
import type { KubeObject } from '../../operator/kube/object.js';
import { CoreResources, MeshOsResources } from '../../operator/kube/resources.js';
import { SilentExit, type CliIo } from '../io.js';
import { ObjectError, addKubeOptions, objectRef, withKube, type KubeFlags } from '../kube.js';
import { age, colorEnabled, paint, renderTable, serialize, toneOf, type Column } from '../output.js';

export interface NodeLike extends KubeObject {
  spec?: { unschedulable?: boolean; taints?: { key: string; effect: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

export interface LeaseLike extends KubeObject {
  spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
}

export interface MeshHealth {
  name: string;
  phase: string;
  agents: { total: number; ready: number; degraded: number };
  openProposals: number;
  scheduler: string;
  did: string;
}

export interface StatusSummary {
  server: string;
  healthy: boolean;
  operator: { leader: string | undefined; renewTime: string | undefined; current: boolean };
  nodes: { total: number; ready: number; cordoned: number };
  meshes: MeshHealth[];
  agents: { total: number; byPhase: Record<string, number> };
  proposals: { open: number; heldActions: number };
  incidents: { open: number };
  problems: string[];
}

const OPEN_PHASES = new Set(['Analyzing', 'Voting', 'Approved']);

/** The mesh health summary, from the objects as they are. Pure, so it is unit-tested. */
export function summarize(input: {
  server: string;
  meshes: readonly Mesh[];
  agents: readonly Agent[];
  proposals: readonly Proposal[];
  nodes: readonly NodeLike[];
  lease: LeaseLike | undefined;
  /** Open incidents of the healing module (its records not Resolved). */
  openIncidents?: number;
  now: number;
}): StatusSummary {
  const problems: string[] = [];
  const lease = input.lease?.spec;
  const renewed = lease?.renewTime ? Date.parse(lease.renewTime) : Number.NaN;
  const current = lease?.holderIdentity !== undefined && lease.holderIdentity !== '' && input.now - renewed < (lease.leaseDurationSeconds ?? 15) * 1000 * 2;
  if (!current) problems.push(lease?.holderIdentity ? `operator: leader ${lease.holderIdentity} stopped renewing its lease ${age(lease.renewTime, input.now)} ago` : 'operator: no leader (is the operator running? helm install meshos charts/meshos, or mesh dev start)');

  const nodeReady = (n: NodeLike): boolean => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  const readyNodes = input.nodes.filter(nodeReady).length;
  for (const n of input.nodes) if (!nodeReady(n)) problems.push(`Node ${n.metadata.name ?? ''}: not Ready`);

  const byPhase: Record<string, number> = {};
  for (const a of input.agents) {
    const phase = a.status?.phase ?? 'Pending';
    byPhase[phase] = (byPhase[phase] ?? 0) + 1;
    if (phase === 'Degraded' || phase === 'Failed' || phase === 'Quarantined') {
      const condition = a.status?.conditions?.find((c) => c.type === 'Ready' && c.status !== 'True') ?? a.status?.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True');
      problems.push(`${objectRef('Agent', a.metadata.namespace, a.metadata.name)}: ${phase}${condition ? ` (${condition.reason}: ${condition.message})` : ''}`);
    }
  }
  const meshes = input.meshes.map((m): MeshHealth => {
    const name = m.metadata.name ?? '';
    const members = input.agents.filter((a) => a.spec.meshRef === name);
    const ready = members.filter((a) => a.status?.phase === 'Ready').length;
    const degraded = members.filter((a) => ['Degraded', 'Failed', 'Quarantined'].includes(a.status?.phase ?? '')).length;
    const phase = m.status?.phase ?? 'Pending';
    if (phase !== 'Ready') {
      const condition = m.status?.conditions?.find((c) => c.type === 'Ready' && c.status !== 'True');
      problems.push(`Mesh ${name}: ${phase}${condition ? ` (${condition.reason}: ${condition.message})` : ''}`);
    }
    return {
      name,
      phase,
      agents: { total: members.length, ready, degraded },
      openProposals: input.proposals.filter((p) => p.spec.meshRef === name && OPEN_PHASES.has(p.status?.phase ?? 'Analyzing') && p.metadata.labels?.[ACTION_APPROVAL_LABEL] !== 'true').length,
      scheduler: m.spec.scheduling?.schedulerName ?? 'meshos-scheduler',
      did: m.spec.did ?? '',
    };
  });
  const heldActions = input.proposals.filter((p) => p.metadata.labels?.[ACTION_APPROVAL_LABEL] === 'true' && OPEN_PHASES.has(p.status?.phase ?? 'Analyzing')).length;
  if (heldActions > 0) problems.push(`${heldActions} action(s) held for approval (mesh log --outcome held; mesh approve <id>)`);
  if ((input.openIncidents ?? 0) > 0) problems.push(`${input.openIncidents ?? 0} open incident(s) (mesh incidents)`);
  return {
    server: input.server,
    healthy: problems.length === 0,
    operator: { leader: lease?.holderIdentity, renewTime: lease?.renewTime, current },
    nodes: { total: input.nodes.length, ready: readyNodes, cordoned: input.nodes.filter((n) => n.spec?.unschedulable === true).length },
    meshes,
    agents: { total: input.agents.length, byPhase },
    proposals: { open: meshes.reduce((sum, m) => sum + m.openProposals, 0), heldActions },
    incidents: { open: input.openIncidents ?? 0 },
    problems,
  };
}

const MESH_COLUMNS: Column<MeshHealth>[] = [
  { header: 'MESH', value: (m) => m.name },
  { header: 'PHASE', value: (m) => m.phase, colored: true },
  { header: 'AGENTS', value: (m) => String(m.agents.total) },
  { header: 'READY', value: (m) => String(m.agents.ready) },
  { header: 'DEGRADED', value: (m) => String(m.agents.degraded), tone: (m) => (m.agents.degraded > 0 ? 'bad' : 'plain') },
  { header: 'PROPOSALS', value: (m) => String(m.openProposals) },
  { header: 'SCHEDULER', value: (m) => m.scheduler, wide: true },
  { header: 'DID', value: (m) => m.did, wide: true },
];

/** The human summary of `mesh status`. */
export function renderStatus(summary: StatusSummary, options: { wide: boolean; color: boolean; now: number }): string {
  const { color } = options;
  const leader = summary.operator.leader
    ? `${summary.operator.leader} (renewed ${age(summary.operator.renewTime, options.now)} ago)${summary.operator.current ? '' : ` ${paint('stale', 'bad', color)}`}`
    : paint('no leader', 'bad', color);
  const phases = Object.entries(summary.agents.byPhase)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([phase, count]) => `${count} ${paint(phase, toneOf(phase), color)}`)
    .join(', ');
  const lines = [
    `Mesh OS:   ${paint(summary.healthy ? 'healthy' : 'needs attention', summary.healthy ? 'good' : 'bad', color)}`,
    `Cluster:   ${summary.server}`,
    `Operator:  ${leader}`,
    `Nodes:     ${summary.nodes.ready}/${summary.nodes.total} Ready${summary.nodes.cordoned ? `, ${summary.nodes.cordoned} cordoned` : ''}`,
    `Agents:    ${summary.agents.total}${phases ? ` (${phases})` : ''}`,
    `Proposals: ${summary.proposals.open} open, ${summary.proposals.heldActions} held action(s)`,
    `Incidents: ${summary.incidents.open} open`,
    '',
  ];
  const meshes = summary.meshes.length ? renderTable(summary.meshes, MESH_COLUMNS, { wide: options.wide, color }) : 'No meshes (apply one: kubectl apply -f samples/mesh.yaml)\n';
  const problems = summary.problems.length ? `\nProblems:\n${summary.problems.map((p) => `  - ${p}`).join('\n')}\n` : '';
  return `${lines.join('\n')}\n${meshes}${problems}`;
}

/** An incident record (healing's ConfigMap) whose JSON document is not Resolved (and, with `mesh`, affects that mesh). */
export function isOpenIncident(record: { data?: Record<string, string> }, mesh?: string): boolean {
  return Object.values(record.data ?? {}).some((value) => {
    try {
      const incident = JSON.parse(value) as { status?: unknown; meshes?: unknown };
      if (mesh !== undefined && Array.isArray(incident.meshes) && !incident.meshes.includes(mesh)) return false;
      return typeof incident.status === 'string' && incident.status !== 'Resolved';
    } catch {
      return false;
    }
  });
}

interface StatusFlags extends KubeFlags {
  mesh?: string;
  operatorNamespace: string;
}

/** Prints the summary; returns whether everything is healthy. */
export async function showStatus(flags: StatusFlags, io: CliIo): Promise<boolean> {
  return withKube(
    flags,
    async ({ client, server, scope }) => {
      const [meshes, agents, proposals, nodes, lease, incidentRecords] = await Promise.all([
        client.list<Mesh>(MeshOsResources.mesh),
        client.list<Agent>(MeshOsResources.agent, scope),
        client.list<Proposal>(MeshOsResources.proposal, scope),
        client.list<NodeLike>(CoreResources.node),
        client.get<LeaseLike>(CoreResources.lease, flags.operatorNamespace, 'meshos-operator').catch((error: unknown) => {
          if (isNotFound(error)) return undefined;
          throw new ObjectError(objectRef('Lease', flags.operatorNamespace, 'meshos-operator'), error);
        }),
        // The healing module's incident records; a user who may not list ConfigMaps just sees none.
        client.list<KubeObject & { data?: Record<string, string> }>(CoreResources.configMap, undefined, { labelSelector: 'meshos.dev/incident=true' }).then(
          (list) => list.items,
          () => [],
        ),
      ]);
      if (flags.mesh !== undefined && !meshes.items.some((m) => m.metadata.name === flags.mesh)) throw new Error(`Mesh ${flags.mesh}: not found (kubectl get meshes lists them)`);
      const inMesh = <T extends { spec: { meshRef: string } }>(items: T[]): T[] => (flags.mesh === undefined ? items : items.filter((i) => i.spec.meshRef === flags.mesh));
      const now = Date.now();
      const summary = summarize({
        server,
        meshes: flags.mesh === undefined ? meshes.items : meshes.items.filter((m) => m.metadata.name === flags.mesh),
        agents: inMesh(agents.items),
        proposals: inMesh(proposals.items),
        nodes: nodes.items,
        lease,
        openIncidents: incidentRecords.filter((r) => isOpenIncident(r, flags.mesh)).length,
        now,
      });
      if (flags.output === 'json' || flags.output === 'yaml') io.stdout.write(serialize(summary, flags.output));
      else io.stdout.write(renderStatus(summary, { wide: flags.output === 'wide', color: colorEnabled(io.stdout), now }));
      return summary.healthy;
    },
    { allByDefault: true },
  );
}

export function registerStatusCommand(program: Command, io: CliIo): void {
  addKubeOptions(
    program
      .command('status')
      .description('Mesh health summary: operator leader, nodes, meshes and their agents, open proposals, held actions, problems (every namespace unless -n)')
      .option('--mesh <name>', 'only this mesh')
      .option('--operator-namespace <ns>', "namespace of the operator's leader Lease", 'meshos-system'),
  )
    .addHelpText('after', '\nExit code 0 when healthy (a current leader, every node and mesh Ready, nothing degraded or held), 1 otherwise.\n\nExamples:\n  mesh status\n  mesh status --mesh demo -o yaml')
    .action(async (flags: StatusFlags) => {
      if (!(await showStatus(flags, io))) throw new SilentExit(1);
    });
}
