import { describe, expect, it } from 'vitest';
import { testAgent, testMesh } from '../../test/support/fixtures.js';
import { renderTopFrame, type TopState } from './top.js';

const now = Date.parse('2026-01-01T12:00:00Z');
const state = (agents: number): TopState => ({
  server: 'https://127.0.0.1:6443',
  meshes: [{ ...testMesh('demo'), status: { phase: 'Ready' } }],
  nodes: [{ metadata: { name: 'n1', labels: { 'topology.kubernetes.io/region': 'eu' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }, { metadata: { name: 'n2' }, status: { conditions: [{ type: 'Ready', status: 'False' }] } }],
  agents: Array.from({ length: agents }, (_, i) => ({ ...testAgent('ns', `agent-${i}`, 'demo'), status: { phase: 'Ready' as const, replicaSummary: '1/1' } })),
  pods: [{ metadata: { name: 'p', labels: { 'meshos.dev/agent': 'agent-0' } }, spec: { nodeName: 'n1' } }],
  proposals: [],
  events: [{ metadata: { name: 'e', creationTimestamp: '2026-01-01T11:59:00Z' }, eventTime: '2026-01-01T11:59:00Z', reportingController: 'meshos.dev/kernel', action: 'healing/taint', reason: 'ActionExecuted', note: 'tainted n2', type: 'Normal', regarding: { kind: 'Node', name: 'n2' } }],
  incidentRecords: [{ metadata: { name: 'inc-1' }, data: { 'incident.json': JSON.stringify({ id: 'inc-1', node: 'n2', status: 'Open', detectedAt: '2026-01-01T11:58:00Z' }) } }],
  synced: true,
});

describe('mesh top frame', () => {
  it('shows every panel and fits the screen exactly', () => {
    const lines = renderTopFrame(state(3), { width: 100, height: 40, color: false, now });
    expect(lines.length).toBeLessThanOrEqual(40);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    const text = lines.join('\n');
    for (const title of ['NODES (1/2 Ready)', 'AGENTS (3/3 Ready)', 'PLACEMENTS (1 pods bound)', 'INCIDENTS', 'PROPOSALS (0)', 'DECISION LOG (1)']) expect(text).toContain(title);
    expect(text).toContain('Incident/inc-1  Open on node n2  (2m ago)');
    expect(text).toContain('Node/n2  NotReady');
    expect(text).toMatch(/60s\s+healing\/taint\s+Node\/n2\s+Executed\s+tainted n2/);
  });

  it('cuts long panels with a count of what is hidden instead of overflowing', () => {
    const lines = renderTopFrame(state(200), { width: 80, height: 30, color: true, now });
    expect(lines.length).toBe(30);
    expect(lines.join('\n')).toMatch(/… \d+ more/);
  });
});
