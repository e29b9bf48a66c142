// `mesh incidents`: the healing module's postmortems (one ConfigMap per incident, owned by the
// affected Meshes): what failed, when it was detected, what was done, how long recovery took.
import type { Command } from 'commander';
import { INCIDENT_LABEL, incidentFromConfigMap, type Incident } from '../../healing/incident.js';
import { KubeClient } from '../../operator/kube/client.js';
import { loadClusterConnection } from '../../operator/kube/config.js';
import type { KubeObject } from '../../operator/kube/object.js';
import { CoreResources } from '../../operator/kube/resources.js';
import { UsageError, type CliIo } from '../io.js';

interface IncidentsFlags {
  kubeconfig?: string;
  namespace: string;
  mesh?: string;
  status?: string;
  output: string;
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

/** The table view; with `timeline`, each incident's steps under it. Pure. */
export function formatIncidents(incidents: readonly Incident[], timeline: boolean): string {
  if (incidents.length === 0) return 'No incidents.\n';
  const rows = incidents.map((i) => [
    i.id,
    i.status,
    i.node,
    i.detectedAt.replace(/\.\d{3}Z$/, 'Z'),
    i.timeToRecoverSeconds !== undefined ? `${i.timeToRecoverSeconds}s` : '-',
    String(i.affectedAgents.length),
    i.cause,
  ]);
  const header = ['INCIDENT', 'STATUS', 'NODE', 'DETECTED', 'RECOVERED IN', 'AGENTS', 'PROBABLE CAUSE'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (c === header.length - 1 ? 0 : (r[c] ?? '').length))));
  const line = (cells: string[]): string => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  ');
  const out = [line(header)];
  incidents.forEach((incident, index) => {
    out.push(line(rows[index] ?? []));
    if (!timeline) return;
    if (incident.affectedAgents.length) out.push(`    agents: ${incident.affectedAgents.join(', ')}`);
    for (const step of incident.timeline) out.push(`    ${step.at}  ${step.event.padEnd(18)}  ${step.detail}`);
  });
  return `${out.join('\n')}\n`;
}

export async function showIncidents(flags: IncidentsFlags, io: CliIo): Promise<void> {
  if (!['table', 'json'].includes(flags.output)) throw new UsageError(`-o/--output must be table or json, got "${flags.output}"`);
  if (flags.status !== undefined && !STATUSES.includes(flags.status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}, got "${flags.status}"`);
  const client = new KubeClient(await loadClusterConnection(flags.kubeconfig));
  try {
    const list = await client.list<KubeObject & { data?: Record<string, string> }>(CoreResources.configMap, flags.namespace, { labelSelector: `${INCIDENT_LABEL}=true` });
    const incidents = selectIncidents(
      list.items.map((cm) => incidentFromConfigMap(cm)).filter((i): i is Incident => i !== undefined),
      { ...(flags.mesh !== undefined ? { mesh: flags.mesh } : {}), ...(flags.status !== undefined ? { status: flags.status } : {}) },
    );
    io.stdout.write(flags.output === 'json' ? `${JSON.stringify(incidents, null, 2)}\n` : formatIncidents(incidents, flags.timeline === true));
  } finally {
    await client.destroy();
  }
}

export function registerIncidentsCommand(program: Command, io: CliIo): void {
  program
    .command('incidents')
    .description('Show postmortems of node failures: timeline, time to recover, affected agents, probable cause')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('-n, --namespace <ns>', 'namespace of the operator (where incidents are kept)', 'meshos-system')
    .option('--mesh <name>', 'only incidents affecting this mesh')
    .option('--status <status>', 'only Open, Mitigated or Resolved incidents')
    .option('--timeline', 'print each incident\'s timeline')
    .option('-o, --output <format>', 'table or json', 'table')
    .addHelpText('after', '\nExample:\n  mesh incidents --mesh demo --timeline')
    .action(async (flags: IncidentsFlags) => showIncidents(flags, io));
}
