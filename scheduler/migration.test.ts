import { describe, expect, it } from 'vitest';
import { node, pod } from './fixtures.js';
import { DEFAULT_WEIGHTS, normaliserFor } from './model.js';
import { proposeMoves, type PlacedDemand } from './migration.js';

describe('proposeMoves', () => {
  const dear = node('dear', { costPerHour: 1.6, carbonIntensity: 600, trustLevel: 50 });
  const cheap = node('cheap', { costPerHour: 0.2, carbonIntensity: 50, trustLevel: 99, free: { cpu: 1500, memory: 8 * 2 ** 30, pods: 110 } });
  const nodes = [dear, cheap];
  const norm = normaliserFor(nodes, {});
  const placed = (key: string, over: Partial<PlacedDemand> = {}): PlacedDemand => ({ pod: pod(key), node: 'dear', weights: DEFAULT_WEIGHTS, disruptable: true, ...over });

  it('proposes moves whose gain exceeds the threshold, best first, without double-booking the target', () => {
    const moves = proposeMoves([placed('ns/a'), placed('ns/b')], nodes, {}, norm, 0.05, 10);
    // cheap has room for one 1-CPU pod only.
    expect(moves).toHaveLength(1);
    expect(moves[0]).toMatchObject({ from: 'dear', to: 'cheap' });
    expect(moves[0]?.gain).toBeGreaterThan(0.05);
    expect(moves[0]?.after).toBeLessThan(moves[0]?.before ?? 0);
  });

  it('respects the threshold, the limit and PodDisruptionBudgets', () => {
    expect(proposeMoves([placed('ns/a')], nodes, {}, norm, 0.99, 10)).toEqual([]);
    expect(proposeMoves([placed('ns/a')], nodes, {}, norm, 0.05, 0)).toEqual([]);
    expect(proposeMoves([placed('ns/a', { disruptable: false })], nodes, {}, norm, 0.05, 10)).toEqual([]);
  });

  it('moves one replica of an Agent per round and never breaks a hard constraint', () => {
    const roomy = node('cheap', { costPerHour: 0.2, carbonIntensity: 50, trustLevel: 99 });
    const roomy2 = node('cheap2', { costPerHour: 0.2, carbonIntensity: 50, trustLevel: 99 });
    const group = { spreadGroup: 'ns/agent' };
    const moves = proposeMoves([placed('ns/a', { pod: pod('ns/a', group) }), placed('ns/b', { pod: pod('ns/b', group) })], [dear, roomy, roomy2], {}, norm, 0.05, 10);
    expect(moves).toHaveLength(1);
    expect(proposeMoves([placed('ns/a', { pod: pod('ns/a', { minTrust: 100 }) })], [dear, roomy], {}, norm, 0.05, 10)).toEqual([]);
  });

  it('never moves a replica into a zone at its cap, so an Agent is not collapsed into one zone', () => {
    const group = { spreadGroup: 'ns/agent' };
    const zoned = (name: string, zone: string, over: Parameters<typeof node>[1] = {}) => node(name, { zone, ...over });
    // Replicas on a1 (zone a) and b1 (zone b, dear); a2 in zone a is far better than b1.
    const a1 = zoned('a1', 'eu-west-a', { costPerHour: 0.2, groups: new Set(['ns/agent']) });
    const a2 = zoned('a2', 'eu-west-a', { costPerHour: 0.2 });
    const b1 = zoned('b1', 'eu-west-b', { costPerHour: 1.6, groups: new Set(['ns/agent']) });
    const zoneNorm = normaliserFor([a1, a2, b1], {});
    const replica = placed('ns/r2', { pod: pod('ns/r2', group), node: 'b1' });
    expect(proposeMoves([replica], [a1, a2, b1], {}, zoneNorm, 0.05, 10)).toEqual([]);
    // With a better node in another zone of the region, it moves there.
    const c1 = zoned('c1', 'eu-west-c', { costPerHour: 0.3 });
    const moves = proposeMoves([replica], [a1, a2, b1, c1], {}, normaliserFor([a1, a2, b1, c1], {}), 0.05, 10);
    expect(moves).toMatchObject([{ from: 'b1', to: 'c1' }]);
  });
});
