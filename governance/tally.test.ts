import { describe, expect, it } from 'vitest';
import type { Mesh } from '../crds/types.js';
import { governanceRules, type GovernanceRules } from './rules.js';
import { tally, type WeightedVote } from './tally.js';
import { VoterRegistryError, registeredWeight, voterAddress, voterRegistry } from './voters.js';

const defaults: GovernanceRules = { humanWeight: 60, aiWeight: 40, approvalThreshold: 70, vetoThreshold: 80, quorumPercent: undefined };
const h = (voter: string, choice: WeightedVote['choice'], weight = 1): WeightedVote => ({ voter, choice, weight });

describe('tally', () => {
  it('combines human 60 / AI 40 and approves at exactly 70%', () => {
    // humans 1 for / 1 against -> 50% of 60 = 30; AI all for -> 40; total 70%.
    const result = tally({ rules: defaults, human: [h('a', 'for'), h('b', 'against')], ai: [h('x', 'for')], registeredHumanWeight: 2, critical: false });
    expect(result.approvalPercent).toBe(70);
    expect(result.outcome).toBe('Approved');
  });

  it('rejects just below the threshold', () => {
    const result = tally({ rules: defaults, human: [h('a', 'for', 49), h('b', 'against', 51)], ai: [h('x', 'for')], registeredHumanWeight: 100, critical: false });
    expect(result.approvalPercent).toBeCloseTo(69.4, 5);
    expect(result.outcome).toBe('Rejected');
  });

  it('lets an 80% human supermajority against veto whatever the AI says', () => {
    const result = tally({ rules: defaults, human: [h('a', 'for'), h('b', 'against', 4)], ai: [h('x', 'for'), h('y', 'for')], registeredHumanWeight: 5, critical: false });
    expect(result.humanAgainstPercent).toBe(80);
    expect(result.outcome).toBe('Vetoed');
  });

  it('does not veto at 79%', () => {
    const result = tally({ rules: defaults, human: [h('a', 'for', 21), h('b', 'against', 79)], ai: [], registeredHumanWeight: 100, critical: false });
    expect(result.vetoed).toBe(false);
    expect(result.outcome).toBe('Rejected');
  });

  it('makes AI votes advisory on critical proposals', () => {
    const input = { rules: defaults, human: [h('a', 'for', 6), h('b', 'against', 4)], ai: [h('x', 'for'), h('y', 'for')], registeredHumanWeight: 10 };
    expect(tally({ ...input, critical: false }).outcome).toBe('Approved'); // 36 + 40 = 76%
    const critical = tally({ ...input, critical: true });
    expect(critical.ai.counted).toBe(false);
    expect(critical.ai.for).toBe(2);
    expect(critical.approvalPercent).toBe(60);
    expect(critical.outcome).toBe('Rejected');
    expect(critical.reason).toContain('advisory');
  });

  it('never lets AI votes alone decide: no human ballot is no quorum', () => {
    const result = tally({ rules: defaults, human: [], ai: [h('x', 'for')], registeredHumanWeight: 3, critical: false });
    expect(result.quorumMet).toBe(false);
    expect(result.outcome).toBe('Expired');
  });

  it('counts abstentions for quorum but not for approval', () => {
    const rules = { ...defaults, quorumPercent: 50 };
    const below = tally({ rules, human: [h('a', 'for')], ai: [], registeredHumanWeight: 3, critical: false });
    expect(below.outcome).toBe('Expired');
    expect(below.reason).toContain('quorum of 50%');
    const met = tally({ rules, human: [h('a', 'for'), h('b', 'abstain')], ai: [], registeredHumanWeight: 3, critical: false });
    expect(met.quorumMet).toBe(true);
    expect(met.approvalPercent).toBe(100);
    expect(met.outcome).toBe('Approved');
  });

  it('rejects when every ballot abstains', () => {
    const result = tally({ rules: defaults, human: [h('a', 'abstain')], ai: [h('x', 'abstain')], registeredHumanWeight: 1, critical: false });
    expect(result.approvalPercent).toBe(0);
    expect(result.outcome).toBe('Rejected');
  });

  it('scales the human side up when no AI for/against vote was cast', () => {
    const result = tally({ rules: defaults, human: [h('a', 'for', 3), h('b', 'against', 1)], ai: [], registeredHumanWeight: 4, critical: false });
    expect(result.approvalPercent).toBe(75);
    expect(result.outcome).toBe('Approved');
  });

  it('follows configured weights and thresholds', () => {
    const rules = { humanWeight: 100, aiWeight: 0, approvalThreshold: 90, vetoThreshold: 95, quorumPercent: 0 };
    const result = tally({ rules, human: [h('a', 'for', 9), h('b', 'against', 1)], ai: [h('x', 'against')], registeredHumanWeight: 10, critical: false });
    expect(result.ai.counted).toBe(false);
    expect(result.approvalPercent).toBe(90);
    expect(result.outcome).toBe('Approved');
  });

  it('refuses non-positive weights', () => {
    expect(() => tally({ rules: defaults, human: [h('a', 'for', 0)], ai: [], registeredHumanWeight: 1, critical: false })).toThrow(/weight must be a positive/);
  });
});

describe('rules and voter registry', () => {
  const mesh = (governance: NonNullable<Mesh['spec']['governance']>): Mesh => ({ apiVersion: 'meshos.dev/v1alpha1', kind: 'Mesh', metadata: { name: 'm' }, spec: { governance } });

  it('fills in the CRD defaults', () => {
    expect(governanceRules(mesh({}))).toEqual(defaults);
    expect(governanceRules(mesh({ humanWeight: 70, aiWeight: 30, quorumPercent: 20 }))).toMatchObject({ humanWeight: 70, aiWeight: 30, quorumPercent: 20 });
  });

  it('maps addresses, did:ethr and did:pkh to signing addresses', () => {
    const address = '0x' + 'Ab'.repeat(20);
    expect(voterAddress(address)).toBe(address.toLowerCase());
    expect(voterAddress(`did:ethr:0x7a69:${address}`)).toBe(address.toLowerCase());
    expect(voterAddress(`did:pkh:eip155:1:${address}`)).toBe(address.toLowerCase());
    expect(() => voterAddress('did:web:example.com')).toThrow(VoterRegistryError);
  });

  it('builds a registry with default group and weight and rejects duplicates', () => {
    const a = '0x' + '11'.repeat(20);
    const registry = voterRegistry(mesh({ voters: [{ id: a, weight: 3, group: 'council' }, { id: `did:ethr:${'0x' + '22'.repeat(20)}` }] }));
    expect(registry.get(a)).toMatchObject({ weight: 3, group: 'council' });
    expect(registry.get('0x' + '22'.repeat(20))).toMatchObject({ weight: 1, group: 'community' });
    expect(registeredWeight(registry)).toBe(4);
    expect(() => voterRegistry(mesh({ voters: [{ id: a }, { id: `did:ethr:${a}` }] }))).toThrow(/registered twice/);
  });
});
