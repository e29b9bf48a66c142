import { describe, expect, it } from 'vitest';
import { DEFAULT_TRUST_WEIGHTS, type Mesh } from '../../crds/types.js';
import { weightsVersion, type TrustWeights } from './score.js';
import { meshTrustState, planWeights, specWeights, type MeshTrustState } from './transition.js';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;
const defaults: TrustWeights = { ...DEFAULT_TRUST_WEIGHTS };
const next: TrustWeights = { credentials: 10, history: 45, attestations: 20, compliance: 15, uptime: 10 };

function mesh(weights?: Partial<TrustWeights>, transitionPeriod?: string, statusTrust?: MeshTrustState): Mesh {
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Mesh',
    metadata: { name: 'm' },
    spec: { did: 'did:mesh:t:m', trust: { ...(weights ? { weights } : {}), ...(transitionPeriod ? { transitionPeriod } : {}) } },
    ...(statusTrust ? { status: { trust: { ...statusTrust } } } : {}),
  };
}

describe('specWeights', () => {
  it('fills in the CRD defaults', () => {
    expect(specWeights(mesh())).toEqual(defaults);
    expect(specWeights(mesh({ credentials: 20, history: 35 }))).toEqual({ ...defaults, credentials: 20, history: 35 });
  });
});

describe('planWeights', () => {
  it('records the spec weights at once when nothing is recorded', () => {
    const plan = planWeights(mesh(), undefined, T0);
    expect(plan.stateChanged).toBe(true);
    expect(plan.state).toEqual({ weights: defaults, weightsVersion: weightsVersion(defaults) });
    expect(plan.effectiveWeights).toEqual(defaults);
    expect(plan.version).toBe(weightsVersion(defaults));
  });

  it('changes nothing when the spec matches the weights in force', () => {
    const recorded = { weights: defaults, weightsVersion: weightsVersion(defaults) };
    const plan = planWeights(mesh(), recorded, T0);
    expect(plan.stateChanged).toBe(false);
    expect(plan.remainingMs).toBe(0);
  });

  it('starts a transition from the weights in force and blends over the period', () => {
    const recorded = { weights: defaults, weightsVersion: weightsVersion(defaults) };
    const spec = mesh(next, '10h');
    const start = planWeights(spec, recorded, T0);
    expect(start.stateChanged).toBe(true);
    expect(start.state).toEqual({
      weights: next,
      weightsVersion: weightsVersion(next),
      previousWeights: defaults,
      transitionStartedAt: new Date(T0).toISOString(),
      transitionPeriod: '10h',
    });
    expect(start.effectiveWeights).toEqual(defaults);
    expect(start.version).toBe(`${weightsVersion(defaults)}>${weightsVersion(next)}@0%`);
    expect(start.remainingMs).toBe(10 * HOUR);

    const half = planWeights(spec, start.state, T0 + 5 * HOUR);
    expect(half.stateChanged).toBe(false);
    expect(half.effectiveWeights).toEqual({ credentials: 20, history: 35, attestations: 20, compliance: 15, uptime: 10 });
    expect(half.version).toMatch(/@50%$/);
    expect(half.progress).toBe(0.5);

    const end = planWeights(spec, start.state, T0 + 11 * HOUR);
    expect(end.stateChanged).toBe(true);
    expect(end.state).toEqual({ weights: next, weightsVersion: weightsVersion(next) });
    expect(end.effectiveWeights).toEqual(next);
    expect(end.version).toBe(weightsVersion(next));
  });

  it('restarts from the blended weights when the spec changes again mid-transition (no jump)', () => {
    const start = planWeights(mesh(next, '10h'), { weights: defaults, weightsVersion: weightsVersion(defaults) }, T0).state;
    const third: TrustWeights = { credentials: 30, history: 25, attestations: 10, compliance: 25, uptime: 10 };
    const restarted = planWeights(mesh(third, '10h'), start, T0 + 5 * HOUR);
    expect(restarted.state.previousWeights).toEqual({ credentials: 20, history: 35, attestations: 20, compliance: 15, uptime: 10 });
    expect(restarted.effectiveWeights).toEqual(restarted.state.previousWeights);
  });

  it('switches at once when no transition period is set', () => {
    const plan = planWeights(mesh(next), { weights: defaults, weightsVersion: weightsVersion(defaults) }, T0);
    expect(plan.state).toEqual({ weights: next, weightsVersion: weightsVersion(next) });
    expect(plan.effectiveWeights).toEqual(next);
  });
});

describe('meshTrustState', () => {
  it('round-trips what planWeights writes and ignores foreign shapes', () => {
    const state = planWeights(mesh(next, '10h'), { weights: defaults, weightsVersion: weightsVersion(defaults) }, T0).state;
    expect(meshTrustState(mesh(next, '10h', state))).toEqual(state);
    expect(meshTrustState(mesh())).toBeUndefined();
    const broken = mesh();
    broken.status = { trust: { weights: { credentials: 'thirty' } } };
    expect(meshTrustState(broken)).toBeUndefined();
  });
});
