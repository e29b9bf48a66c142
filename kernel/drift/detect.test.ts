import { describe, expect, it } from 'vitest';
import type { Agent, Mesh, Proposal } from '../../crds/types.js';
import { SCHEDULED_NODE_ANNOTATION, agentReplicaDrift, agentSlaDrift, detectDrift, meshSettingsDrift, patchLeaves, placementDrift } from './detect.js';

const mesh = (weights: Record<string, number>, applied = true): Mesh =>
  ({
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Mesh',
    metadata: { name: 'm' },
    spec: { trust: { weights } },
    status: applied ? { appliedProposals: [{ name: 'p1', namespace: 'gov', appliedAt: '2026-11-01T00:00:00Z' }] } : {},
  }) as unknown as Mesh;

const proposal = {
  metadata: { name: 'p1', namespace: 'gov' },
  spec: { change: { patch: { spec: { trust: { weights: { credentials: 25, history: 30 } } } } } },
} as unknown as Proposal;

const agent = (status: Record<string, unknown>, sla = { maxLatencyMs: 500, uptimeTarget: 99.9 }): Agent =>
  ({ metadata: { name: 'a', namespace: 'ns' }, spec: { meshRef: 'm', description: 'd', sla, runtime: { image: 'x' } }, status }) as unknown as Agent;

describe('drift detectors', () => {
  it('flattens merge patches into leaves', () => {
    expect(patchLeaves({ spec: { a: 1, b: { c: null }, d: [1] } })).toEqual([
      { path: 'spec.a', value: 1 },
      { path: 'spec.b.c', value: null },
      { path: 'spec.d', value: [1] },
    ]);
  });

  it('finds a Mesh setting that no longer holds what an executed proposal set', () => {
    expect(meshSettingsDrift(mesh({ credentials: 25, history: 30 }), [proposal])).toEqual([]);
    const [drift] = meshSettingsDrift(mesh({ credentials: 25, history: 20 }), [proposal]);
    expect(drift).toMatchObject({ kind: 'mesh-settings', score: 0.5, target: { kind: 'Mesh', name: 'm' } });
    expect(drift?.evidence).toEqual(['spec.trust.weights.history is 20, Proposal gov/p1 set 30']);
    expect(drift?.corrections[0]).toMatchObject({ kind: 'reapply-proposal', params: { proposal: 'gov/p1' } });
    expect(meshSettingsDrift(mesh({ history: 20 }, false), [proposal])).toEqual([]);
  });

  it('scores SLA drift by how far latency and uptime miss the declaration', () => {
    expect(agentSlaDrift(agent({ availability: { latencyP95Ms: 400, uptimePercent: 99.95 } }))).toEqual([]);
    const [latency] = agentSlaDrift(agent({ availability: { latencyP95Ms: 750 } }));
    expect(latency?.score).toBe(0.5);
    const [both] = agentSlaDrift(agent({ availability: { latencyP95Ms: 550, uptimePercent: 99.8 } }));
    expect(both?.evidence).toHaveLength(2);
    expect(both?.score).toBeCloseTo(0.5, 5);
    // Worse never scores lower.
    const worse = agentSlaDrift(agent({ availability: { latencyP95Ms: 2000 } }))[0]?.score ?? 0;
    expect(worse).toBe(1);
  });

  it('reports missing replicas only once the rollout is not progressing', () => {
    expect(agentReplicaDrift(agent({ replicas: 3, readyReplicas: 1, conditions: [{ type: 'Progressing', status: 'True' }] }))).toEqual([]);
    expect(agentReplicaDrift(agent({ replicas: 3, readyReplicas: 1, conditions: [{ type: 'Progressing', status: 'False' }] }))[0]?.score).toBe(0.67);
    expect(agentReplicaDrift(agent({ replicas: 0, readyReplicas: 0 }))).toEqual([]);
  });

  it('finds pods running away from the scheduler decision', () => {
    const pods = [
      { metadata: { name: 'p', namespace: 'ns', annotations: { [SCHEDULED_NODE_ANNOTATION]: 'n1' }, labels: { 'meshos.dev/mesh': 'm' } }, spec: { nodeName: 'n2' } },
      { metadata: { name: 'q', namespace: 'ns', annotations: { [SCHEDULED_NODE_ANNOTATION]: 'n1' } }, spec: { nodeName: 'n1' } },
    ];
    const drifts = placementDrift(pods, (p) => p.metadata.labels?.['meshos.dev/mesh']);
    expect(drifts.map((d) => d.target.name)).toEqual(['p']);
    expect(drifts[0]?.corrections[0]?.kind).toBe('reschedule-pod');
  });

  it('orders all findings by score', () => {
    const drifts = detectDrift({
      meshes: [mesh({ credentials: 0, history: 0 })],
      agents: [agent({ availability: { latencyP95Ms: 600 } })],
      proposals: [proposal],
    });
    expect(drifts.map((d) => [d.kind, d.score])).toEqual([
      ['mesh-settings', 1],
      ['agent-sla', 0.2],
    ]);
  });
});
