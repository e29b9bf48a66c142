import { describe, expect, it } from 'vitest';
import { node, pod } from './fixtures.js';
import { zoneSpreadOf } from './model.js';
import { chooseVictims, type RunningPod } from './preempt.js';

const running = (key: string, priority: number, cpu: number, budgets: string[] = []): RunningPod => ({ key, priority, requests: { cpu, memory: 0, pods: 1 }, budgets });

describe('chooseVictims', () => {
  const full = (name: string) => node(name, { free: { cpu: 0, memory: 8 * 2 ** 30, pods: 100 } });

  it('picks the node needing the fewest victims, then the lowest priorities', () => {
    const incoming = pod('ns/vip', { priority: 1000, requests: { cpu: 2000, memory: 0, pods: 1 } });
    const pods = new Map([
      ['a', [running('ns/a1', 10, 1000), running('ns/a2', 10, 1000), running('ns/a3', 10, 2000)]],
      ['b', [running('ns/b1', 500, 2000), running('ns/b2', 1, 2000)]],
      ['c', [running('ns/c1', 5, 2000), running('ns/c2', 2000, 2000)]],
    ]);
    const choice = chooseVictims(incoming, [full('a'), full('b'), full('c')], pods, new Map(), {});
    // a needs one (a3, priority 10), b one (b2, priority 1), c one (c1, priority 5): b wins on priority.
    expect(choice).toEqual({ node: 'b', victims: ['ns/b2'] });
  });

  it('never evicts equal or higher priority and honours PodDisruptionBudgets', () => {
    const incoming = pod('ns/p', { priority: 100, requests: { cpu: 1000, memory: 0, pods: 1 } });
    const pods = new Map([
      ['a', [running('ns/a1', 100, 4000)]],
      ['b', [running('ns/b1', 1, 4000, ['ns/pdb'])]],
    ]);
    expect(chooseVictims(incoming, [full('a'), full('b')], pods, new Map([['ns/pdb', 0]]), {})).toBeUndefined();
    expect(chooseVictims(incoming, [full('a'), full('b')], pods, new Map([['ns/pdb', 1]]), {})).toEqual({ node: 'b', victims: ['ns/b1'] });
  });

  it('reprieves victims that are not needed', () => {
    const incoming = pod('ns/p', { priority: 100, requests: { cpu: 1000, memory: 0, pods: 1 } });
    const pods = new Map([['a', [running('ns/small', 1, 500), running('ns/big', 2, 1000)]]]);
    expect(chooseVictims(incoming, [full('a')], pods, new Map(), {})).toEqual({ node: 'a', victims: ['ns/big'] });
  });

  it("keeps the pod's Agent spread over zones: a node in a zone within its cap wins over fewer victims elsewhere", () => {
    const incoming = pod('ns/r2', { priority: 100, spreadGroup: 'ns/agent', requests: { cpu: 2000, memory: 0, pods: 1 } });
    const zoned = (name: string, zone: string, groups: string[] = []) => node(name, { zone, free: { cpu: 0, memory: 8 * 2 ** 30, pods: 100 }, groups: new Set(groups) });
    // The Agent already runs in zone a (on a1); a2 (zone a) needs one victim, b1 (zone b) two.
    const nodes = [zoned('a1', 'eu-west-a', ['ns/agent']), zoned('a2', 'eu-west-a'), zoned('b1', 'eu-west-b')];
    const pods = new Map([
      ['a1', [running('ns/agent-1', 100, 4000)]],
      ['a2', [running('ns/x', 1, 2000)]],
      ['b1', [running('ns/y1', 1, 1000), running('ns/y2', 1, 1000)]],
    ]);
    expect(chooseVictims(incoming, nodes, pods, new Map(), {})).toEqual({ node: 'a2', victims: ['ns/x'] });
    const spread = zoneSpreadOf(incoming, nodes, {});
    expect(chooseVictims(incoming, nodes, pods, new Map(), {}, spread)).toEqual({ node: 'b1', victims: ['ns/y1', 'ns/y2'] });
    // Nothing preemptible in zone b: zone a takes it after all (the rule's fallback).
    const locked = new Map([...pods, ['b1', [running('ns/y1', 500, 4000)]]]);
    expect(chooseVictims(incoming, nodes, locked, new Map(), {}, spread)).toEqual({ node: 'a2', victims: ['ns/x'] });
  });
});
