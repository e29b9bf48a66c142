import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WEIGHTS,
  LABELS,
  latencyMs,
  normaliserFor,
  objectiveTerms,
  parseLatencyMatrix,
  placementObjective,
  staticViolation,
  violation,
  weightedScore,
  ZoneSpread,
  zoneSpreadOf,
} from './model.js';
import { cpuMillis, parseQuantity } from './quantity.js';
import { node, pod } from './fixtures.js';

describe('quantities', () => {
  it('parses decimal and binary suffixes and names the field when malformed', () => {
    expect(cpuMillis('250m')).toBe(250);
    expect(cpuMillis('2')).toBe(2000);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('128M')).toBe(128e6);
    expect(() => parseQuantity('12 apples', 'requests.memory')).toThrow(/requests.memory: "12 apples" is not a Kubernetes quantity/);
  });
});

describe('latency matrix', () => {
  it('is symmetric, falls back by continent, and rejects bad entries by name', () => {
    expect(latencyMs({}, 'eu-west', 'us-east')).toBe(latencyMs({}, 'us-east', 'eu-west'));
    expect(latencyMs({}, 'eu-west', 'eu-west')).toBe(2);
    expect(latencyMs({}, 'eu-north', 'eu-south')).toBe(40);
    expect(latencyMs({ a: { b: 7 } }, 'b', 'a')).toBe(7);
    expect(() => parseLatencyMatrix({ 'eu-west': { 'us-east': -1 } })).toThrow(/latency matrix.eu-west.us-east: must be a non-negative number/);
    expect(() => parseLatencyMatrix([])).toThrow(/must be an object/);
  });
});

describe('objective', () => {
  it('normalises each term to [0, 1] over the cluster and weights them relatively', () => {
    const cheap = node('cheap', { costPerHour: 0.2, carbonIntensity: 100, trustLevel: 100 });
    const dear = node('dear', { costPerHour: 0.8, carbonIntensity: 400, trustLevel: 50, region: 'us-east', labels: {} });
    const norm = normaliserFor([cheap, dear], {});
    const terms = objectiveTerms({ usersRegion: 'eu-west' }, dear, {}, norm);
    expect(terms.cost).toBe(1);
    expect(terms.carbon).toBe(1);
    expect(terms.trust).toBe(0.5);
    expect(terms.latency).toBeGreaterThan(0);
    expect(objectiveTerms({ usersRegion: 'eu-west' }, cheap, {}, norm)).toMatchObject({ cost: 0.25, carbon: 0.25, trust: 0 });
    expect(weightedScore({ cost: 1, latency: 0, trust: 0, carbon: 0 }, { cost: 3, latency: 1, trust: 0, carbon: 0 })).toBe(0.75);
  });

  it('summarises a placement with cost, carbon, latency and trust computed one way', () => {
    const a = node('a', { costPerHour: 0.4, carbonIntensity: 100, trustLevel: 80 });
    const summary = placementObjective([{ pod: pod('p', { usersRegion: 'eu-west' }), node: a }], DEFAULT_WEIGHTS, {}, normaliserFor([a], {}));
    expect(summary.cost).toBeCloseTo(0.1); // 0.4 $/h over 4 cores, 1 core
    expect(summary.carbon).toBeCloseTo(1); // 100 g/kWh x 10 W
    expect(summary.meanLatencyMs).toBe(2);
    expect(summary.meanTrust).toBe(80);
  });
});

describe('hard constraints', () => {
  it('checks taints, selectors, affinity, trust, latency, capacity and spread', () => {
    const tainted = node('t', { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] });
    expect(staticViolation(pod('p'), tainted, {})).toMatch(/taint gpu=yes:NoSchedule/);
    expect(staticViolation(pod('p', { tolerations: [{ key: 'gpu', operator: 'Exists' }] }), tainted, {})).toBeUndefined();
    expect(staticViolation(pod('p', { nodeSelector: { disk: 'ssd' } }), node('n'), {})).toMatch(/nodeSelector disk=ssd/);
    const affinity = pod('p', { requiredTerms: [{ matchExpressions: [{ key: LABELS.region, operator: 'In', values: ['us-east'] }] }, { matchExpressions: [{ key: 'x', operator: 'Exists' }] }] });
    expect(staticViolation(affinity, node('n'), {})).toMatch(/affinity/);
    expect(staticViolation(affinity, node('n', { labels: { x: '1' } }), {})).toBeUndefined();
    expect(staticViolation(pod('p', { minTrust: 95 }), node('n'), {})).toMatch(/trust level 90 below 95/);
    expect(staticViolation(pod('p', { usersRegion: 'ap-south', maxLatencyMs: 50 }), node('n'), {})).toMatch(/exceeds SLA 50 ms/);
    expect(violation(pod('p', { requests: { cpu: 5000, memory: 1, pods: 1 } }), node('n'), {})).toMatch(/insufficient/);
    expect(violation(pod('p', { spreadGroup: 'ns/a' }), node('n', { groups: new Set(['ns/a']) }), {})).toMatch(/already runs a replica/);
  });
});

describe('zone spread', () => {
  it('caps each zone of a region at ceil(replicas in the region / its zones) and ignores regions with one zone', () => {
    const spread = new ZoneSpread(new Map([['eu-a', 'eu'], ['eu-b', 'eu'], ['eu-c', 'eu'], ['us-a', 'us']]));
    expect(spread.zonesInRegion).toEqual(new Map([['eu', 3]]));
    spread.add('eu-a', 1);
    expect(spread.canAdd('eu-a')).toBe(false); // 2 in a zone while 2 replicas in 3 zones allow 1
    expect(spread.canAdd('eu-b')).toBe(true);
    expect(spread.canAdd('us-a')).toBe(true); // us has one zone: outside the rule
    spread.add('eu-b', 1);
    spread.add('eu-c', 1);
    expect(spread.canAdd('eu-a')).toBe(true); // the 4th replica: cap 2
    spread.add('eu-a', 1);
    spread.add('eu-a', 1);
    expect(spread.overflow()).toBe(1); // 3 in eu-a, cap ceil(5/3) = 2
    expect(spread.canMove('eu-a', 'eu-b')).toBe(true);
    expect(spread.canMove('eu-b', 'eu-a')).toBe(false);
    // Leaving a region must not push a zone there past the smaller cap: a 2, b 1 -> b's replica leaving makes cap 1.
    const two = new ZoneSpread(new Map([['eu-a', 'eu'], ['eu-b', 'eu'], ['us-a', 'us'], ['us-b', 'us']]));
    for (const zone of ['eu-a', 'eu-a', 'eu-b']) two.add(zone, 1);
    expect(two.overflow()).toBe(0);
    expect(two.canMove('eu-b', 'us-a')).toBe(false);
    expect(two.canMove('eu-a', 'us-a')).toBe(true);
  });

  it('counts replicas from the nodes and the zones where the pod may run', () => {
    const nodes = [
      node('a', { zone: 'eu-west-a', groups: new Set(['ns/x']) }),
      node('b', { zone: 'eu-west-b' }),
      node('t', { zone: 'eu-west-c', taints: [{ key: 'gpu', effect: 'NoSchedule' }] }),
    ];
    const spread = zoneSpreadOf(pod('p', { spreadGroup: 'ns/x' }), nodes, {});
    expect(spread?.zonesInRegion.get('eu-west')).toBe(2); // the tainted zone does not count
    expect(spread?.counts.get('eu-west-a')).toBe(1);
    expect(zoneSpreadOf(pod('p'), nodes, {})).toBeUndefined();
    expect(zoneSpreadOf(pod('p', { spreadGroup: 'ns/x' }), nodes.slice(0, 1), {})).toBeUndefined();
  });
});
