import { describe, expect, it } from 'vitest';
import { addEvent, markMitigated, openIncident } from '../../healing/incident.js';
import { formatIncidents, selectIncidents } from './incidents.js';

const incident = (node: string, detected: number, mesh: string) => {
  const i = openIncident(node, `node ${node} stopped heartbeating`, detected - 5000, detected);
  i.meshes = [mesh];
  i.affectedAgents = ['ns/a'];
  return i;
};

describe('mesh incidents', () => {
  it('filters by mesh and status, newest first', () => {
    const a = incident('n1', 1_000_000, 'm1');
    const b = incident('n2', 2_000_000, 'm2');
    const c = incident('n3', 3_000_000, 'm1');
    markMitigated(c, 3_004_000);
    expect(selectIncidents([a, b, c], { mesh: 'm1' }).map((i) => i.node)).toEqual(['n3', 'n1']);
    expect(selectIncidents([a, b, c], { status: 'Mitigated' }).map((i) => i.node)).toEqual(['n3']);
  });

  it('prints a table with time to recover, and the timeline on request', () => {
    const i = incident('n1', 1_000_000, 'm1');
    addEvent(i, 1_000_500, 'tainted', 'tainted n1');
    markMitigated(i, 1_006_000);
    const table = formatIncidents([i], false);
    expect(table.split('\n')[0]).toMatch(/^INCIDENT\s+STATUS\s+NODE\s+DETECTED\s+RECOVERED IN\s+AGENTS\s+PROBABLE CAUSE$/);
    expect(table).toContain('11s');
    expect(table).toContain('Mitigated');
    const withTimeline = formatIncidents([i], true);
    expect(withTimeline).toContain('tainted n1');
    expect(withTimeline).toContain('agents: ns/a');
    expect(formatIncidents([], false)).toBe('No incidents.\n');
  });
});
