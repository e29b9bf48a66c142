import { describe, expect, it } from 'vitest';
import { createLogger } from '../operator/log.js';
import { ManualClock } from '../operator/ratelimit/manual-clock.js';
import type { Action, KernelModule, ModuleContext, ProposedAction } from './contract.js';
import { DecisionLog } from './decision-log.js';
import { KernelLoop, madeWorse } from './loop.js';
import type { MeshPolicy } from './policy.js';

/** A module over an in-memory "latency" that its action changes by a set amount. */
function latencyModule(world: { latency: number; replicas: number }, effectOfAction: number): KernelModule {
  return {
    name: 'scaler',
    observes: ['Agent'],
    actions: ['scale'],
    analyse: () => [],
    execute: (action: Action) => {
      const previous = world.replicas;
      world.replicas = action.params['replicas'] as number;
      world.latency += effectOfAction;
      return Promise.resolve({ message: `scaled to ${world.replicas}`, undo: { replicas: previous } });
    },
    measure: () => Promise.resolve(world.latency),
    rollback: (_action, result) => {
      world.replicas = result.undo?.['replicas'] as number;
      world.latency -= effectOfAction;
      return Promise.resolve({ message: `restored ${world.replicas} replicas` });
    },
  };
}

const proposal = (overrides: Partial<ProposedAction> = {}): ProposedAction => ({
  module: 'scaler',
  kind: 'scale',
  target: { kind: 'Agent', name: 'a', namespace: 'ns', mesh: 'm' },
  reason: 'latency above SLA',
  risk: 0.2,
  expectedEffect: { metric: 'latencyMs', direction: 'decrease' },
  verifyWindowMs: 60_000,
  replicasAdded: 1,
  params: { replicas: 3 },
  ...overrides,
});

function setup(effect: number, policy?: MeshPolicy) {
  const world = { latency: 200, replicas: 2 };
  const clock = new ManualClock(Date.parse('2026-11-23T12:00:00Z'));
  const log = new DecisionLog(100);
  let id = 0;
  const loop = new KernelLoop({
    modules: [latencyModule(world, effect)],
    context: { logger: createLogger({ level: 'silent' }) } as unknown as ModuleContext,
    log,
    policyFor: () => ({ policy, agentCount: 10 }),
    clock,
    newId: () => `act-${++id}`,
  });
  const outcomes = () => log.query().map((r) => r.outcome);
  return { world, clock, log, loop, outcomes };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('KernelLoop', () => {
  it('executes an allowed action and verifies it after the window when it helped', async () => {
    const { world, clock, loop, log, outcomes } = setup(-80);
    await loop.submit(proposal());
    expect(world.replicas).toBe(3);
    expect(outcomes()).toEqual(['proposed', 'allowed', 'executed']);
    clock.advance(60_000);
    await loop.settle();
    expect(outcomes()).toEqual(['proposed', 'allowed', 'executed', 'verified']);
    expect(log.query({ outcome: 'verified' })[0]?.measured).toEqual({ metric: 'latencyMs', before: 200, after: 120 });
  });

  it('rolls back an action that made the metric worse', async () => {
    const { world, clock, loop, log, outcomes } = setup(+50);
    await loop.submit(proposal());
    expect(world).toEqual({ latency: 250, replicas: 3 });
    clock.advance(60_000);
    await loop.settle();
    expect(world).toEqual({ latency: 200, replicas: 2 });
    expect(outcomes()).toEqual(['proposed', 'allowed', 'executed', 'rolled-back']);
    expect(log.query({ outcome: 'rolled-back' })[0]?.reason).toContain('latencyMs went from 200 to 250');
  });

  it('holds an action over the risk ceiling until approved, then runs it', async () => {
    const { world, loop, outcomes } = setup(-10, { riskCeiling: 0.5, approvalMode: 'HumanOrCoordinators' });
    const action = await loop.submit(proposal({ risk: 0.9 }));
    expect(world.replicas).toBe(2);
    expect(loop.heldActions().map((h) => h.action.id)).toEqual([action.id]);
    expect(await loop.approve(action.id, 'coord-1', 'coordinator')).toBe('waiting');
    expect(await loop.approve(action.id, 'coord-2', 'coordinator')).toBe('waiting');
    expect(await loop.approve(action.id, 'coord-3', 'coordinator')).toBe('executed');
    expect(world.replicas).toBe(3);
    expect(outcomes()).toEqual(['proposed', 'held', 'approved', 'executed']);
    loop.stop();
  });

  it('lets a human stop a held action or force a blocked one', async () => {
    const { world, loop, outcomes } = setup(-10, { riskCeiling: 0.5, maxReplicasAddedPerHour: 0 });
    const held = await loop.submit(proposal({ risk: 0.9, replicasAdded: 0 }));
    await loop.override(held.id, 'stop', 'alice');
    expect(loop.heldActions()).toEqual([]);
    expect(world.replicas).toBe(2);
    const blocked = await loop.submit(proposal({ replicasAdded: 1 }));
    expect(outcomes().slice(-1)).toEqual(['blocked']);
    await loop.override(blocked.id, 'force', 'alice');
    expect(world.replicas).toBe(3);
    expect(outcomes()).toEqual(['proposed', 'held', 'overridden', 'proposed', 'blocked', 'overridden', 'executed']);
    loop.stop();
  });

  it('counts executed actions against the hourly caps', async () => {
    const { loop, clock, outcomes } = setup(-10, { maxReplicasAddedPerHour: 2 });
    await loop.submit(proposal({ verifyWindowMs: 0 }));
    await loop.submit(proposal({ verifyWindowMs: 0 }));
    await loop.submit(proposal({ verifyWindowMs: 0 }));
    expect(outcomes().filter((o) => o === 'executed')).toHaveLength(2);
    expect(outcomes().at(-1)).toBe('blocked');
    clock.advance(3_600_001);
    await loop.submit(proposal({ verifyWindowMs: 0 }));
    expect(outcomes().at(-1)).toBe('executed');
  });

  it('refuses action kinds the module did not declare', async () => {
    const { loop, log } = setup(0);
    await loop.submit(proposal({ kind: 'delete-everything' }));
    expect(log.query({ outcome: 'blocked' })[0]?.reason).toContain('does not declare action kind delete-everything');
    await flush();
  });
});

describe('madeWorse', () => {
  it('judges the direction with a tolerance', () => {
    expect(madeWorse({ metric: 'l', direction: 'decrease' }, 100, 104)).toBe(false);
    expect(madeWorse({ metric: 'l', direction: 'decrease' }, 100, 106)).toBe(true);
    expect(madeWorse({ metric: 'a', direction: 'increase', tolerance: 0 }, 0.9, 0.89)).toBe(true);
    expect(madeWorse({ metric: 'a', direction: 'increase' }, 100, undefined)).toBe(false);
  });
});

describe('DecisionLog', () => {
  it('keeps only the newest records and answers queries', () => {
    const log = new DecisionLog(3);
    for (let i = 0; i < 5; i++) {
      log.record({ actionId: `a${i}`, module: i % 2 ? 'healing' : 'scheduler', kind: 'k', target: { kind: 'Agent', name: `x${i}`, namespace: 'ns', mesh: 'm' }, outcome: 'proposed', reason: '' });
    }
    expect(log.size).toBe(3);
    expect(log.query().map((r) => r.actionId)).toEqual(['a2', 'a3', 'a4']);
    expect(log.query({ module: 'healing' }).map((r) => r.actionId)).toEqual(['a3']);
    expect(log.query({ target: 'ns/x4' }).map((r) => r.seq)).toEqual([5]);
    expect(log.query({ limit: 1 }).map((r) => r.actionId)).toEqual(['a4']);
  });
});
