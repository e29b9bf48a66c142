import { describe, expect, it } from 'vitest';
import { addEvent, incidentConfigMap, incidentFromConfigMap, incidentId, markMitigated, markResolved, openIncident } from './incident.js';

describe('incidents', () => {
  it('derives the same id from the same node and last heartbeat (a new leader continues the record)', () => {
    expect(incidentId('kwok-node-1', 1_700_000_000_500, 1_700_000_006_000)).toBe('incident-kwok-node-1-1700000000');
    expect(incidentId('Node_X', undefined, 2000)).toBe('incident-node-x-2');
  });

  it('keeps a timeline from the last heartbeat to recovery, with the time to recover', () => {
    const incident = openIncident('n1', 'node n1 stopped heartbeating', 10_000, 15_200);
    incident.affectedAgents = ['ns/a'];
    addEvent(incident, 15_300, 'tainted', 'tainted n1');
    markMitigated(incident, 21_000);
    expect(incident.status).toBe('Mitigated');
    expect(incident.timeToRecoverSeconds).toBe(11);
    markResolved(incident, 40_000, 'node back');
    expect(incident.status).toBe('Resolved');
    expect(incident.timeline.map((e) => e.event)).toEqual(['last-heartbeat', 'detected', 'tainted', 'agents-ready']);
  });

  it('round-trips through a ConfigMap owned by the Mesh, and rejects what is not an incident', () => {
    const incident = openIncident('n1', 'cause', 1000, 7000);
    const configMap = incidentConfigMap(incident, 'meshos-system', [{ apiVersion: 'meshos.dev/v1alpha1', kind: 'Mesh', name: 'm', uid: 'u' }]);
    expect(configMap.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Mesh', name: 'm', controller: false });
    expect(incidentFromConfigMap(configMap)).toEqual(incident);
    expect(incidentFromConfigMap({ data: { 'incident.json': '{"id":1}' } })).toBeUndefined();
    expect(incidentFromConfigMap({ data: { 'incident.json': 'not json' } })).toBeUndefined();
  });

  it('bounds the timeline of a flapping node', () => {
    const incident = openIncident('n1', 'cause', 0, 1);
    for (let i = 0; i < 500; i++) addEvent(incident, i, 'failed-again', `flap ${i}`);
    expect(incident.timeline.length).toBeLessThanOrEqual(200);
    expect(incident.timeline[0]?.event).toBe('last-heartbeat');
    expect(incident.timeline.at(-1)?.detail).toBe('flap 499');
  });
});
