import { describe, expect, it } from 'vitest';
import { advanceNode, assessPartition, detectorSettings, instantFailure, recoveryDelayMs, replicaProblems, type NodeHealth, type NodeObservation } from './detect.js';

const settings = detectorSettings(5); // 5 s timeout, 10 s recovery, 300 s flap window

describe('instantFailure', () => {
  it('fails a node whose Lease is older than the timeout, not one renewed within it', () => {
    expect(instantFailure({ name: 'n', leaseRenewedAt: 0, ready: 'True' }, 5_001, settings)).toBe('lease');
    expect(instantFailure({ name: 'n', leaseRenewedAt: 0, ready: 'True' }, 5_000, settings)).toBeUndefined();
  });
  it('fails a node whose Ready condition is False or Unknown', () => {
    expect(instantFailure({ name: 'n', leaseRenewedAt: 1000, ready: 'False' }, 1000, settings)).toBe('ready');
    expect(instantFailure({ name: 'n', leaseRenewedAt: 1000, ready: 'Unknown' }, 1000, settings)).toBe('ready');
  });
  it('gives a node without a Lease one timeout from its creation', () => {
    expect(instantFailure({ name: 'n', createdAt: 0 }, 4_000, settings)).toBeUndefined();
    expect(instantFailure({ name: 'n', createdAt: 0 }, 6_000, settings)).toBe('lease');
  });
});

describe('advanceNode', () => {
  const run = (steps: [number, NodeObservation][]): NodeHealth[] => {
    let health: NodeHealth | undefined;
    return steps.map(([at, observation]) => (health = advanceNode(health, observation, at, settings)));
  };

  it('tolerates heartbeat jitter of +-20% of the renew interval without a failure', () => {
    // Renew interval 1 s with +-20% jitter, timeout 5 s: never a gap over the timeout.
    let renewed = 0;
    let health: NodeHealth | undefined;
    for (let step = 0; step < 1000; step++) {
      renewed += 800 + ((step * 7919) % 401);
      health = advanceNode(health, { name: 'n', leaseRenewedAt: renewed, ready: 'True' }, renewed + 1199, settings);
      expect(health.state).toBe('Healthy');
    }
  });

  it('detects a lost heartbeat, recovers only after the node stays stable', () => {
    const states = run([
      [1000, { name: 'n', leaseRenewedAt: 1000 }],
      [6_500, { name: 'n', leaseRenewedAt: 1000 }],
      [7_000, { name: 'n', leaseRenewedAt: 6_900 }],
      [12_000, { name: 'n', leaseRenewedAt: 11_900 }],
      [17_100, { name: 'n', leaseRenewedAt: 17_000 }],
    ]);
    expect(states.map((s) => s.state)).toEqual(['Healthy', 'Failed', 'Recovering', 'Recovering', 'Healthy']);
    expect(states[1]).toMatchObject({ cause: 'lease', lastHeartbeatAt: 1000, failedAt: 6_500 });
  });

  it('keeps one incident for a heartbeat flapping around the timeout and waits longer each flap', () => {
    const states = run([
      [0, { name: 'n', leaseRenewedAt: 0 }],
      [5_100, { name: 'n', leaseRenewedAt: 0 }], // failed
      [5_200, { name: 'n', leaseRenewedAt: 5_150 }], // back
      [10_300, { name: 'n', leaseRenewedAt: 5_150 }], // failed again before stable
      [10_400, { name: 'n', leaseRenewedAt: 10_350 }], // back again
      [25_000, { name: 'n', leaseRenewedAt: 24_900 }], // 14.6 s stable: not enough after a flap (20 s)
      [31_000, { name: 'n', leaseRenewedAt: 30_900 }],
    ]);
    expect(states.map((s) => s.state)).toEqual(['Healthy', 'Failed', 'Recovering', 'Failed', 'Recovering', 'Recovering', 'Healthy']);
    expect(states[3]?.failedAt).toBe(5_100); // the same failure, not a new one
    expect(recoveryDelayMs({ recentFailures: [1, 2] }, settings)).toBe(20_000);
  });
});

describe('assessPartition', () => {
  const nodes: NodeObservation[] = Array.from({ length: 10 }, (_, i) => ({ name: `n${i}`, zone: i < 3 ? 'a' : 'b' }));
  it('does not suspect a partition for a few failures', () => {
    expect(assessPartition(nodes, new Set(['n0', 'n5']), 30).suspected).toBe(false);
  });
  it('suspects one when over maxUnhealthyPercent of nodes fail', () => {
    const verdict = assessPartition(nodes, new Set(['n0', 'n4', 'n5', 'n6']), 30);
    expect(verdict).toMatchObject({ suspected: true, failedPercent: 40 });
    expect(verdict.reason).toContain('maxUnhealthyPercent 30');
  });
  it('suspects one when a whole zone fails', () => {
    expect(assessPartition(nodes, new Set(['n0', 'n1', 'n2']), 50)).toMatchObject({ suspected: true, zonesDown: ['a'] });
  });
});

describe('replicaProblems', () => {
  it('reports not ready, crash-looping and missing heartbeats, sparing a young replica', () => {
    expect(replicaProblems({ name: 'p', ready: false, restarts: 5, crashLooping: true, createdAt: 0 }, 60_000, 5_000)).toEqual(['crash-looping', 'not-ready']);
    expect(replicaProblems({ name: 'p', ready: false, restarts: 0, crashLooping: false, createdAt: 58_000 }, 60_000, 5_000)).toEqual([]);
    expect(replicaProblems({ name: 'p', ready: true, restarts: 0, crashLooping: false, heartbeatAt: 50_000 }, 60_000, 5_000)).toEqual(['heartbeat-missing']);
  });
});
