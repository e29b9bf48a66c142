import { describe, expect, it } from 'vitest';
import { ActionFileError, parseActionFile, simulatePolicy } from './simulate.js';

const file = `
actions:
  - module: healing
    kind: migrate-pod
    target: { kind: Agent, name: a1, namespace: ns, mesh: prod }
    risk: 0.2
    replicasAdded: 1
  - module: autoscaling
    kind: scale
    target: { kind: Agent, name: a2, namespace: ns, mesh: prod }
    risk: 0.3
    replicasAdded: 2
  - module: scheduler
    kind: migrate-pod
    target: { kind: Agent, name: a3, namespace: ns, mesh: prod }
    risk: 0.9
  - module: healing
    kind: taint-node
    target: { kind: Node, name: n1, mesh: elsewhere }
    risk: 0.1
`;

describe('policy simulation', () => {
  it('reports allowed, blocked and held actions in order, with caps counting earlier ones', () => {
    const actions = parseActionFile(file);
    const results = simulatePolicy(actions, new Map([['prod', { policy: { maxReplicasAddedPerHour: 2, riskCeiling: 0.5 }, agentCount: 10 }]]), new Date());
    expect(results.map((r) => r.decision.outcome)).toEqual(['allowed', 'blocked', 'held', 'blocked']);
    expect(results[1]?.decision).toMatchObject({ rule: 'maxReplicasAddedPerHour' });
    expect(results[3]?.decision.reason).toBe('mesh elsewhere not found');
  });

  it.each([
    ['- module: m\n  kind: k\n  risk: 0.1\n', 'actions[0].target: required'],
    ['- module: m\n  kind: k\n  target: {kind: Agent, name: a, mesh: x}\n  risk: 2\n', 'actions[0].risk: must be a number within 0..1, got 2'],
    ['- module: m\n  kind: k\n  target: {kind: Agent, name: a, mesh: x}\n', 'actions[0].risk: required'],
    ['- module: m\n  kind: k\n  target: {kind: Cluster, name: a, mesh: x}\n  risk: 0\n', 'actions[0].target.kind: must be one of'],
    ['- kind: k\n  target: {kind: Agent, name: a, mesh: x}\n  risk: 0\n', 'actions[0].module: required'],
    ['- module: m\n  kind: k\n  target: {kind: Agent, name: a}\n  risk: 0\n', 'actions[0].target.mesh: required'],
    ['- module: m\n  kind: k\n  target: {kind: Agent, name: a, mesh: x}\n  risk: 0\n  remediation: yes-please\n', 'actions[0].remediation: must be true or false'],
    ['', 'the file holds no actions'],
    ['actions: [1, 2', 'YAML'],
  ])('rejects a bad file with an error naming the field (%#)', (text, message) => {
    expect(() => parseActionFile(text)).toThrow(ActionFileError);
    expect(() => parseActionFile(text)).toThrow(message);
  });
});
