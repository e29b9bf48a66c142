import { describe, expect, it } from 'vitest';
import type { ProposedAction } from './contract.js';
import { PolicyLedger, activeQuietHours, approvalsSatisfied, approversFor, evaluatePolicy, type LedgerEntry, type MeshPolicy } from './policy.js';

const now = new Date('2026-11-23T14:30:00Z');

function action(overrides: Partial<ProposedAction> = {}): ProposedAction {
  return {
    module: 'healing',
    kind: 'migrate-pod',
    target: { kind: 'Agent', name: 'a1', namespace: 'ns', mesh: 'm' },
    reason: 'node failed',
    risk: 0.2,
    verifyWindowMs: 0,
    params: {},
    ...overrides,
  };
}

const evaluate = (policy: MeshPolicy | undefined, proposed = action(), ledger: LedgerEntry[] = [], meshAgentCount = 10) =>
  evaluatePolicy({ action: proposed, policy, meshAgentCount, ledger: PolicyLedger.of(ledger), now });

describe('evaluatePolicy', () => {
  it('allows a low-risk action when no policy is set', () => {
    expect(evaluate(undefined).outcome).toBe('allowed');
  });

  it('holds an action over the risk ceiling for the approvers the mesh names', () => {
    const decision = evaluate({ riskCeiling: 0.5, approvalMode: 'HumanOrCoordinators' }, action({ risk: 0.7 }));
    expect(decision).toMatchObject({ outcome: 'held', approvers: { human: true, coordinators: 3 } });
    expect(decision.reason).toContain('above the ceiling 0.5');
    expect(evaluate({ riskCeiling: 0.5 }, action({ risk: 0.5 })).outcome).toBe('allowed');
  });

  it('blocks outside remediation during quiet hours, across midnight and in the window time zone', () => {
    const policy: MeshPolicy = { quietHours: [{ start: '15:00', end: '16:00', timezone: 'Europe/Paris' }] };
    // 14:30 UTC is 15:30 in Paris (UTC+1 in November).
    expect(evaluate(policy)).toMatchObject({ outcome: 'blocked', rule: 'quietHours' });
    expect(evaluate(policy, action({ remediation: true })).outcome).toBe('allowed');
    expect(activeQuietHours({ quietHours: [{ start: '22:00', end: '06:00' }] }, new Date('2026-11-23T02:00:00Z'))).toBeDefined();
    expect(activeQuietHours({ quietHours: [{ start: '22:00', end: '06:00' }] }, new Date('2026-11-23T12:00:00Z'))).toBeUndefined();
  });

  it('counts agents touched in the sliding hour against the percentage cap', () => {
    const policy: MeshPolicy = { maxAutonomousAgentPercentPerHour: 20 }; // 2 of 10 agents
    const ledger: LedgerEntry[] = [
      { at: now.getTime() - 10 * 60_000, agents: ['ns/a2'], replicasAdded: 0 },
      { at: now.getTime() - 2 * 3_600_000, agents: ['ns/a3', 'ns/a4'], replicasAdded: 0 }, // outside the hour
    ];
    expect(evaluate(policy, action(), ledger).outcome).toBe('allowed');
    // Touching the same agent again does not count twice.
    expect(evaluate(policy, action({ target: { kind: 'Agent', name: 'a2', namespace: 'ns', mesh: 'm' } }), [...ledger, { at: now.getTime() - 60_000, agents: ['ns/a1'], replicasAdded: 0 }]).outcome).toBe('allowed');
    const full = [...ledger, { at: now.getTime() - 60_000, agents: ['ns/a5'], replicasAdded: 0 }];
    expect(evaluate(policy, action(), full)).toMatchObject({ outcome: 'blocked', rule: 'maxAutonomousAgentPercentPerHour' });
  });

  it('caps replicas added per hour and actions per minute', () => {
    const ledger: LedgerEntry[] = [{ at: now.getTime() - 30 * 60_000, agents: [], replicasAdded: 4 }];
    expect(evaluate({ maxReplicasAddedPerHour: 5 }, action({ replicasAdded: 1 }), ledger).outcome).toBe('allowed');
    expect(evaluate({ maxReplicasAddedPerHour: 5 }, action({ replicasAdded: 2 }), ledger)).toMatchObject({ rule: 'maxReplicasAddedPerHour' });
    const burst: LedgerEntry[] = [1, 2].map((s) => ({ at: now.getTime() - s * 1000, agents: [], replicasAdded: 0 }));
    expect(evaluate({ maxActionsPerMinute: 2 }, action(), burst)).toMatchObject({ outcome: 'blocked', rule: 'maxActionsPerMinute' });
    expect(evaluate({ maxActionsPerMinute: 3 }, action(), burst).outcome).toBe('allowed');
  });

  it('rejects a risk outside 0..1', () => {
    expect(evaluate(undefined, action({ risk: 1.5 }))).toMatchObject({ outcome: 'blocked', rule: 'risk' });
  });
});

describe('PolicyLedger', () => {
  it('slides: entries leave the hour and the minute as time passes', () => {
    const t = now.getTime();
    const ledger = PolicyLedger.of([
      { at: t - 3_700_000, agents: ['ns/old'], replicasAdded: 5 },
      { at: t - 30 * 60_000, agents: ['ns/a', 'ns/b'], replicasAdded: 2 },
      { at: t - 30_000, agents: ['ns/a'], replicasAdded: 1 },
    ]);
    const summary = ledger.summary(t);
    expect(summary).toMatchObject({ actionsLastMinute: 1, replicasAdded: 3 });
    expect([...summary.agentsTouched.keys()].sort()).toEqual(['ns/a', 'ns/b']);
    const later = ledger.summary(t + 31 * 60_000);
    expect(later).toMatchObject({ actionsLastMinute: 0, replicasAdded: 1 });
    expect([...later.agentsTouched.keys()]).toEqual(['ns/a']);
  });
});

describe('approvals', () => {
  it('needs at least three distinct coordinators even when the mesh asks for fewer', () => {
    const approvers = approversFor({ approvalMode: 'Coordinators', coordinatorApprovals: 1 });
    expect(approvers).toEqual({ human: false, coordinators: 3 });
    const votes = [
      { by: 'coord-a', kind: 'coordinator' as const },
      { by: 'coord-a', kind: 'coordinator' as const },
      { by: 'coord-b', kind: 'coordinator' as const },
    ];
    expect(approvalsSatisfied(approvers, votes)).toBe(false);
    expect(approvalsSatisfied(approvers, [...votes, { by: 'coord-c', kind: 'coordinator' }])).toBe(true);
    // A human cannot stand in where only coordinators may approve.
    expect(approvalsSatisfied(approvers, [{ by: 'alice', kind: 'human' }])).toBe(false);
  });

  it('lets one human approve in Human mode, and not coordinators', () => {
    const approvers = approversFor({ approvalMode: 'Human' });
    expect(approvalsSatisfied(approvers, [{ by: 'alice', kind: 'human' }])).toBe(true);
    expect(approvalsSatisfied(approvers, ['a', 'b', 'c'].map((by) => ({ by, kind: 'coordinator' as const })))).toBe(false);
  });
});
