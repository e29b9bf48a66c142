import { describe, expect, it } from 'vitest';
import { planFailover, rampBatch, type AgentPod } from './plan.js';

const pod = (name: string, agent: string, nodeName: string, ready = true): AgentPod => ({ namespace: 'ns', name, uid: `uid-${name}`, agent: `ns/${agent}`, mesh: 'm', nodeName, ready, terminating: false });

describe('planFailover', () => {
  const pods = [pod('a-1', 'a', 'dead'), pod('a-2', 'a', 'alive'), pod('b-1', 'b', 'dead'), pod('c-1', 'c', 'alive')];
  it('moves only pods on tainted failed nodes, grouped per Agent, counting replicas still serving', () => {
    const plans = planFailover({ pods, tainted: new Set(['dead']), failed: new Set(['dead']), moved: new Set(), partition: false });
    expect(plans).toEqual([
      { agent: 'ns/a', mesh: 'm', pods: [{ name: 'a-1', uid: 'uid-a-1', node: 'dead' }], servingElsewhere: 1 },
      { agent: 'ns/b', mesh: 'm', pods: [{ name: 'b-1', uid: 'uid-b-1', node: 'dead' }], servingElsewhere: 0 },
    ]);
  });
  it('never moves a pod twice and waits for the taint', () => {
    expect(planFailover({ pods, tainted: new Set(['dead']), failed: new Set(['dead']), moved: new Set(['uid-a-1', 'uid-b-1']), partition: false })).toEqual([]);
    expect(planFailover({ pods, tainted: new Set(), failed: new Set(['dead']), moved: new Set(), partition: false })).toEqual([]);
  });
  it('under a suspected partition moves only Agents with nothing serving', () => {
    const plans = planFailover({ pods, tainted: new Set(['dead']), failed: new Set(['dead']), moved: new Set(), partition: true });
    expect(plans.map((p) => p.agent)).toEqual(['ns/b']);
  });
});

describe('rampBatch', () => {
  it('untaints a tenth of the recovered nodes per step, at least one, spaced by the interval', () => {
    expect(rampBatch(0, undefined, 0, 2000)).toBe(0);
    expect(rampBatch(3, undefined, 0, 2000)).toBe(1);
    expect(rampBatch(25, undefined, 0, 2000)).toBe(3);
    expect(rampBatch(25, 1000, 2000, 2000)).toBe(0);
    expect(rampBatch(25, 1000, 3000, 2000)).toBe(3);
  });
});
