// `mesh incidents`: the healing module's postmortems (one ConfigMap per incident, owned by the
// affected Meshes): what failed, when it was detected, what was done, how long recovery took.
import type { Command } from 'commander';
import { INCIDENT_LABEL, incidentFromConfigMap, type Incident } from '../../healing/incident.js';
import type { KubeObject } from '../../operator/kube/object.js';
import { CoreResources } from '../../operator/kube/resources.js';
import { UsageError, type CliIo } from '../io.js';
import { addKubeOptions, withKube, type KubeFlags } from '../kube.js';
import { colorEnabled, printResult, renderTable, type Column, type Tone } from '../output.js';

/** Where the operator keeps its incident ConfigMaps unless -n says otherwise (the healing module's default). */
export const OPERATOR_NAMESPACE = 'meshos-system';

interface IncidentsFlags extends KubeFlags {
  mesh?: string;
  status?: string;
  timeline?: boolean;
}

const STATUSES = ['Open', 'Mitigated', 'Resolved'];

/** Newest first, filtered by mesh and status. Pure. */
export function selectIncidents(incidents: readonly Incident[], filter: { mesh?: string; status?: string }): Incident[] {
  return incidents
    .filter((i) => filter.mesh === undefined || i.meshes.includes(filter.mesh))
    .filter((i) => filter.status === undefined || i.status === filter.status)
    .sort((a, b) => b.detectedAt.localeCompare(a.detectedAt));
}

const STATUS_TONE: Record<string, Tone> = { Open: 'bad', Mitigated: 'warn', Resolved: 'good' };

export const INCIDENT_COLUMNS: Column<Incident>[] = [
  { header: 'INCIDENT', value: (i) => i.id },
  { header: 'STATUS', value: (i) => i.status, tone: (i) => STATUS_TONE[i.status] ?? 'plain' },
  { header: 'NODE', value: (i) => i.node },
  { header: 'DETECTED', value: (i) => i.detectedAt.replace(/\.\d{3}Z$/, 'Z') },
  { header: 'RECOVERED IN', value: (i) => (i.timeToRecoverSeconds !== undefined ? `${i.timeToRecoverSeconds}s` : '-') },
  { header: 'AGENTS', value: (i) => String(i.affectedAgents.length) },
  { header: 'MESHES', value: (i) => i.meshes.join(',') || '-', wide: true },
  { header: 'PROBABLE CAUSE', value: (i) => i.cause },
];

/** The table view (the shared table renderer); with `timeline`, each incident's steps under it. Pure. */
export function formatIncidents(incidents: readonly Incident[], timeline: boolean, options: { wide?: boolean; color?: boolean } = {}): string {
  if (incidents.length === 0) return 'No incidents.\n';
  const [header = '', ...lines] = renderTable(incidents, INCIDENT_COLUMNS, options).trimEnd().split('\n');
  const out = [header];
  incidents.forEach((incident, index) => {
    out.push(lines[index] ?? '');
    if (!timeline) return;
    if (incident.affectedAgents.length) out.push(`    agents: ${incident.affectedAgents.join(', ')}`);
    for (const step of incident.timeline) out.push(`    ${step.at}  ${step.event.padEnd(18)}  ${step.detail}`);
  });
  return `${out.join('\n')}\n`;
}

export async function showIncidents(flags: IncidentsFlags, io: CliIo): Promise<void> {
  if (flags.status !== undefined && !STATUSES.includes(flags.status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}, got "${flags.status}"`);
  // Incident records live in the operator's namespace, not the context's: -n names another
  // operator namespace, -A looks everywhere (as mesh status counts them).
  const where = flags.allNamespaces === true ? undefined : (flags.namespace ?? OPERATOR_NAMESPACE);
  await withKube(flags, async ({ client }) => {
    const records = (await client.list<KubeObject & { data?: Record<string, string> }>(CoreResources.configMap, where, { labelSelector: `${INCIDENT_LABEL}=true` })).items;
    const incidents = selectIncidents(
      records.map((cm) => incidentFromConfigMap(cm)).filter((i): i is Incident => i !== undefined),
      { ...(flags.mesh !== undefined ? { mesh: flags.mesh } : {}), ...(flags.status !== undefined ? { status: flags.status } : {}) },
    );
    if (flags.timeline === true && (flags.output === 'table' || flags.output === 'wide') && incidents.length > 0) {
      io.stdout.write(formatIncidents(incidents, true, { wide: flags.output === 'wide', color: colorEnabled(io.stdout) }));
      return;
    }
    printResult(io, { format: flags.output, rows: incidents, columns: INCIDENT_COLUMNS, data: incidents, empty: 'No incidents.' });
  });
}

export function registerIncidentsCommand(program: Command, io: CliIo): void {
  addKubeOptions(
    program
      .command('incidents')
      .description('Show postmortems of node failures: timeline, time to recover, affected agents, probable cause')
      .option('--mesh <name>', 'only incidents affecting this mesh')
      .option('--status <status>', 'only Open, Mitigated or Resolved incidents')
      .option('--timeline', "print each incident's timeline under it"),
    { namespaceHelp: `the operator's namespace, where incidents are kept (default: ${OPERATOR_NAMESPACE})` },
  )
    .addHelpText('after', '\nExamples:\n  mesh incidents --mesh demo --timeline\n  mesh incidents -A --status Open -o yaml')
    .action(async (flags: IncidentsFlags) => showIncidents(flags, io));
}
