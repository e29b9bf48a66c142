import { describe, expect, it } from 'vitest';
import type { Agent } from '../crds/types.js';
import { testAgent } from '../test/support/fixtures.js';
import { POLICY_VIOLATION_ANNOTATION, QUARANTINE_CONDITION, QUARANTINE_OVERRIDE_ANNOTATION, quarantineDecision, quarantinePolicy } from './quarantine.js';
import { badness, emptyHealth, recordRevision, rollbackVerdict, sampleHealth, type Revision } from './rollback.js';

const agent = (score: number | undefined, quarantined: boolean, annotations: Record<string, string> = {}): Agent => {
  const a = testAgent('ns', 'a', 'm');
  a.metadata.annotations = annotations;
  a.metadata.uid = 'uid-a';
  a.status = {
    ...(score !== undefined ? { trust: { score } } : {}),
    conditions: quarantined ? [{ type: QUARANTINE_CONDITION, status: 'True', reason: 'LowTrust', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] : [],
  };
  return a;
};

describe('quarantineDecision', () => {
  it('quarantines below the threshold and on a flagged policy violation', () => {
    expect(quarantineDecision(agent(40, false), 50)).toMatchObject({ action: 'quarantine' });
    expect(JSON.stringify(quarantineDecision(agent(40, false), 50))).toContain('below');
    expect(quarantineDecision(agent(90, false, { [POLICY_VIOLATION_ANNOTATION]: 'exfiltration' }), 50)).toMatchObject({ action: 'quarantine', reason: 'policy violation: exfiltration' });
    expect(quarantineDecision(agent(60, false), 50)).toEqual({ action: 'none' });
    expect(quarantineDecision(agent(10, false), undefined)).toEqual({ action: 'none' });
  });
  it('releases only a margin above the threshold, or at once on an operator override', () => {
    expect(quarantineDecision(agent(52, true), 50)).toEqual({ action: 'none' });
    expect(quarantineDecision(agent(56, true), 50)).toMatchObject({ action: 'release' });
    expect(quarantineDecision(agent(10, true, { [QUARANTINE_OVERRIDE_ANNOTATION]: 'release' }), 50)).toMatchObject({ action: 'release' });
    expect(JSON.stringify(quarantineDecision(agent(10, true, { [QUARANTINE_OVERRIDE_ANNOTATION]: 'release' }), 50))).toContain('override');
    expect(quarantineDecision(agent(10, false, { [QUARANTINE_OVERRIDE_ANNOTATION]: 'release' }), 50)).toEqual({ action: 'none' });
  });
  it('isolates the Agent pods with a deny-all NetworkPolicy owned by the Agent', () => {
    const policy = quarantinePolicy(agent(10, false), 'meshos.dev/agent') as { spec: Record<string, unknown>; metadata: { name: string } };
    expect(policy.metadata.name).toBe('a-quarantine');
    expect(policy.spec).toEqual({ podSelector: { matchLabels: { 'meshos.dev/agent': 'a' } }, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] });
  });
});

describe('rollback', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const healthy = (ms: number) => sampleHealth(emptyHealth(), { desired: 2, ready: 2, restartsDelta: 0, elapsedMs: ms });
  it('starts a revision per distinct runtime and keeps the last ten', () => {
    let history: Revision[] = [];
    for (let i = 0; i < 12; i++) history = recordRevision(history, `h${i}`, { image: `img:${i}` }, now);
    history = recordRevision(history, 'h11', { image: 'img:11' }, now);
    expect(history).toHaveLength(10);
    expect(history.at(-1)?.revision).toBe(12);
  });
  it('rolls back a revision that is clearly less healthy after the window, and says why', () => {
    let history = recordRevision([], 'good', { image: 'good' }, now);
    history[0] = { ...history[0]!, health: healthy(120_000) };
    history = recordRevision(history, 'bad', { image: 'bad' }, now);
    let bad = emptyHealth();
    for (let i = 0; i < 12; i++) bad = sampleHealth(bad, { desired: 2, ready: 0, restartsDelta: 1, elapsedMs: 5000 });
    history[1] = { ...history[1]!, health: bad };
    expect(rollbackVerdict(history, 120_000)).toMatchObject({ rollback: false, reason: 'verification window not over' });
    history[1] = { ...history[1], health: sampleHealth(bad, { desired: 2, ready: 0, restartsDelta: 0, elapsedMs: 60_000 }) };
    const verdict = rollbackVerdict(history, 120_000);
    expect(verdict).toMatchObject({ rollback: true, to: { revision: 1 } });
    expect(verdict.reason).toContain('replicas not ready');
    expect(badness(healthy(60_000))).toBe(0);
  });
  it('keeps a revision as healthy as the previous one', () => {
    let history = recordRevision([], 'a', {}, now);
    history[0] = { ...history[0]!, health: healthy(120_000) };
    history = recordRevision(history, 'b', { x: 1 }, now);
    history[1] = { ...history[1]!, health: healthy(130_000) };
    expect(rollbackVerdict(history, 120_000).rollback).toBe(false);
  });
});
