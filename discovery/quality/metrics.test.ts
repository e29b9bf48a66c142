import { describe, expect, it } from 'vitest';
import { qualityMetrics } from './metrics.js';

describe('qualityMetrics', () => {
  it('scores ranks of the one relevant item', () => {
    const metrics = qualityMetrics([0, 1, 4, 9, -1]);
    expect(metrics['recall@1']).toBe(0.2);
    expect(metrics['recall@5']).toBe(0.6);
    expect(metrics.mrr).toBeCloseTo((1 + 1 / 2 + 1 / 5 + 1 / 10) / 5, 3);
    expect(metrics['ndcg@10']).toBeCloseTo((1 + 1 / Math.log2(3) + 1 / Math.log2(6) + 1 / Math.log2(11)) / 5, 3);
  });

  it('is zero when nothing is found', () => {
    expect(qualityMetrics([-1, -1])).toEqual({ 'recall@1': 0, 'recall@5': 0, mrr: 0, 'ndcg@10': 0 });
  });
});
