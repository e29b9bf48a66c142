import { describe, expect, it } from 'vitest';
import type { Agent, Mesh } from '../crds/types.js';
import { trustTier } from '../kernel/trust/index.js';
import { analyzeImpact } from './impact.js';
import { applyMergePatch, patchedPaths } from './merge-patch.js';
import { complianceVote, economicVote, ethicsVote, metaCoordinatorVote, representativeVotes } from './representatives.js';

const now = new Date('2026-03-01T00:00:00Z');
const mesh: Mesh = { apiVersion: 'meshos.dev/v1alpha1', kind: 'Mesh', metadata: { name: 'm' }, spec: { did: 'did:mesh:t:m' } };

function agent(name: string, certifications: string[], verified: string[], violations: number): Agent {
  const evidence = { verifiedCertifications: verified, violations: Array.from({ length: violations }, () => ({ at: '2026-02-27T00:00:00Z', severity: 2 })) };
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Agent',
    metadata: { name, namespace: 'ns', annotations: { 'trust.meshos.dev/evidence': JSON.stringify(evidence) } },
    spec: { meshRef: 'm', description: 'an agent', certifications, runtime: { image: 'x' } },
  };
}

const agents = [agent('a', ['soc2', 'iso27001', 'hipaa'], ['soc2', 'iso27001', 'hipaa'], 0), agent('b', [], [], 0), agent('c', ['soc2'], ['soc2'], 3), agent('d', ['soc2'], [], 1)];
const weights = (w: Record<string, number>) => ({ spec: { trust: { weights: w } } });

describe('merge patch', () => {
  it('merges, replaces and deletes per RFC 7386 and lists the paths', () => {
    expect(applyMergePatch({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: null, e: 3 }, d: [2] })).toEqual({ a: { c: 2, e: 3 }, d: [2] });
    expect(patchedPaths({ spec: { trust: { weights: { uptime: 5, history: 1 } } } })).toEqual(['spec.trust.weights.uptime', 'spec.trust.weights.history']);
  });
});

describe('analyzeImpact', () => {
  it('recomputes every agent with old and new trust weights and counts tier changes', () => {
    const analysis = analyzeImpact(mesh, agents, weights({ credentials: 5, history: 25, attestations: 20, compliance: 40, uptime: 10 }), now);
    const trust = analysis.trust!;
    expect(trust.agents).toBe(4);
    expect(trust.weightsBefore.credentials).toBe(30);
    expect(trust.weightsAfter.compliance).toBe(40);
    // Independent check: tiers from the reported scores.
    const changed = trust.largest.filter((i) => trustTier(i.before) !== trustTier(i.after)).length;
    expect(trust.tierChanges).toBe(changed);
    expect(trust.upgrades + trust.downgrades).toBe(trust.tierChanges);
    expect(trust.tierChanges).toBeGreaterThan(0);
    expect(trust.maxAbsDelta).toBeGreaterThanOrEqual(trust.meanAbsDelta);
    expect(analysis.summary).toContain(`${trust.tierChanges} of 4 agents change trust tier`);
  });

  it('reports no tier change when the weights stay the same', () => {
    const analysis = analyzeImpact(mesh, agents, weights({ credentials: 30, history: 25, attestations: 20, compliance: 15, uptime: 10 }), now);
    expect(analysis.trust).toMatchObject({ tierChanges: 0, maxAbsDelta: 0 });
  });

  it('flags changes that cannot be applied, naming the field', () => {
    const analysis = analyzeImpact(mesh, agents, weights({ credentials: 50, history: 25, attestations: 20, compliance: 15, uptime: 10 }), now);
    expect(analysis.invalid.join(' ')).toMatch(/spec.trust.weights/);
    expect(analyzeImpact(mesh, agents, { metadata: { name: 'x' } }, now).invalid[0]).toMatch(/metadata.name: a Proposal may only change the Mesh's spec/);
    for (const vote of representativeVotes(analyzeImpact(mesh, agents, { metadata: { name: 'x' } }, now), false)) expect(vote.choice).toBe('against');
  });
});

describe('AI representatives', () => {
  const base = analyzeImpact(mesh, agents, weights({ credentials: 30, history: 25, attestations: 20, compliance: 15, uptime: 10 }), now);
  const withTrust = (t: Partial<NonNullable<typeof base.trust>>) => ({ ...base, trust: { ...base.trust!, ...t } });

  it('meta-coordinator votes by the share of agents changing tier', () => {
    expect(metaCoordinatorVote(withTrust({ agents: 10, tierChanges: 1 })).choice).toBe('for');
    expect(metaCoordinatorVote(withTrust({ agents: 10, tierChanges: 2 })).choice).toBe('abstain');
    const against = metaCoordinatorVote(withTrust({ agents: 10, tierChanges: 4 }));
    expect(against).toMatchObject({ choice: 'against', confidence: 0.8 });
    expect(against.explanation).toContain('4 of 10 agents (40%');
  });

  it('compliance opposes less weight on verifiable evidence and weaker oversight', () => {
    const lower = analyzeImpact(mesh, agents, weights({ credentials: 5, history: 50, attestations: 20, compliance: 15, uptime: 10 }), now);
    expect(complianceVote(lower)).toMatchObject({ choice: 'against' });
    const higher = analyzeImpact(mesh, agents, weights({ credentials: 25, history: 20, attestations: 20, compliance: 25, uptime: 10 }), now);
    expect(complianceVote(higher).choice).toBe('for');
    const oversight = analyzeImpact(mesh, agents, { spec: { governance: { humanWeight: 40, aiWeight: 60 } } }, now);
    expect(complianceVote(oversight).explanation).toContain('60% to 40%');
    expect(ethicsVote(oversight, true)).toMatchObject({ choice: 'against', confidence: 0.95 });
  });

  it('economic opposes when over 20% of agents drop a tier', () => {
    expect(economicVote(withTrust({ agents: 10, downgrades: 3 })).choice).toBe('against');
    expect(economicVote(withTrust({ agents: 10, downgrades: 2 })).choice).toBe('for');
  });

  it('ethics opposes large individual moves and abstains on abrupt tier changes', () => {
    expect(ethicsVote(withTrust({ maxAbsDelta: 16 }), false).choice).toBe('against');
    expect(ethicsVote(withTrust({ maxAbsDelta: 5, tierChanges: 1 }), false).choice).toBe('abstain');
    expect(ethicsVote({ ...withTrust({ maxAbsDelta: 5, tierChanges: 1 }), transitionPeriod: '24h' }, false).choice).toBe('for');
  });
});
