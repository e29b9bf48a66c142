import { describe, expect, it } from 'vitest';
import { DEFAULT_TRUST_WEIGHTS, type Agent } from '../../crds/types.js';
import {
  NEUTRAL_COMPONENT,
  TRUST_COMPONENTS,
  TRUST_EVIDENCE_ANNOTATION,
  attestationsComponent,
  blendedWeights,
  complianceComponent,
  credentialsComponent,
  historyComponent,
  newAgentInputs,
  trustComponents,
  trustInputsFromAgent,
  trustScore,
  trustTier,
  uptimeComponent,
  weightsVersion,
  type TrustComponents,
  type TrustInputs,
  type TrustWeights,
} from './score.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const DAY = 24 * 3_600_000;
const inputs = (overrides: Partial<TrustInputs> = {}): TrustInputs => ({ ...newAgentInputs(NOW), ...overrides });
const all = (value: number): TrustComponents => ({ credentials: value, history: value, attestations: value, compliance: value, uptime: value });
const defaults: TrustWeights = { ...DEFAULT_TRUST_WEIGHTS };

function agent(overrides: Partial<Agent['spec']> = {}, status?: Agent['status'], annotations?: Record<string, string>): Agent {
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Agent',
    metadata: { name: 'a', namespace: 'ns', ...(annotations ? { annotations } : {}) },
    spec: { meshRef: 'm', runtime: { image: 'x' }, ...overrides },
    ...(status ? { status } : {}),
  } as Agent;
}

describe('new-agent defaults', () => {
  it('scores an agent with no evidence as neutral, compliance clean, credentials zero', () => {
    expect(trustComponents(newAgentInputs(NOW))).toEqual({ credentials: 0, history: NEUTRAL_COMPONENT, attestations: 50, compliance: 100, uptime: NEUTRAL_COMPONENT });
    expect(trustScore(trustComponents(newAgentInputs(NOW)), defaults)).toBe(42.5); // (0*30 + 50*25 + 50*20 + 100*15 + 50*10) / 100
  });

  it('reads a bare Agent into new-agent inputs', () => {
    expect(trustInputsFromAgent(agent(), NOW)).toEqual(newAgentInputs(NOW));
  });
});

describe('credentials', () => {
  it('saturates: one verified 50, two 75, three 87.5; declared-only earns a quarter of a verified one', () => {
    expect(credentialsComponent(inputs({ declaredCertifications: ['A'], verifiedCertifications: ['A'] }))).toBeCloseTo(50);
    expect(credentialsComponent(inputs({ declaredCertifications: ['A', 'B'], verifiedCertifications: ['A', 'B'] }))).toBeCloseTo(75);
    expect(credentialsComponent(inputs({ verifiedCertifications: ['A', 'B', 'C'] }))).toBeCloseTo(87.5);
    expect(credentialsComponent(inputs({ declaredCertifications: ['A'] }))).toBeCloseTo(100 * (1 - 0.5 ** 0.25));
    const many = Array.from({ length: 32 }, (_, i) => `C${i}`);
    expect(credentialsComponent(inputs({ verifiedCertifications: many }))).toBeLessThanOrEqual(100);
  });

  it('counts a certification attested by a registered issuer as verified, not one by an unknown issuer', () => {
    const evidence = { attestations: [{ issuer: 'did:mesh:reg:iso', positive: true, certification: 'ISO-27001' }] };
    const declared = agent({ certifications: ['ISO-27001'] });
    expect(trustInputsFromAgent(declared, NOW, { evidence, registeredIssuers: ['did:mesh:reg:iso'] }).verifiedCertifications).toEqual(['ISO-27001']);
    expect(trustInputsFromAgent(declared, NOW, { evidence }).verifiedCertifications).toEqual([]);
  });
});

describe('history', () => {
  it('never rises with more incidents', () => {
    for (const observed of [{}, { observedUptimePercent: 99.9, uptimeTarget: 99 }]) {
      let previous = Infinity;
      for (let count = 0; count <= 12; count++) {
        const value = historyComponent(inputs({ ...observed, incidentTimesMs: Array.from({ length: count }, (_, i) => NOW - i * DAY) }));
        expect(value).toBeLessThanOrEqual(previous);
        previous = value;
      }
    }
  });

  it('takes a fifth per incident in the window and ignores older ones', () => {
    const base = inputs({ observedUptimePercent: 100, uptimeTarget: 99 });
    expect(historyComponent(base)).toBe(100);
    expect(historyComponent({ ...base, incidentTimesMs: [NOW - DAY] })).toBeCloseTo(80);
    expect(historyComponent({ ...base, incidentTimesMs: [NOW - DAY, NOW - 2 * DAY] })).toBeCloseTo(64);
    expect(historyComponent({ ...base, incidentTimesMs: [NOW - 31 * DAY] })).toBe(100);
  });

  it('measures SLA adherence: latency over the limit and uptime under the target', () => {
    const sla = { maxLatencyMs: 200, uptimeTarget: 99 };
    expect(historyComponent(inputs({ ...sla, observedLatencyMs: 150, observedUptimePercent: 99.5 }))).toBe(100);
    expect(historyComponent(inputs({ ...sla, observedLatencyMs: 300, observedUptimePercent: 99.5 }))).toBeCloseTo(75); // latency 0.5, uptime 1
    expect(historyComponent(inputs({ ...sla, observedLatencyMs: 500, observedUptimePercent: 94 }))).toBeCloseTo(25); // latency 0, uptime 0.5
    expect(historyComponent(inputs({ ...sla, observedLatencyMs: 900, observedUptimePercent: 50 }))).toBe(0);
  });
});

describe('attestations', () => {
  it('gives diminishing returns and weighs a warning double a vouch', () => {
    const vouches = (n: number) => Array.from({ length: n }, (_, i) => ({ issuer: `i${i}`, positive: true, weight: 1 }));
    const one = attestationsComponent(inputs({ attestations: vouches(1) }));
    const two = attestationsComponent(inputs({ attestations: vouches(2) }));
    const three = attestationsComponent(inputs({ attestations: vouches(3) }));
    expect(two - one).toBeLessThan(one - 50);
    expect(three - two).toBeLessThan(two - one);
    const warning = attestationsComponent(inputs({ attestations: [{ issuer: 'x', positive: false, weight: 1 }] }));
    expect(50 - warning).toBeGreaterThan(one - 50);
    expect(attestationsComponent(inputs({ attestations: [...vouches(1), { issuer: 'x', positive: false, weight: 0.5 }] }))).toBeCloseTo(50);
  });

  it('counts only the latest statement of each issuer and clamps weights', () => {
    const flipped = inputs({
      attestations: [
        { issuer: 'a', positive: true, weight: 1, atMs: NOW - 2 * DAY },
        { issuer: 'a', positive: false, weight: 1, atMs: NOW - DAY },
      ],
    });
    expect(attestationsComponent(flipped)).toBeLessThan(50);
    const spam = inputs({ attestations: Array.from({ length: 50 }, () => ({ issuer: 'a', positive: true, weight: 5 })) });
    expect(attestationsComponent(spam)).toBeCloseTo(50 + 50 * Math.tanh(1 / 3));
  });
});

describe('compliance', () => {
  it('drops 30% per fresh violation and recovers as violations age out', () => {
    expect(complianceComponent(inputs())).toBe(100);
    expect(complianceComponent(inputs({ violations: [{ atMs: NOW, severity: 1 }] }))).toBeCloseTo(70);
    expect(complianceComponent(inputs({ violations: [{ atMs: NOW - 7 * DAY, severity: 1 }] }))).toBeCloseTo(100 * 0.7 ** 0.5);
    expect(complianceComponent(inputs({ violations: [{ atMs: NOW - 31 * DAY, severity: 1 }] }))).toBe(100);
    const more = complianceComponent(inputs({ violations: [{ atMs: NOW, severity: 1 }, { atMs: NOW, severity: 1 }] }));
    expect(more).toBeLessThan(70);
  });
});

describe('uptime', () => {
  it('is the observed uptime percent, clamped, or neutral', () => {
    expect(uptimeComponent(inputs({ observedUptimePercent: 99.5 }))).toBe(99.5);
    expect(uptimeComponent(inputs({ observedUptimePercent: 140 }))).toBe(100);
    expect(uptimeComponent(inputs())).toBe(NEUTRAL_COMPONENT);
  });
});

describe('trustComponents', () => {
  it('keeps every component within 0..100 and rounded to 0.1 whatever the evidence', () => {
    const extreme = inputs({
      declaredCertifications: Array.from({ length: 40 }, (_, i) => `c${i}`),
      verifiedCertifications: Array.from({ length: 40 }, (_, i) => `c${i}`),
      incidentTimesMs: Array.from({ length: 500 }, () => NOW),
      attestations: Array.from({ length: 500 }, (_, i) => ({ issuer: `i${i}`, positive: false, weight: 1 })),
      violations: Array.from({ length: 500 }, () => ({ atMs: NOW, severity: 10 })),
      observedUptimePercent: -5,
    });
    const components = trustComponents(extreme);
    for (const component of TRUST_COMPONENTS) {
      expect(components[component]).toBeGreaterThanOrEqual(0);
      expect(components[component]).toBeLessThanOrEqual(100);
      expect(Math.round(components[component] * 10) / 10).toBe(components[component]);
    }
  });
});

describe('trustScore', () => {
  it('is the weighted sum over 100, rounded to 0.1', () => {
    const components: TrustComponents = { credentials: 80, history: 60, attestations: 50, compliance: 100, uptime: 99.9 };
    // 80*30 + 60*25 + 50*20 + 100*15 + 99.9*10 = 7399 -> 73.99 -> 74.0
    expect(trustScore(components, defaults)).toBe(74);
    expect(trustScore(components, { credentials: 100, history: 0, attestations: 0, compliance: 0, uptime: 0 })).toBe(80);
  });

  it('has default weights summing to 100, so all-100 components score 100 and all-0 score 0', () => {
    expect(TRUST_COMPONENTS.reduce((sum, c) => sum + defaults[c], 0)).toBe(100);
    expect(trustScore(all(100), defaults)).toBe(100);
    expect(trustScore(all(0), defaults)).toBe(0);
  });

  it('clamps out-of-range components and survives degenerate weights', () => {
    expect(trustScore(all(250), defaults)).toBe(100);
    expect(trustScore(all(-40), defaults)).toBe(0);
    expect(trustScore(all(70), { credentials: 0, history: 0, attestations: 0, compliance: 0, uptime: 0 })).toBe(0);
  });
});

describe('blendedWeights', () => {
  const next: TrustWeights = { credentials: 10, history: 45, attestations: 20, compliance: 15, uptime: 10 };
  const start = NOW;
  const period = 10 * DAY;

  it('is the old weights at 0%, the midpoint at 50%, the new ones at 100% and beyond', () => {
    expect(blendedWeights(defaults, next, start, period, start)).toEqual(defaults);
    expect(blendedWeights(defaults, next, start, period, start - DAY)).toEqual(defaults);
    expect(blendedWeights(defaults, next, start, period, start + period / 2)).toEqual({ credentials: 20, history: 35, attestations: 20, compliance: 15, uptime: 10 });
    expect(blendedWeights(defaults, next, start, period, start + period)).toEqual(next);
    expect(blendedWeights(defaults, next, start, period, start + 5 * period)).toEqual(next);
  });

  it('switches at once with a zero period', () => {
    expect(blendedWeights(defaults, next, start, 0, start)).toEqual(next);
  });

  it('keeps the sum at 100 and moves the score linearly, never in a jump', () => {
    const components: TrustComponents = { credentials: 90, history: 20, attestations: 50, compliance: 100, uptime: 99 };
    let previous = trustScore(components, defaults);
    for (let step = 1; step <= 100; step++) {
      const weights = blendedWeights(defaults, next, start, period, start + (period * step) / 100);
      expect(TRUST_COMPONENTS.reduce((sum, c) => sum + weights[c], 0)).toBeCloseTo(100);
      const score = trustScore(components, weights);
      expect(Math.abs(score - previous)).toBeLessThanOrEqual(0.6);
      previous = score;
    }
    expect(previous).toBe(trustScore(components, next));
  });
});

describe('weightsVersion', () => {
  it('is stable across calls and key order, and differs between weight sets', () => {
    const shuffled = { uptime: 10, compliance: 15, attestations: 20, history: 25, credentials: 30 };
    expect(weightsVersion(defaults)).toBe(weightsVersion(shuffled));
    expect(weightsVersion(defaults)).toMatch(/^w-[0-9a-f]{10}$/);
    // Pinned: a version recorded in a status must mean the same weights after an upgrade.
    expect(weightsVersion(defaults)).toBe('w-46489379d2');
    expect(weightsVersion({ ...defaults, credentials: 25, history: 30 })).not.toBe(weightsVersion(defaults));
  });
});

describe('trustTier', () => {
  it('bands scores at 40, 70 and 85', () => {
    expect([0, 39.9, 40, 69.9, 70, 84.9, 85, 100].map(trustTier)).toEqual(['low', 'low', 'medium', 'medium', 'high', 'high', 'verified', 'verified']);
  });
});

describe('trustInputsFromAgent', () => {
  it('reads SLA, availability and the evidence annotation, skipping malformed entries', () => {
    const evidence = {
      verifiedCertifications: ['SOC2-Type2', 7],
      incidents: [{ at: '2026-05-30T00:00:00Z' }, { at: 'not a time' }, 'junk'],
      attestations: [{ issuer: 'did:mesh:a:b', positive: true, weight: 0.5, at: '2026-05-01T00:00:00Z' }, { positive: true }],
      violations: [{ at: '2026-05-31T00:00:00Z', severity: 2 }, {}],
    };
    const read = trustInputsFromAgent(
      agent(
        { certifications: ['SOC2-Type2', 'ISO-27001'], sla: { maxLatencyMs: 100, uptimeTarget: 99.9 } },
        { availability: { uptimePercent: 99.95, latencyP50Ms: 40, latencyP95Ms: 90 } },
        { [TRUST_EVIDENCE_ANNOTATION]: JSON.stringify(evidence) },
      ),
      NOW,
    );
    expect(read).toEqual({
      declaredCertifications: ['SOC2-Type2', 'ISO-27001'],
      verifiedCertifications: ['SOC2-Type2'],
      incidentTimesMs: [Date.parse('2026-05-30T00:00:00Z')],
      attestations: [{ issuer: 'did:mesh:a:b', positive: true, weight: 0.5, atMs: Date.parse('2026-05-01T00:00:00Z') }],
      violations: [{ atMs: Date.parse('2026-05-31T00:00:00Z'), severity: 2 }],
      maxLatencyMs: 100,
      uptimeTarget: 99.9,
      observedLatencyMs: 90,
      observedUptimePercent: 99.95,
      nowMs: NOW,
    });
  });

  it('treats an unparseable annotation as no evidence', () => {
    expect(trustInputsFromAgent(agent({}, undefined, { [TRUST_EVIDENCE_ANNOTATION]: '{oops' }), NOW)).toEqual(newAgentInputs(NOW));
  });
});
