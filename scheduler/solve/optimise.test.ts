import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { node, pod } from '../fixtures.js';
import { DEFAULT_WEIGHTS, commit, normaliserFor, objectiveTerms, staticViolation, violation, weightedScore, cloneNode, type NodeModel, type ObjectiveWeights, type PodDemand } from '../model.js';
import { generateInstance } from '../instances.js';
import type { LpSolver } from './lp.js';
import { UNPLACED_PENALTY, ZONE_OVERFLOW_PENALTY, solvePlacement } from './optimise.js';
import { lpSolver } from './registry.js';

let highs: LpSolver;
let jsLp: LpSolver;
beforeAll(async () => {
  highs = await lpSolver('highs');
  jsLp = await lpSolver('jsLpSolver');
});

/**
 * The zone rule, written out independently of ZoneSpread: per group and region with two or
 * more zones the group may use, cap = ceil(replicas in the region / those zones); returns the
 * replicas past their cap and, per zone, its region and cap.
 */
function zoneOverflow(nodes: readonly NodeModel[], pods: readonly PodDemand[], assignments: ReadonlyMap<string, string>): { overflow: number; caps: Map<string, Map<string, { region: string; cap: number; count: number }>> } {
  const caps = new Map<string, Map<string, { region: string; cap: number; count: number }>>();
  let overflow = 0;
  for (const group of new Set(pods.map((p) => p.spreadGroup).filter((g): g is string => g !== undefined))) {
    const members = pods.filter((p) => p.spreadGroup === group);
    const zonesOf = new Map<string, Set<string>>();
    for (const n of nodes) if (n.zone !== '' && members.some((p) => staticViolation(p, n, {}) === undefined)) zonesOf.set(n.region, (zonesOf.get(n.region) ?? new Set()).add(n.zone));
    const counts = new Map<string, number>();
    for (const n of nodes) if (n.groups.has(group)) counts.set(n.zone, (counts.get(n.zone) ?? 0) + 1);
    for (const p of members) {
      const at = nodes.find((n) => n.name === assignments.get(p.key));
      if (at) counts.set(at.zone, (counts.get(at.zone) ?? 0) + 1);
    }
    const byZone = new Map<string, { region: string; cap: number; count: number }>();
    for (const [region, zones] of zonesOf) {
      if (zones.size < 2) continue;
      const inRegion = [...zones].reduce((sum, z) => sum + (counts.get(z) ?? 0), 0);
      const cap = Math.ceil(inRegion / zones.size);
      for (const zone of zones) {
        byZone.set(zone, { region, cap, count: counts.get(zone) ?? 0 });
        overflow += Math.max(0, (counts.get(zone) ?? 0) - cap);
      }
    }
    caps.set(group, byZone);
  }
  return { overflow, caps };
}

/** The exact optimum by enumeration (tiny instances only), zone overflow charged as the solver charges it. */
function bruteForce(nodes: NodeModel[], pods: PodDemand[], weights: ObjectiveWeights = DEFAULT_WEIGHTS): number {
  const norm = normaliserFor(nodes, {});
  let best = Infinity;
  const chosen = new Map<string, string>();
  const walk = (index: number, state: NodeModel[], total: number): void => {
    if (total >= best) return; // the overflow charge only adds
    if (index === pods.length) {
      best = Math.min(best, total + ZONE_OVERFLOW_PENALTY * zoneOverflow(nodes, pods, chosen).overflow);
      return;
    }
    const p = pods[index] as PodDemand;
    walk(index + 1, state, total + UNPLACED_PENALTY);
    for (let n = 0; n < state.length; n++) {
      const target = state[n] as NodeModel;
      if (violation(p, target, {}) !== undefined) continue;
      const next = state.map((s, i) => (i === n ? cloneNode(s) : s));
      commit(next[n] as NodeModel, p);
      chosen.set(p.key, target.name);
      walk(index + 1, next, total + weightedScore(objectiveTerms(p, target, {}, norm), weights));
      chosen.delete(p.key);
    }
  };
  walk(0, nodes.map(cloneNode), 0);
  return best;
}

function checkConstraints(nodes: NodeModel[], pods: PodDemand[], assignments: Map<string, string>): void {
  const state = new Map(nodes.map((n) => [n.name, cloneNode(n)]));
  for (const p of pods) {
    const target = assignments.get(p.key);
    if (!target) continue;
    const model = state.get(target) as NodeModel;
    expect(violation(p, model, {}), `${p.key} on ${target}`).toBeUndefined();
    commit(model, p);
  }
}

/**
 * The zone rule's fallback: a zone holds a replica of this batch past its cap only when no other
 * zone of its region under the cap has a node that could take that replica now.
 */
function checkZoneRule(nodes: NodeModel[], pods: PodDemand[], assignments: Map<string, string>): void {
  const after = new Map(nodes.map((n) => [n.name, cloneNode(n)]));
  for (const p of pods) {
    const at = assignments.get(p.key);
    if (at) commit(after.get(at) as NodeModel, p);
  }
  const { caps } = zoneOverflow(nodes, pods, assignments);
  for (const p of pods) {
    const at = assignments.get(p.key);
    if (!at || p.spreadGroup === undefined) continue;
    const zones = caps.get(p.spreadGroup);
    const here = zones?.get((after.get(at) as NodeModel).zone);
    if (!zones || !here || here.count <= here.cap) continue;
    for (const n of after.values()) {
      const there = zones.get(n.zone);
      if (!there || n.zone === (after.get(at) as NodeModel).zone || there.region !== here.region || there.count >= there.cap) continue;
      expect(violation(p, n, {}), `${p.key} is past the cap of zone ${(after.get(at) as NodeModel).zone} while ${n.name} in zone ${n.zone} could take it`).toBeDefined();
    }
  }
}

describe('solvePlacement', () => {
  it('finds the known optimum: the cheap node takes what fits, the rest go to the next best', () => {
    const cheap = node('cheap', { costPerHour: 0.1, allocatable: { cpu: 2000, memory: 8 * 2 ** 30, pods: 110 }, free: { cpu: 2000, memory: 8 * 2 ** 30, pods: 110 } });
    const dear = node('dear', { costPerHour: 0.8 });
    const pods = [pod('ns/a'), pod('ns/b'), pod('ns/c')];
    for (const solver of [highs, jsLp, undefined]) {
      const weights = { cost: 1, latency: 0, trust: 0, carbon: 0 };
      const result = solvePlacement({ nodes: [cheap, dear], pods, weights, latency: {} }, solver ? { solver } : {});
      expect([...result.assignments.values()].sort()).toEqual(['cheap', 'cheap', 'dear']);
      // cost per core-hour: cheap 0.05, dear 0.2 (the maximum): 0.25 + 0.25 + 1
      expect(result.objective).toBeCloseTo(1.5, 6);
      expect(bruteForce([cheap, dear], pods, weights)).toBeCloseTo(1.5, 6);
    }
    // The caller's nodes are not changed.
    expect(cheap.free.cpu).toBe(2000);
  });

  it('spreads replicas of one Agent over distinct nodes and leaves unplaceable pods unplaced', () => {
    const nodes = [node('n1'), node('n2')];
    const pods = [1, 2, 3].map((i) => pod(`ns/r${i}`, { spreadGroup: 'ns/agent', requests: { cpu: 100, memory: 1, pods: 1 } }));
    const result = solvePlacement({ nodes, pods, weights: DEFAULT_WEIGHTS, latency: {} }, { solver: highs });
    expect(new Set(result.assignments.values()).size).toBe(2);
    expect(result.unplaced).toHaveLength(1);
    expect(result.lpBound).toBeCloseTo(result.objective, 6);
  });

  it('falls back to greedy + improvement when the time budget is spent, and says so', () => {
    const instance = generateInstance(300, 40, 7);
    const never: LpSolver = { name: 'slow', setup: () => Promise.resolve(), solve: (p) => ({ status: 'time-limit', objective: NaN, values: new Float64Array(p.variables.length) }) };
    const result = solvePlacement({ nodes: instance.nodes, pods: instance.pods, weights: DEFAULT_WEIGHTS, latency: {} }, { solver: never, timeBudgetMs: 1 });
    expect(result.fallback).toBe('time-budget');
    expect(result.method).toBe('greedy+improve');
    expect(result.assignments.size + result.unplaced.length).toBe(300);
    checkConstraints(instance.nodes, instance.pods, result.assignments);
  });

  it('stays within 2% of the LP bound on a generated instance, and both solvers agree on the bound', () => {
    const instance = generateInstance(200, 24, 11);
    const problem = { nodes: instance.nodes, pods: instance.pods, weights: DEFAULT_WEIGHTS, latency: {} };
    const a = solvePlacement(problem, { solver: highs });
    const b = solvePlacement(problem, { solver: jsLp, timeBudgetMs: 60_000 });
    expect(a.lpBound).toBeCloseTo(b.lpBound ?? 0, 3);
    expect(a.gapPercent).toBeLessThan(2);
    checkConstraints(instance.nodes, instance.pods, a.assignments);
    const greedy = solvePlacement(problem, { improve: false });
    expect(greedy.objective).toBeGreaterThanOrEqual((a.lpBound ?? 0) - 1e-6);
  }, 30_000);

  it('spreads replicas of one Agent over the zones of its region: known optimum with 3 zones', () => {
    const weights = { cost: 1, latency: 0, trust: 0, carbon: 0 };
    // Zone a has the two cheapest nodes; without the zone rule two replicas would share it.
    const nodes = [
      node('a1', { zone: 'eu-west-a', costPerHour: 0.1 }),
      node('a2', { zone: 'eu-west-a', costPerHour: 0.1 }),
      node('b1', { zone: 'eu-west-b', costPerHour: 0.3 }),
      node('c1', { zone: 'eu-west-c', costPerHour: 0.5 }),
    ];
    const pods = [1, 2, 3].map((i) => pod(`ns/r${i}`, { spreadGroup: 'ns/agent' }));
    for (const solver of [highs, jsLp, undefined]) {
      const result = solvePlacement({ nodes, pods, weights, latency: {} }, solver ? { solver } : {});
      const zones = [...result.assignments.values()].map((name) => nodes.find((n) => n.name === name)?.zone);
      expect(new Set(zones)).toEqual(new Set(['eu-west-a', 'eu-west-b', 'eu-west-c']));
      // cost per core-hour / the dearest (0.125): 0.2 + 0.6 + 1
      expect(result.objective).toBeCloseTo(1.8, 6);
      expect(result.zoneOverflow).toBe(0);
    }
    expect(bruteForce(nodes, pods, weights)).toBeCloseTo(1.8, 6);
    // Four replicas over three zones: at most ceil(4/3) = 2 in a zone, so zone a takes two.
    const four = [...pods, pod('ns/r4', { spreadGroup: 'ns/agent' })];
    const result = solvePlacement({ nodes, pods: four, weights, latency: {} }, { solver: highs });
    expect([...result.assignments.values()].sort()).toEqual(['a1', 'a2', 'b1', 'c1']);
  });

  it('counts replicas already bound, and lands in one zone when no other zone has room (charged as overflow)', () => {
    const weights = { cost: 1, latency: 0, trust: 0, carbon: 0 };
    const full = { cpu: 0, memory: 8 * 2 ** 30, pods: 110 };
    const nodes = [
      node('a1', { zone: 'eu-west-a', costPerHour: 0.1 }),
      node('a2', { zone: 'eu-west-a', costPerHour: 0.1 }),
      node('b1', { zone: 'eu-west-b', costPerHour: 0.3, free: full }),
      node('c1', { zone: 'eu-west-c', costPerHour: 0.5, free: full }),
    ];
    const pods = [1, 2].map((i) => pod(`ns/r${i}`, { spreadGroup: 'ns/agent' }));
    for (const solver of [highs, jsLp, undefined]) {
      const result = solvePlacement({ nodes, pods, weights, latency: {} }, solver ? { solver } : {});
      expect([...result.assignments.values()].sort()).toEqual(['a1', 'a2']);
      expect(result.zoneOverflow).toBe(1);
      expect(result.objective).toBeCloseTo(0.4 + ZONE_OVERFLOW_PENALTY, 6);
    }
    expect(bruteForce(nodes, pods, weights)).toBeCloseTo(0.4 + ZONE_OVERFLOW_PENALTY, 6);
    // A replica already bound in zone a (on a node outside this solve's choice): the new one goes elsewhere.
    const bound = [node('a0', { zone: 'eu-west-a', costPerHour: 0.1, groups: new Set(['ns/agent']) }), ...nodes.slice(0, 2), node('b1', { zone: 'eu-west-b', costPerHour: 0.3 })];
    const one = solvePlacement({ nodes: bound, pods: [pod('ns/r9', { spreadGroup: 'ns/agent' })], weights, latency: {} }, { solver: highs });
    expect(one.assignments.get('ns/r9')).toBe('b1');
  });

  it('spreads within the region the objective picks, not over continents', () => {
    const weights = { cost: 0, latency: 1, trust: 0, carbon: 0 };
    const nodes = [
      node('eu-a', { zone: 'eu-west-a' }),
      node('eu-a2', { zone: 'eu-west-a' }),
      node('eu-b', { zone: 'eu-west-b' }),
      node('us-a', { region: 'us-east', zone: 'us-east-a' }),
      node('us-b', { region: 'us-east', zone: 'us-east-b' }),
    ];
    const pods = [1, 2, 3].map((i) => pod(`ns/r${i}`, { spreadGroup: 'ns/agent', usersRegion: 'eu-west' }));
    const result = solvePlacement({ nodes, pods, weights, latency: {} }, { solver: highs });
    // Three replicas in eu-west's two zones: at most ceil(3/2) = 2 per zone, none sent to us-east.
    expect([...result.assignments.values()].sort()).toEqual(['eu-a', 'eu-a2', 'eu-b']);
    expect(result.zoneOverflow).toBe(0);
    checkZoneRule(nodes, pods, result.assignments);
  });

  it('never violates a constraint and is bracketed by the LP bound and the exact optimum (random tiny clusters)', () => {
    const nodeArb = fc.record({
      cpu: fc.constantFrom(1000, 2000, 4000),
      cost: fc.constantFrom(0.1, 0.3, 0.9),
      carbon: fc.integer({ min: 50, max: 600 }),
      trust: fc.integer({ min: 40, max: 100 }),
      // Mostly one region, so its zones compete for a group's replicas.
      region: fc.constantFrom('eu-west', 'eu-west', 'eu-west', 'us-east', 'ap-south'),
      zone: fc.constantFrom('a', 'b', 'c'),
      tainted: fc.boolean(),
    });
    const podArb = fc.record({
      cpu: fc.constantFrom(250, 500, 1000, 2000),
      minTrust: fc.option(fc.constantFrom(60, 90), { nil: undefined }),
      users: fc.constantFrom('eu-west', 'us-east', 'ap-south'),
      sla: fc.option(fc.constantFrom(50, 100), { nil: undefined }),
      tolerates: fc.boolean(),
      group: fc.option(fc.constantFrom('ns/a', 'ns/a', 'ns/b'), { nil: undefined, freq: 4 }),
    });
    fc.assert(
      fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 5 }), fc.array(podArb, { minLength: 1, maxLength: 6 }), (nodeSpecs, podSpecs) => {
        const nodes = nodeSpecs.map((s, i) =>
          node(`n${i}`, {
            region: s.region,
            zone: `${s.region}-${s.zone}`,
            costPerHour: s.cost,
            carbonIntensity: s.carbon,
            trustLevel: s.trust,
            taints: s.tainted ? [{ key: 'k', value: 'v', effect: 'NoSchedule' }] : [],
            allocatable: { cpu: s.cpu, memory: 2 ** 34, pods: 110 },
            free: { cpu: s.cpu, memory: 2 ** 34, pods: 110 },
          }),
        );
        const pods = podSpecs.map((s, i) =>
          pod(`ns/p${i}`, {
            requests: { cpu: s.cpu, memory: 2 ** 20, pods: 1 },
            usersRegion: s.users,
            ...(s.minTrust !== undefined ? { minTrust: s.minTrust } : {}),
            ...(s.sla !== undefined ? { maxLatencyMs: s.sla } : {}),
            ...(s.group !== undefined ? { spreadGroup: s.group } : {}),
            tolerations: s.tolerates ? [{ key: 'k', operator: 'Exists' }] : [],
          }),
        );
        const optimum = bruteForce(nodes, pods);
        for (const options of [{ solver: highs }, {}]) {
          const result = solvePlacement({ nodes, pods, weights: DEFAULT_WEIGHTS, latency: {} }, options);
          checkConstraints(nodes, pods, result.assignments);
          checkZoneRule(nodes, pods, result.assignments);
          expect(result.zoneOverflow).toBe(zoneOverflow(nodes, pods, result.assignments).overflow);
          expect(result.objective).toBeGreaterThanOrEqual(optimum - 1e-6);
          // The LP rounds its costs to 6 decimals.
          if (options.solver) expect(result.lpBound ?? 0).toBeLessThanOrEqual(optimum + 1e-5);
        }
      }),
      { numRuns: 200, seed: 4 },
    );
  });
});
