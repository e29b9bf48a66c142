import { describe, expect, it } from 'vitest';
import type { Agent, Mesh } from '../../crds/types.js';
import { testAgent, testMesh } from '../../test/support/fixtures.js';
import { isOpenIncident, renderStatus, summarize, type NodeLike } from './status.js';
import { agentProgress, parseManifests } from './deploy.js';

const now = Date.parse('2026-01-01T12:00:00Z');
const node = (name: string, ready: boolean): NodeLike => ({ metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
const withStatus = (agent: Agent, phase: string, message = ''): Agent => ({
  ...agent,
  metadata: { ...agent.metadata, generation: 1 },
  status: { observedGeneration: 1, phase: phase as never, conditions: phase === 'Ready' ? [] : [{ type: 'Ready', status: 'False', reason: 'ReplicasNotReady', message, lastTransitionTime: '2026-01-01T11:59:00Z' }] },
});

describe('mesh status', () => {
  const mesh: Mesh = { ...testMesh('demo'), status: { phase: 'Ready' } };
  const lease = { metadata: { name: 'meshos-operator' }, spec: { holderIdentity: 'op-1', renewTime: '2026-01-01T11:59:58Z', leaseDurationSeconds: 15 } };

  it('is healthy with a current leader, Ready nodes and Ready agents', () => {
    const summary = summarize({ server: 's', meshes: [mesh], agents: [withStatus(testAgent('ns', 'a', 'demo'), 'Ready')], proposals: [], nodes: [node('n1', true)], lease, now });
    expect(summary).toMatchObject({ healthy: true, operator: { leader: 'op-1', current: true }, nodes: { total: 1, ready: 1 }, agents: { total: 1, byPhase: { Ready: 1 } } });
    expect(renderStatus(summary, { wide: false, color: false, now })).toContain('Operator:  op-1 (renewed 2s ago)');
  });

  it('names each problem: stale leader, NotReady node, degraded agent with its reason', () => {
    const stale = { ...lease, spec: { ...lease.spec, renewTime: '2026-01-01T11:50:00Z' } };
    const summary = summarize({ server: 's', meshes: [{ ...mesh, status: { phase: 'Degraded' } }], agents: [withStatus(testAgent('ns', 'a', 'demo'), 'Degraded', '0/2 replicas ready')], proposals: [], nodes: [node('n1', false)], lease: stale, now });
    expect(summary.healthy).toBe(false);
    expect(summary.problems).toEqual([
      'operator: leader op-1 stopped renewing its lease 10m ago',
      'Node n1: not Ready',
      'Agent ns/a: Degraded (ReplicasNotReady: 0/2 replicas ready)',
      'Mesh demo: Degraded',
    ]);
  });

  it('counts open incidents of the healing module as a problem', () => {
    const records = [{ data: { 'incident.json': JSON.stringify({ id: 'a', status: 'Open' }) } }, { data: { 'incident.json': JSON.stringify({ id: 'b', status: 'Resolved' }) } }, { data: { x: 'not json' } }];
    const open = records.filter((r) => isOpenIncident(r)).length;
    expect(open).toBe(1);
    expect(isOpenIncident({ data: { i: JSON.stringify({ status: 'Open', meshes: ['other'] }) } }, 'demo')).toBe(false);
    expect(isOpenIncident({ data: { i: JSON.stringify({ status: 'Open', meshes: ['demo'] }) } }, 'demo')).toBe(true);
    const summary = summarize({ server: 's', meshes: [mesh], agents: [], proposals: [], nodes: [node('n1', true)], lease, openIncidents: open, now });
    expect(summary.problems).toEqual(['1 open incident(s) (mesh incidents)']);
    expect(renderStatus(summary, { wide: false, color: false, now })).toContain('Incidents: 1 open');
  });
});

describe('mesh deploy', () => {
  it('rejects documents without kind, name or a supported kind, naming the file and document', () => {
    expect(() => parseManifests('kind: Agent\n', 'a.yaml')).toThrow('a.yaml document 1: apiVersion and kind are required');
    expect(() => parseManifests('---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: x/v1\nkind: Y\nmetadata: {name: y}\n', 'b.yaml')).toThrow('b.yaml document 2: unsupported kind Y');
    expect(() => parseManifests('- 1\n', 'c.yaml')).toThrow('c.yaml document 1: expected a Kubernetes object');
    expect(parseManifests('---\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n', 'd.yaml')).toHaveLength(1);
  });

  it('explains where an Agent is stuck: operator, scheduler, image', () => {
    const agent = testAgent('ns', 'a', 'demo');
    agent.metadata.generation = 2;
    expect(agentProgress({ ...agent, status: { observedGeneration: 1 } }, []).reason).toContain('the operator has not reconciled this generation yet');
    const progressing = withStatus(testAgent('ns', 'a', 'demo'), 'Progressing', '0/1 replicas ready');
    const pending = { metadata: { name: 'a-1', creationTimestamp: '2026-01-01T11:58:00Z' }, spec: { schedulerName: 'meshos-scheduler' }, status: { phase: 'Pending' } };
    expect(agentProgress(progressing, [pending], now).reason).toBe('Progressing: ReplicasNotReady (0/1 replicas ready); pod a-1 not scheduled after 120s: no scheduler named "meshos-scheduler" has bound it (is it running?)');
    const unschedulable = { ...pending, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/4 nodes are available: 4 Insufficient cpu.' }] } };
    expect(agentProgress(progressing, [unschedulable], now).reason).toContain('pod a-1 unschedulable: 0/4 nodes are available: 4 Insufficient cpu.');
    const pulling = { metadata: { name: 'a-1' }, spec: { nodeName: 'n1' }, status: { phase: 'Pending', containerStatuses: [{ name: 'agent', state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } } }] } };
    expect(agentProgress(progressing, [pulling], now).reason).toContain('pod a-1 on n1: container agent ImagePullBackOff: not found');
    expect(agentProgress(withStatus(testAgent('ns', 'a', 'demo'), 'Ready'), [], now)).toMatchObject({ ready: true, reason: '' });
  });
});
