import { describe, expect, it } from 'vitest';
import { alarmsFromScores, multiScaleDetector, normalTail, scores, windowedGaussian } from './anomaly.js';
import { normalisedScore, probationaryLength, scaledSigmoid, scoreFile, windowIndices } from './nab.js';

describe('NAB scoring', () => {
  const windows = [{ start: 400, end: 499 }];
  it('scores a perfect detector 100 and one that never alarms 0', () => {
    const perfect = scoreFile(1000, windows, [400]);
    expect(normalisedScore([perfect])).toBeCloseTo(100, 5);
    expect(normalisedScore([scoreFile(1000, windows, [])])).toBe(0);
  });
  it('weights an early alarm more than a late one; only the first alarm in a window counts', () => {
    const early = scoreFile(1000, windows, [405]).raw;
    const late = scoreFile(1000, windows, [495]).raw;
    expect(early).toBeGreaterThan(late);
    expect(scoreFile(1000, windows, [405, 410, 420]).raw).toBe(early);
  });
  it('charges 0.11 per false positive, less right after a window, none in the probationary period', () => {
    expect(probationaryLength(1000)).toBe(150);
    expect(scoreFile(1000, windows, [100]).falsePositives).toBe(0);
    const before = scoreFile(1000, windows, [300]);
    expect(before.falsePositives).toBe(1);
    expect(before.raw).toBeCloseTo(-1 - 0.11, 10);
    const justAfter = scoreFile(1000, windows, [500]).raw;
    const farAfter = scoreFile(1000, windows, [990]).raw;
    expect(justAfter).toBeGreaterThan(farAfter);
    expect(scaledSigmoid(-1)).toBeCloseTo(0.9866, 3);
  });
  it('maps labelled timestamps to window indices', () => {
    const timestamps = [0, 10, 20, 30, 40, 50];
    expect(windowIndices(timestamps, [[15, 41]])).toEqual([{ start: 2, end: 4 }]);
  });
});

describe('detectors', () => {
  it('computes the normal tail', () => {
    expect(normalTail(0)).toBeCloseTo(0.5, 6);
    expect(normalTail(1.96)).toBeCloseTo(0.025, 3);
  });
  it('both flag a spike in noise, and the quiet period keeps one warning per incident', () => {
    let seed = 1;
    const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 2;
    const values = Array.from({ length: 3000 }, (_, i) => 10 + noise() + (i >= 2500 && i < 2510 ? 30 : 0));
    for (const detector of [windowedGaussian(), multiScaleDetector()]) {
      const s = scores(values, detector);
      const all = alarmsFromScores(s, 0.9999);
      expect(all.filter((i) => i >= 2500 && i < 2510).length).toBeGreaterThan(0);
      expect(all.filter((i) => i > 200 && i < 2500)).toEqual([]);
      expect(alarmsFromScores(s, 0.9999, 288).filter((i) => i >= 2500)).toHaveLength(1);
    }
  });
  it('the multi-scale detector catches a small sustained level shift that a point test misses', () => {
    let seed = 7;
    const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 2;
    const values = Array.from({ length: 4000 }, (_, i) => 10 + noise() + (i >= 3000 ? 1.2 : 0));
    const multi = alarmsFromScores(scores(values, multiScaleDetector({ referenceSize: 2016, scales: [1, 6, 36] })), 0.9999);
    const point = alarmsFromScores(scores(values, windowedGaussian()), 0.9999);
    expect(multi.some((i) => i >= 3000 && i < 3100)).toBe(true);
    expect(point.some((i) => i >= 3000 && i < 3100)).toBe(false);
  });
});
