// Postmortem records: one per node failure, kept as a ConfigMap owned by the affected Meshes so
// it outlives the operator process (a new leader continues it) and goes when the Meshes go.
import type { KubeObject, OwnerReference } from '../operator/kube/object.js';

export const INCIDENT_LABEL = 'meshos.dev/incident';
export const INCIDENT_NODE_LABEL = 'meshos.dev/incident-node';
export const INCIDENT_DATA_KEY = 'incident.json';

export type IncidentStatus = 'Open' | 'Mitigated' | 'Resolved';

export interface TimelineEntry {
  at: string;
  event: 'last-heartbeat' | 'detected' | 'partition-suspected' | 'tainted' | 'failover' | 'agents-ready' | 'heartbeat-returned' | 'failed-again' | 'untainted' | 'node-deleted' | 'action-blocked';
  detail: string;
}

export interface Incident {
  id: string;
  node: string;
  status: IncidentStatus;
  /** Probable cause in one sentence. */
  cause: string;
  meshes: string[];
  affectedAgents: string[];
  /** Last heartbeat seen before the failure: the start of the outage. */
  lastHeartbeat?: string;
  detectedAt: string;
  /** Every affected Agent fully Ready elsewhere. */
  mitigatedAt?: string;
  /** The node is back (or gone) and untainted. */
  resolvedAt?: string;
  /** From the last heartbeat to every affected Agent Ready again. */
  timeToRecoverSeconds?: number;
  /** Pods moved, for "no pod moved twice" across leader changes. */
  movedPods: string[];
  timeline: TimelineEntry[];
}

/** Deterministic id, so a new leader finds the record the old one started: node + last heartbeat. */
export function incidentId(node: string, lastHeartbeatMs: number | undefined, detectedMs: number): string {
  const stamp = Math.floor((lastHeartbeatMs ?? detectedMs) / 1000);
  const base = `incident-${node.toLowerCase()}`.slice(0, 240).replace(/[^a-z0-9.-]/g, '-');
  return `${base}-${stamp}`;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function openIncident(node: string, cause: string, lastHeartbeatMs: number | undefined, detectedMs: number): Incident {
  const timeline: TimelineEntry[] = [];
  if (lastHeartbeatMs !== undefined) timeline.push({ at: iso(lastHeartbeatMs), event: 'last-heartbeat', detail: `last Lease renewal of node ${node}` });
  timeline.push({ at: iso(detectedMs), event: 'detected', detail: cause });
  return {
    id: incidentId(node, lastHeartbeatMs, detectedMs),
    node,
    status: 'Open',
    cause,
    meshes: [],
    affectedAgents: [],
    ...(lastHeartbeatMs !== undefined ? { lastHeartbeat: iso(lastHeartbeatMs) } : {}),
    detectedAt: iso(detectedMs),
    movedPods: [],
    timeline,
  };
}

export function addEvent(incident: Incident, at: number, event: TimelineEntry['event'], detail: string): void {
  incident.timeline.push({ at: iso(at), event, detail });
  // A flapping node could grow its record without bound; keep its first and latest entries.
  if (incident.timeline.length > 200) incident.timeline.splice(20, incident.timeline.length - 200);
}

export function markMitigated(incident: Incident, at: number): void {
  if (incident.mitigatedAt) return;
  incident.mitigatedAt = iso(at);
  incident.status = 'Mitigated';
  const start = incident.lastHeartbeat ? Date.parse(incident.lastHeartbeat) : Date.parse(incident.detectedAt);
  incident.timeToRecoverSeconds = Math.round((at - start) / 100) / 10;
  addEvent(incident, at, 'agents-ready', incident.affectedAgents.length ? `every affected Agent Ready again: ${incident.affectedAgents.join(', ')}` : 'no Agent was affected');
}

export function markResolved(incident: Incident, at: number, _why: string): void {
  if (!incident.mitigatedAt) markMitigated(incident, at);
  incident.resolvedAt = iso(at);
  incident.status = 'Resolved';
}

export function incidentConfigMap(incident: Incident, namespace: string, owners: readonly OwnerReference[]): KubeObject & { data: Record<string, string> } {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: incident.id,
      namespace,
      labels: { [INCIDENT_LABEL]: 'true', [INCIDENT_NODE_LABEL]: incident.node.slice(0, 63).replace(/[^A-Za-z0-9_.-]/g, '-'), 'app.kubernetes.io/managed-by': 'meshos' },
      ...(owners.length ? { ownerReferences: owners.map((o) => ({ ...o, controller: false, blockOwnerDeletion: false })) } : {}),
    },
    data: { [INCIDENT_DATA_KEY]: JSON.stringify(incident) },
  };
}

function isIncident(value: unknown): value is Incident {
  const v = value as Partial<Incident> | null;
  return !!v && typeof v.id === 'string' && typeof v.node === 'string' && Array.isArray(v.timeline) && typeof v.status === 'string';
}

/** Reads an incident back from its ConfigMap; undefined when it is not one. */
export function incidentFromConfigMap(configMap: { data?: Record<string, string> }): Incident | undefined {
  const raw = configMap.data?.[INCIDENT_DATA_KEY];
  if (!raw) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isIncident(parsed) ? { ...parsed, movedPods: parsed.movedPods ?? [], meshes: parsed.meshes ?? [], affectedAgents: parsed.affectedAgents ?? [] } : undefined;
  } catch {
    return undefined;
  }
}
