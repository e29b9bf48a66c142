import { describe, expect, it } from 'vitest';
import { predictiveReplicas, reactiveReplicas, replay, Stabiliser } from './scaling.js';

describe('scaling decisions', () => {
  it('provisions the highest upper forecast over the lead window, within min and max', () => {
    const base = { capacityPerReplica: 10, minReplicas: 2, maxReplicas: 8 };
    expect(predictiveReplicas({ ...base, upperOverLead: [12, 41, 30] })).toBe(5);
    expect(predictiveReplicas({ ...base, upperOverLead: [1] })).toBe(2);
    expect(predictiveReplicas({ ...base, upperOverLead: [500] })).toBe(8);
  });

  it('corrects reactively only when actual demand beat every recent upper forecast', () => {
    const base = { capacityPerReplica: 10, minReplicas: 1, maxReplicas: 100, upperOverLead: [20] };
    expect(predictiveReplicas({ ...base, recentActual: [35, 60], recentUpper: [20, 20] })).toBe(6);
    expect(predictiveReplicas({ ...base, recentActual: [15, 60], recentUpper: [20, 20] })).toBe(2);
  });

  it('follows the HPA rule with its tolerance', () => {
    expect(reactiveReplicas(4, 40, 10, 0.8)).toBe(5); // ratio 1.25
    expect(reactiveReplicas(4, 30, 10, 0.8)).toBe(4); // ratio 0.94, within 10%
    expect(reactiveReplicas(4, 10, 10, 0.8)).toBe(2);
  });

  it('stabilises scale-down over its window', () => {
    const stabiliser = new Stabiliser(300_000);
    expect(stabiliser.recommend(0, 5)).toBe(5);
    expect(stabiliser.recommend(60_000, 2)).toBe(5);
    expect(stabiliser.recommend(300_001, 2)).toBe(2);
  });

  it('replays with scale-ups ready after the lead time and counts violations and replica-hours', () => {
    const demand = [10, 10, 50, 50, 50, 10];
    // A policy that always asks for what the demand needs at t (perfect, but late by the lead).
    const result = replay(demand, 1, 6, (t) => Math.ceil((demand[t] ?? 0) / 10), { stepMs: 3_600_000, capacityPerReplica: 10, leadMs: 3_600_000, stabilisationMs: 0, minReplicas: 1, maxReplicas: 10 });
    // t=2: asked for 5, still 1 ready -> violation; t=3,4: 5 ready; t=5: down to 1 at once.
    expect(result.violations).toBe(1);
    expect(result.replicaHours).toBe(1 + 1 + 5 + 5 + 1);
  });
});
