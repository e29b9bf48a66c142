import { describe, expect, it } from 'vitest';
import { HeartbeatPredictor } from './heartbeat.js';

describe('HeartbeatPredictor', () => {
  it('stays quiet on steady renewals with small jitter and warns once when the gaps grow', () => {
    const predictor = new HeartbeatPredictor();
    let seed = 3;
    const jitter = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.08;
    let at = 0;
    const warnings: number[] = [];
    for (let i = 0; i < 600; i++) {
      // 10 s renewals +-4% (kwok's own jitter); from renewal 500 on, the node lags more and more.
      at += 10_000 * (1 + jitter()) + (i >= 500 ? (i - 499) * 400 : 0);
      if (predictor.observe('n1', at)) warnings.push(i);
    }
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toBeGreaterThanOrEqual(500);
    expect(warnings[0]).toBeLessThan(510);
  });
});
