// `mesh top`: a live full-screen view of the mesh (nodes, agents, placements, incidents, proposals,
// the kernel's decision log), kept current by the operator's own informers (list + watch), so a
// frame costs no API calls. `q` or Ctrl-C quits and gives the terminal back as it was.
import type { Command } from 'commander';
import type { Agent, Mesh, Proposal } from '../../crds/types.js';
import { ACTION_APPROVAL_LABEL } from '../../kernel/approvals.js';
import { KERNEL_REPORTER } from '../../kernel/decision-events.js';
import { MANAGED_SELECTOR } from '../../operator/controllers/workload.js';
import { Informer } from '../../operator/informer/informer.js';
import type { KubeObject } from '../../operator/kube/object.js';
import { CoreResources, MeshOsResources } from '../../operator/kube/resources.js';
import { parseCount, type CliIo } from '../io.js';
import { addKubeOptions, withKube, type KubeFlags } from '../kube.js';
import { age, colorEnabled, paint, renderTable, toneOf, type Column } from '../output.js';
import { decisionRows, type DecisionRow } from './log.js';
import type { NodeLike } from './status.js';

type PodLike = KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string } };
type EventLike = KubeObject & {
  eventTime?: string;
  reportingController?: string;
  reason?: string;
  action?: string;
  note?: string;
  type?: string;
  regarding?: { kind?: string; name?: string; namespace?: string };
};

/** What one frame shows: plain objects, as the informers' caches hold them. */
export interface TopState {
  server: string;
  meshes: readonly Mesh[];
  nodes: readonly NodeLike[];
  agents: readonly Agent[];
  pods: readonly PodLike[];
  proposals: readonly Proposal[];
  events: readonly EventLike[];
  /** The healing module's incident records (ConfigMaps labelled meshos.dev/incident=true). */
  incidentRecords?: readonly IncidentRecord[];
  synced: boolean;
}

export type IncidentRecord = KubeObject & { data?: Record<string, string> };

/** Reads an incident record without depending on the healing module: its JSON document's id, node, status, time. */
function readIncidentRecord(record: IncidentRecord): Incident | undefined {
  for (const value of Object.values(record.data ?? {})) {
    try {
      const parsed = JSON.parse(value) as { id?: unknown; node?: unknown; status?: unknown; detectedAt?: unknown; openedAt?: unknown };
      if (typeof parsed.status !== 'string') continue;
      if (parsed.status === 'Resolved') return undefined;
      const time = typeof parsed.detectedAt === 'string' ? parsed.detectedAt : typeof parsed.openedAt === 'string' ? parsed.openedAt : (record.metadata.creationTimestamp ?? '');
      return { time, object: `Incident/${typeof parsed.id === 'string' ? parsed.id : (record.metadata.name ?? '')}`, what: `${parsed.status}${typeof parsed.node === 'string' ? ` on node ${parsed.node}` : ''}` };
    } catch {
      continue;
    }
  }
  return undefined;
}

interface Panel {
  title: string;
  lines: string[];
  /** Share of the free rows this panel may take. */
  weight: number;
}

const nodeReady = (n: NodeLike): boolean => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
const BAD_PHASES = new Set(['Degraded', 'Failed', 'Quarantined']);

function tableLines<T>(rows: readonly T[], columns: readonly Column<T>[], color: boolean, wide: boolean): string[] {
  return renderTable(rows, columns, { color, wide }).trimEnd().split('\n');
}

export interface Incident {
  time: string;
  object: string;
  what: string;
}

/** Incidents: Agents not healthy, Nodes not Ready, and recent Warning events about either. */
export function incidents(state: TopState): Incident[] {
  const list: Incident[] = (state.incidentRecords ?? []).map(readIncidentRecord).filter((i): i is Incident => i !== undefined);
  for (const n of state.nodes) if (!nodeReady(n)) list.push({ time: '', object: `Node/${n.metadata.name ?? ''}`, what: n.spec?.taints?.map((t) => t.key).join(',') || 'NotReady' });
  for (const a of state.agents) {
    const phase = a.status?.phase;
    if (phase !== undefined && BAD_PHASES.has(phase)) {
      const c = a.status?.conditions?.find((x) => x.type === 'Ready' && x.status !== 'True');
      list.push({ time: c?.lastTransitionTime ?? '', object: `Agent/${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`, what: `${phase}${c ? `: ${c.reason}` : ''}` });
    }
  }
  const warnings = state.events
    .filter((e) => e.type === 'Warning' && (e.regarding?.kind === 'Agent' || e.regarding?.kind === 'Node'))
    .map((e) => ({ time: e.eventTime ?? e.metadata.creationTimestamp ?? '', object: `${e.regarding?.kind ?? ''}/${e.regarding?.namespace ? `${e.regarding.namespace}/` : ''}${e.regarding?.name ?? ''}`, what: `${e.reason ?? ''}: ${e.note ?? ''}` }))
    .sort((a, b) => b.time.localeCompare(a.time))
    .slice(0, 20);
  return [...list, ...warnings];
}

/** Builds the panels of one frame. Pure: the same state gives the same frame. */
export function topPanels(state: TopState, options: { color: boolean; wide: boolean; now: number }): Panel[] {
  const { color, wide, now } = options;
  const podsPerNode = new Map<string, PodLike[]>();
  for (const pod of state.pods) {
    const node = pod.spec?.nodeName;
    if (node) podsPerNode.set(node, [...(podsPerNode.get(node) ?? []), pod]);
  }
  const nodes = [...state.nodes].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const nodeLines = tableLines(
    nodes,
    [
      { header: 'NODE', value: (n) => n.metadata.name ?? '' },
      { header: 'STATUS', value: (n) => (nodeReady(n) ? 'Ready' : 'NotReady') + (n.spec?.unschedulable ? ',Cordoned' : ''), colored: true, tone: (n) => (nodeReady(n) ? 'good' : 'bad') },
      { header: 'AGENT PODS', value: (n) => String(podsPerNode.get(n.metadata.name ?? '')?.length ?? 0) },
      { header: 'REGION', value: (n) => n.metadata.labels?.['topology.kubernetes.io/region'] ?? '-' },
      { header: 'TAINTS', value: (n) => n.spec?.taints?.map((t) => t.key).join(',') ?? '', wide: true },
    ],
    color,
    wide,
  );

  const agents = [...state.agents].sort((a, b) => {
    const bad = Number(BAD_PHASES.has(b.status?.phase ?? '')) - Number(BAD_PHASES.has(a.status?.phase ?? ''));
    return bad !== 0 ? bad : `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`);
  });
  const agentLines = tableLines(
    agents,
    [
      { header: 'NAMESPACE', value: (a) => a.metadata.namespace ?? '' },
      { header: 'AGENT', value: (a) => a.metadata.name ?? '' },
      { header: 'MESH', value: (a) => a.spec.meshRef },
      { header: 'PHASE', value: (a) => a.status?.phase ?? 'Pending', colored: true },
      { header: 'REPLICAS', value: (a) => a.status?.replicaSummary ?? '-' },
      { header: 'TRUST', value: (a) => (a.status?.trust?.score !== undefined ? a.status.trust.score.toFixed(1) : '-') },
      { header: 'NODES', value: (a) => a.status?.nodeSummary ?? '-' },
    ],
    color,
    wide,
  );

  const placementRows = [...podsPerNode.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([node, pods]) => {
      const counts = new Map<string, number>();
      for (const p of pods) {
        const agent = p.metadata.labels?.['meshos.dev/agent'] ?? p.metadata.name ?? '';
        counts.set(agent, (counts.get(agent) ?? 0) + 1);
      }
      return `${node.padEnd(16)} ${[...counts.entries()].map(([a, c]) => (c > 1 ? `${a}×${c}` : a)).join(' ')}`;
    });
  const pending = state.pods.filter((p) => !p.spec?.nodeName).length;
  if (pending > 0) placementRows.push(paint(`(unscheduled) ${pending} pod(s) waiting for a node`, 'warn', color));

  const incidentLines = incidents(state).map((i) => `${paint(i.object, 'bad', color)}  ${i.what}${i.time ? `  (${age(i.time, now)} ago)` : ''}`);

  const proposals = [...state.proposals].sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''));
  const proposalLines = proposals.length
    ? tableLines(
        proposals,
        [
          { header: 'NAMESPACE', value: (p) => p.metadata.namespace ?? '' },
          { header: 'PROPOSAL', value: (p) => p.metadata.name ?? '' },
          { header: 'KIND', value: (p) => (p.metadata.labels?.[ACTION_APPROVAL_LABEL] === 'true' ? 'held action' : 'governance') },
          { header: 'MESH', value: (p) => p.spec.meshRef },
          { header: 'PHASE', value: (p) => p.status?.phase ?? 'Analyzing', colored: true },
          { header: 'VOTING ENDS', value: (p) => (p.status?.votingEndsAt ? p.status.votingEndsAt.replace(/\.\d+Z$/, 'Z') : '-') },
        ],
        color,
        wide,
      )
    : [];

  const decisions: DecisionRow[] = decisionRows(state.events).reverse();
  const decisionLines = decisions.map(
    (d) => `${age(d.time, now).padStart(4)}  ${d.module}/${d.kind}  ${d.target}  ${paint(d.outcome, d.type === 'Warning' ? 'bad' : toneOf(d.outcome.toLowerCase()), color)}  ${d.reason}`,
  );

  return [
    { title: `NODES (${state.nodes.filter(nodeReady).length}/${state.nodes.length} Ready)`, lines: nodeLines, weight: 2 },
    { title: `AGENTS (${state.agents.filter((a) => a.status?.phase === 'Ready').length}/${state.agents.length} Ready)`, lines: agentLines, weight: 3 },
    { title: `PLACEMENTS (${state.pods.length - pending} pods bound)`, lines: placementRows, weight: 2 },
    { title: `INCIDENTS (${incidentLines.length})`, lines: incidentLines, weight: 2 },
    { title: `PROPOSALS (${state.proposals.length})`, lines: proposalLines, weight: 2 },
    { title: `DECISION LOG (${decisions.length})`, lines: decisionLines, weight: 3 },
  ];
}

// Cut to a visible width; ANSI escapes do not count, and a cut line closes its colour.
function fit(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i);
      if (end > 0) {
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible >= width) return out.includes('\x1b[') ? `${out}\x1b[0m` : out;
    out += line[i];
    visible++;
  }
  return out;
}

/** One screen: a header, then each panel given rows by its weight (at least its title and one line). */
export function renderTopFrame(state: TopState, options: { width: number; height: number; color: boolean; wide?: boolean; now: number }): string[] {
  const { width, height, color, now } = options;
  const meshes = state.meshes.map((m) => `${m.metadata.name ?? ''} ${paint(m.status?.phase ?? 'Pending', toneOf(m.status?.phase ?? 'Pending'), color)}`).join(', ') || 'none';
  const header = [
    `${paint('mesh top', 'bold', color)} — ${state.server} — meshes: ${meshes}${state.synced ? '' : paint('  (syncing…)', 'warn', color)}`,
    paint(`${new Date(now).toISOString().replace(/\.\d+Z$/, 'Z')}  q or Ctrl-C to quit`, 'dim', color),
  ];
  const panels = topPanels(state, { color, wide: options.wide ?? width >= 160, now });
  const free = Math.max(0, height - header.length - panels.length * 2);
  const totalWeight = panels.reduce((s, p) => s + p.weight, 0);
  // Rows each panel wants vs its share; what a short panel leaves goes to the others.
  const budget = panels.map((p) => Math.min(p.lines.length || 1, Math.floor((free * p.weight) / totalWeight)));
  let spare = free - budget.reduce((s, b) => s + b, 0);
  for (let i = 0; spare > 0 && i < panels.length * 4; i++) {
    const j = i % panels.length;
    const want = (panels[j]?.lines.length || 1) - (budget[j] ?? 0);
    if (want > 0) {
      const give = Math.min(want, spare);
      budget[j] = (budget[j] ?? 0) + give;
      spare -= give;
    }
  }
  const out = [...header];
  panels.forEach((panel, i) => {
    out.push('');
    out.push(paint(panel.title, 'bold', color));
    const rows = budget[i] ?? 0;
    const lines = panel.lines.length ? panel.lines : [paint('  none', 'dim', color)];
    if (lines.length <= rows) out.push(...lines);
    else if (rows > 0) out.push(...lines.slice(0, rows - 1), paint(`  … ${lines.length - rows + 1} more`, 'dim', color));
  });
  return out.slice(0, height).map((line) => fit(line, width));
}

interface TopFlags extends KubeFlags {
  once?: boolean;
  interval: number;
}

interface Terminal {
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

/** Runs the dashboard until q, Ctrl-C, SIGTERM or `signal`; with `once` (or stdout not a TTY) prints one frame. */
export async function runTop(flags: TopFlags, io: CliIo, terminal: Terminal = { stdout: process.stdout, stdin: process.stdin }, signal?: AbortSignal): Promise<void> {
  await withKube(
    flags,
    async ({ client, server, scope }) => {
      const stop = new AbortController();
      const options = { resyncPeriodMs: 0, ...(scope !== undefined ? { namespace: scope } : {}) };
      const informers = {
        meshes: new Informer<Mesh>(client, MeshOsResources.mesh, { resyncPeriodMs: 0 }),
        nodes: new Informer<NodeLike>(client, CoreResources.node, { resyncPeriodMs: 0 }),
        agents: new Informer<Agent>(client, MeshOsResources.agent, options),
        pods: new Informer<PodLike>(client, CoreResources.pod, { ...options, labelSelector: MANAGED_SELECTOR }),
        proposals: new Informer<Proposal>(client, MeshOsResources.proposal, options),
        events: new Informer<EventLike>(client, CoreResources.event, options),
        // Kept in the operator's namespace whatever -n says.
        incidents: new Informer<IncidentRecord>(client, CoreResources.configMap, { resyncPeriodMs: 0, labelSelector: 'meshos.dev/incident=true' }),
      };
      const all = Object.values(informers) as Informer<KubeObject>[];
      const runs = all.map((i) => i.run(stop.signal).catch(() => undefined));
      const state = (): TopState => ({
        server,
        meshes: informers.meshes.store.list(),
        nodes: informers.nodes.store.list(),
        agents: informers.agents.store.list(),
        pods: informers.pods.store.list(),
        proposals: informers.proposals.store.list(),
        // Only the kernel's decisions and warnings matter here; keep the newest 500.
        events: informers.events.store
          .list()
          .filter((e) => e.reportingController === KERNEL_REPORTER || e.type === 'Warning')
          .sort((a, b) => (a.eventTime ?? a.metadata.creationTimestamp ?? '').localeCompare(b.eventTime ?? b.metadata.creationTimestamp ?? ''))
          .slice(-500),
        incidentRecords: informers.incidents.store.list(),
        synced: all.every((i) => i.hasSynced()),
      });
      try {
        const interactive = flags.once !== true && terminal.stdout.isTTY;
        if (!interactive) {
          // One frame, as `top -b -n 1` does: for pipes, scripts and tests.
          // Bounded: a watch the user may not list (RBAC) should not hang the frame; unref so it never delays exit.
          await Promise.race([Promise.all(all.map((i) => i.waitForSync())), new Promise((r) => setTimeout(r, 30_000).unref())]);
          const lines = renderTopFrame(state(), { width: 10_000, height: 10_000, color: colorEnabled(io.stdout), wide: flags.output === 'wide', now: Date.now() });
          io.stdout.write(`${lines.join('\n')}\n`);
          return;
        }
        await interactiveLoop(terminal, state, all, flags, signal);
      } finally {
        stop.abort();
        await Promise.all(runs);
      }
    },
    { allByDefault: true },
  );
}

async function interactiveLoop(terminal: Terminal, state: () => TopState, informers: Informer<KubeObject>[], flags: TopFlags, signal?: AbortSignal): Promise<void> {
  const { stdout, stdin } = terminal;
  const color = colorEnabled(stdout);
  let dirty = true;
  let lastFrame = '';
  const draw = (): void => {
    const lines = renderTopFrame(state(), { width: stdout.columns || 80, height: stdout.rows || 24, color, wide: flags.output === 'wide', now: Date.now() });
    const frame = lines.map((l) => `${l}\x1b[K`).join('\r\n');
    if (frame === lastFrame) return;
    lastFrame = frame;
    // Home, frame, clear what is below: no flicker from a full clear.
    stdout.write(`\x1b[H${frame}\x1b[J`);
  };
  const markDirty = (): void => {
    dirty = true;
  };
  for (const informer of informers) informer.addHandlers({ onAdd: markDirty, onUpdate: markDirty, onDelete: markDirty });

  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  let quit!: () => void;
  const done = new Promise<void>((resolve) => (quit = resolve));
  const onKey = (data: Buffer): void => {
    const key = data.toString('utf8');
    if (key === 'q' || key === 'Q' || key === '\x03' || key === '\x04') quit();
  };
  const onResize = (): void => {
    lastFrame = '';
    dirty = true;
  };
  const onSignal = (): void => quit();
  // Alternate screen, hidden cursor; restored in finally whatever happens.
  stdout.write('\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J');
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.resume();
  stdin.on('data', onKey);
  stdout.on('resize', onResize);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  signal?.addEventListener('abort', onSignal, { once: true });
  let ticks = 0;
  const ticker = setInterval(() => {
    ticks++;
    // Redraw on changes (at most every interval) and once a second for the ages.
    if (dirty || ticks % Math.max(1, Math.round(1000 / flags.interval)) === 0) {
      dirty = false;
      draw();
    }
  }, flags.interval);
  try {
    draw();
    await done;
  } finally {
    clearInterval(ticker);
    stdin.off('data', onKey);
    stdout.off('resize', onResize);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
    stdin.pause();
    stdout.write('\x1b[?25h\x1b[?1049l');
  }
}

export function registerTopCommand(program: Command, io: CliIo): void {
  addKubeOptions(
    program
      .command('top')
      .description('Live full-screen dashboard: nodes, agents, placements, incidents, proposals and the decision log, kept current by watches (q or Ctrl-C quits)')
      .option('--once', 'print one frame and exit (the default when stdout is not a terminal)')
      .option('--interval <ms>', 'minimum time between redraws', parseCount, 250),
    { outputs: ['table', 'wide'] },
  )
    .addHelpText('after', '\nExamples:\n  mesh top\n  mesh top -n meshos-demo\n  mesh top --once | less -R')
    .action(async (flags: TopFlags) => runTop(flags, io));
}
