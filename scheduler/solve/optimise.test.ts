import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { node, pod } from '../fixtures.js';
import { DEFAULT_WEIGHTS, commit, normaliserFor, objectiveTerms, violation, weightedScore, cloneNode, type NodeModel, type ObjectiveWeights, type PodDemand } from '../model.js';
import { generateInstance } from '../instances.js';
import type { LpSolver } from './lp.js';
import { UNPLACED_PENALTY, solvePlacement } from './optimise.js';
import { lpSolver } from './registry.js';

let highs: LpSolver;
let jsLp: LpSolver;
beforeAll(async () => {
  highs = await lpSolver('highs');
  jsLp = await lpSolver('jsLpSolver');
});

/** The exact optimum by enumeration (tiny instances only). */
function bruteForce(nodes: NodeModel[], pods: PodDemand[], weights: ObjectiveWeights = DEFAULT_WEIGHTS): number {
  const norm = normaliserFor(nodes, {});
  let best = Infinity;
  const walk = (index: number, state: NodeModel[], total: number): void => {
    if (total >= best) return;
    if (index === pods.length) {
      best = total;
      return;
    }
    const p = pods[index] as PodDemand;
    walk(index + 1, state, total + UNPLACED_PENALTY);
    for (let n = 0; n < state.length; n++) {
      const target = state[n] as NodeModel;
      if (violation(p, target, {}) !== undefined) continue;
      const next = state.map((s, i) => (i === n ? cloneNode(s) : s));
      commit(next[n] as NodeModel, p);
      walk(index + 1, next, total + weightedScore(objectiveTerms(p, target, {}, norm), weights));
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

  it('never violates a constraint and is bracketed by the LP bound and the exact optimum (random tiny clusters)', () => {
    const nodeArb = fc.record({
      cpu: fc.constantFrom(1000, 2000, 4000),
      cost: fc.constantFrom(0.1, 0.3, 0.9),
      carbon: fc.integer({ min: 50, max: 600 }),
      trust: fc.integer({ min: 40, max: 100 }),
      region: fc.constantFrom('eu-west', 'us-east', 'ap-south'),
      tainted: fc.boolean(),
    });
    const podArb = fc.record({
      cpu: fc.constantFrom(250, 500, 1000, 2000),
      minTrust: fc.option(fc.constantFrom(60, 90), { nil: undefined }),
      users: fc.constantFrom('eu-west', 'us-east', 'ap-south'),
      sla: fc.option(fc.constantFrom(50, 100), { nil: undefined }),
      tolerates: fc.boolean(),
      group: fc.option(fc.constantFrom('ns/a', 'ns/b'), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 3 }), fc.array(podArb, { minLength: 1, maxLength: 5 }), (nodeSpecs, podSpecs) => {
        const nodes = nodeSpecs.map((s, i) =>
          node(`n${i}`, {
            region: s.region,
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
        const result = solvePlacement({ nodes, pods, weights: DEFAULT_WEIGHTS, latency: {} }, { solver: highs });
        checkConstraints(nodes, pods, result.assignments);
        const optimum = bruteForce(nodes, pods);
        expect(result.objective).toBeGreaterThanOrEqual(optimum - 1e-6);
        expect(result.lpBound ?? 0).toBeLessThanOrEqual(optimum + 1e-6);
      }),
      { numRuns: 150, seed: 4 },
    );
  });
});
