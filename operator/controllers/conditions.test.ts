import { describe, expect, it } from 'vitest';
import { setConditions, type Condition } from './conditions.js';

const t0 = new Date('2026-01-01T00:00:00.000Z');
const t1 = new Date('2026-01-01T00:05:00.000Z');

describe('setConditions', () => {
  it('sets lastTransitionTime on a new condition', () => {
    const result = setConditions(undefined, [{ type: 'Ready', status: 'False', reason: 'X', message: 'm', observedGeneration: 1 }], t0);
    expect(result).toEqual([{ type: 'Ready', status: 'False', reason: 'X', message: 'm', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }]);
  });

  it('keeps lastTransitionTime when only reason, message or generation change', () => {
    const first = setConditions(undefined, [{ type: 'Ready', status: 'False', reason: 'A', message: 'a', observedGeneration: 1 }], t0);
    const second = setConditions(first, [{ type: 'Ready', status: 'False', reason: 'B', message: 'b', observedGeneration: 2 }], t1);
    expect(second[0]).toMatchObject({ reason: 'B', message: 'b', observedGeneration: 2, lastTransitionTime: '2026-01-01T00:00:00Z' });
  });

  it('moves lastTransitionTime when status flips and leaves other conditions alone', () => {
    const other: Condition = { type: 'Trusted', status: 'True', reason: 'T', message: '', lastTransitionTime: '2025-12-01T00:00:00Z' };
    const first = setConditions([other], [{ type: 'Ready', status: 'False', reason: 'A', message: '' }], t0);
    const second = setConditions(first, [{ type: 'Ready', status: 'True', reason: 'A', message: '' }], t1);
    expect(second).toHaveLength(2);
    expect(second[0]).toEqual(other);
    expect(second[1]?.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
  });
});
