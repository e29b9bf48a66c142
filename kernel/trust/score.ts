// Pure trust arithmetic: the five components (each 0..100) of an Agent's trust score, the
// weighted score, weight blending during a governance transition, and the weights version.
// No cluster access here, so the rules are unit-tested and benchmarked on plain data.
import { createHash } from 'node:crypto';
import { verifyAttestation, type AttestationKeys } from './attestations.js';
import type { Agent } from '../../crds/types.js';

export const TRUST_COMPONENTS = ['credentials', 'history', 'attestations', 'compliance', 'uptime'] as const;
export type TrustComponent = (typeof TRUST_COMPONENTS)[number];
/** Percent per component; a Mesh's weights sum to 100 (the CRD enforces it). */
export type TrustWeights = Record<TrustComponent, number>;
export type TrustComponents = Record<TrustComponent, number>;

/** Value of a component for which there is no evidence either way (a new agent's uptime, say). */
export const NEUTRAL_COMPONENT = 50;
/** Incidents older than this no longer count against history. */
export const INCIDENT_WINDOW_MS = 30 * 24 * 3_600_000;
/** Policy violations older than this no longer count against compliance. */
export const VIOLATION_WINDOW_MS = 30 * 24 * 3_600_000;
/** A violation's weight halves every this long, so compliance recovers. */
export const VIOLATION_HALF_LIFE_MS = 7 * 24 * 3_600_000;
/** Annotation carrying the evidence the Agent schema has no field for yet (see README). */
export const TRUST_EVIDENCE_ANNOTATION = 'trust.meshos.dev/evidence';

/** A statement about an agent by another agent or a mesh. */
export interface Attestation {
  /** DID (or name) of whoever made the statement; one issuer counts once (its latest statement). */
  issuer: string;
  /** A vouch (true) or a warning (false). */
  positive: boolean;
  /** Strength in (0, 1]; values outside are clamped. Default 1. */
  weight: number;
  /** When the statement was made (ms since epoch); orders statements of one issuer. */
  atMs?: number;
  /** When set, the statement vouches that the agent holds this certification. */
  certification?: string;
}

/** A policy violation charged to the agent. */
export interface Violation {
  atMs: number;
  /** Multiplier of the penalty (default 1; a severe violation might be 3). */
  severity: number;
}

/** Everything the components are computed from, in plain data. */
export interface TrustInputs {
  /** Certifications the agent declares (`spec.certifications`). */
  declaredCertifications: readonly string[];
  /** Certifications verified by a registrar or attested by a registered issuer. */
  verifiedCertifications: readonly string[];
  /** Times (ms since epoch) of incidents (failures, quarantines) charged to the agent. */
  incidentTimesMs: readonly number[];
  /** `spec.sla.maxLatencyMs`. */
  maxLatencyMs?: number;
  /** `spec.sla.uptimeTarget`, percent. */
  uptimeTarget?: number;
  /** Observed p95 latency (`status.availability.latencyP95Ms`, else p50). */
  observedLatencyMs?: number;
  /** Observed uptime percent (`status.availability.uptimePercent`). */
  observedUptimePercent?: number;
  attestations: readonly Attestation[];
  violations: readonly Violation[];
  /** The time the window rules are evaluated at (ms since epoch). */
  nowMs: number;
}

/** The inputs of an agent nothing is known about yet: every observed component is neutral. */
export function newAgentInputs(nowMs: number, declaredCertifications: readonly string[] = []): TrustInputs {
  return { declaredCertifications, verifiedCertifications: [], incidentTimesMs: [], attestations: [], violations: [], nowMs };
}

const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value));
const round1 = (value: number): number => Math.round(value * 10) / 10;

/**
 * Credentials: each distinct certification earns points, 2 when verified, 0.5 when only
 * declared; the component saturates as 100 * (1 - 0.5^(points / 2)), so one verified
 * certification gives 50, two 75, three 87.5, and one declared-only about 16.
 */
export function credentialsComponent(inputs: TrustInputs): number {
  const verified = new Set(inputs.verifiedCertifications);
  const all = new Set([...inputs.declaredCertifications, ...verified]);
  let points = 0;
  for (const name of all) points += verified.has(name) ? 2 : 0.5;
  return 100 * (1 - 0.5 ** (points / 2));
}

/**
 * Latency adherence in [0, 1]: 1 when observed latency is within `sla.maxLatencyMs`, falling
 * linearly to 0 at twice the limit; 1 (no evidence against) when either value is unknown.
 */
export function latencyAdherence(inputs: TrustInputs): number {
  const { maxLatencyMs, observedLatencyMs } = inputs;
  if (maxLatencyMs === undefined || observedLatencyMs === undefined || maxLatencyMs <= 0) return 1;
  return clamp(1 - (observedLatencyMs - maxLatencyMs) / maxLatencyMs, 0, 1);
}

/**
 * Uptime adherence in [0, 1]: 1 when observed uptime meets `sla.uptimeTarget`; each
 * percentage point below the target costs 0.1, so 10 points short is 0. 1 when unknown.
 */
export function uptimeAdherence(inputs: TrustInputs): number {
  const { uptimeTarget, observedUptimePercent } = inputs;
  if (uptimeTarget === undefined || observedUptimePercent === undefined) return 1;
  return clamp(1 - (uptimeTarget - observedUptimePercent) / 10, 0, 1);
}

/**
 * History: a base times 0.8 per incident in the last 30 days. The base is 100 times the mean
 * of latency and uptime adherence when anything is observed, else neutral 50 (no track
 * record). More incidents never raise it; each removes a fifth of what is left.
 */
export function historyComponent(inputs: TrustInputs): number {
  const observed = inputs.observedLatencyMs !== undefined || inputs.observedUptimePercent !== undefined;
  const base = observed ? (100 * (latencyAdherence(inputs) + uptimeAdherence(inputs))) / 2 : NEUTRAL_COMPONENT;
  const incidents = inputs.incidentTimesMs.filter((at) => at <= inputs.nowMs && inputs.nowMs - at <= INCIDENT_WINDOW_MS).length;
  return base * 0.8 ** incidents;
}

/**
 * Attestations: only each issuer's latest statement counts. Evidence E sums positive weights
 * and subtracts twice the negative ones (a warning weighs double a vouch); the component is
 * 50 + 50 * tanh(E / 3), so it starts neutral and returns diminish (one vouch 66, three 88,
 * one warning 22).
 */
export function attestationsComponent(inputs: TrustInputs): number {
  const latest = new Map<string, Attestation>();
  for (const statement of inputs.attestations) {
    const previous = latest.get(statement.issuer);
    if (!previous || (statement.atMs ?? -Infinity) >= (previous.atMs ?? -Infinity)) latest.set(statement.issuer, statement);
  }
  let evidence = 0;
  for (const statement of latest.values()) {
    const weight = clamp(Number.isFinite(statement.weight) ? statement.weight : 1, 0, 1);
    evidence += statement.positive ? weight : -2 * weight;
  }
  return 50 + 50 * Math.tanh(evidence / 3);
}

/**
 * Compliance: each violation of the last 30 days adds severity * 0.5^(age / 7 days) penalty
 * points P; the component is 100 * 0.7^P, so a clean record is 100, a fresh violation 70,
 * and it recovers as violations age.
 */
export function complianceComponent(inputs: TrustInputs): number {
  let penalty = 0;
  for (const violation of inputs.violations) {
    const age = inputs.nowMs - violation.atMs;
    if (age < 0 || age > VIOLATION_WINDOW_MS) continue;
    penalty += Math.max(0, violation.severity) * 0.5 ** (age / VIOLATION_HALF_LIFE_MS);
  }
  return 100 * 0.7 ** penalty;
}

/** Uptime: the observed uptime percent itself; neutral 50 when nothing is observed yet. */
export function uptimeComponent(inputs: TrustInputs): number {
  return inputs.observedUptimePercent === undefined ? NEUTRAL_COMPONENT : clamp(inputs.observedUptimePercent, 0, 100);
}

/** The five components, each clamped to 0..100 and rounded to 0.1. */
export function trustComponents(inputs: TrustInputs): TrustComponents {
  const raw: TrustComponents = {
    credentials: credentialsComponent(inputs),
    history: historyComponent(inputs),
    attestations: attestationsComponent(inputs),
    compliance: complianceComponent(inputs),
    uptime: uptimeComponent(inputs),
  };
  for (const component of TRUST_COMPONENTS) raw[component] = round1(clamp(raw[component], 0, 100));
  return raw;
}

/**
 * The score: sum of component * weight / 100, rounded to 0.1 and clamped to 0..100. Weights
 * that do not sum to 100 (only possible in blended or hand-built weights) are normalised by
 * their sum, so the score stays a weighted mean.
 */
export function trustScore(components: TrustComponents, weights: TrustWeights): number {
  let total = 0;
  let weightSum = 0;
  for (const component of TRUST_COMPONENTS) {
    const weight = Math.max(0, weights[component]);
    total += clamp(components[component], 0, 100) * weight;
    weightSum += weight;
  }
  if (weightSum <= 0) return 0;
  return clamp(round1(total / weightSum), 0, 100);
}

/**
 * Weights in force `nowMs` during a transition from `previous` to `next` that started at
 * `startedAtMs` and lasts `periodMs`: a linear blend, `previous` at the start, `next` from the
 * end on. A period of 0 (or less) switches at once, as the CRD documents.
 */
export function blendedWeights(previous: TrustWeights, next: TrustWeights, startedAtMs: number, periodMs: number, nowMs: number): TrustWeights {
  const progress = transitionProgress(startedAtMs, periodMs, nowMs);
  const blended = { ...next };
  for (const component of TRUST_COMPONENTS) blended[component] = previous[component] * (1 - progress) + next[component] * progress;
  return blended;
}

/** Fraction (0..1) of a transition elapsed; 1 for a period of 0 or less. */
export function transitionProgress(startedAtMs: number, periodMs: number, nowMs: number): number {
  if (!(periodMs > 0)) return 1;
  return clamp((nowMs - startedAtMs) / periodMs, 0, 1);
}

/** A stable short identifier of a weights set: `w-` and 10 hex digits of a SHA-256 of the canonical form. */
export function weightsVersion(weights: TrustWeights): string {
  const canonical = TRUST_COMPONENTS.map((component) => `${component}=${round1(weights[component])}`).join(',');
  return `w-${createHash('sha256').update(canonical).digest('hex').slice(0, 10)}`;
}

export function sameWeights(a: TrustWeights, b: TrustWeights): boolean {
  return TRUST_COMPONENTS.every((component) => a[component] === b[component]);
}

export const TRUST_TIERS = ['low', 'medium', 'high', 'verified'] as const;
export type TrustTier = (typeof TRUST_TIERS)[number];

/** Coarse band of a score, for impact analysis: low < 40 <= medium < 70 <= high < 85 <= verified. */
export function trustTier(score: number): TrustTier {
  if (score < 40) return 'low';
  if (score < 70) return 'medium';
  if (score < 85) return 'high';
  return 'verified';
}

/** Evidence not (yet) in the Agent schema, from the `trust.meshos.dev/evidence` annotation or another source. */
export interface TrustEvidence {
  verifiedCertifications?: string[];
  /** RFC 3339 times of incidents. */
  incidents?: { at: string }[];
  attestations?: { issuer: string; positive: boolean; weight?: number; at?: string; certification?: string; subject?: string; signature?: string }[];
  violations?: { at: string; severity?: number }[];
}

export interface TrustInputOptions {
  /** Issuers whose attestation of a certification verifies it (registrars, the mesh's own DID). */
  registeredIssuers?: readonly string[];
  /** Evidence from elsewhere; when unset the `trust.meshos.dev/evidence` annotation is read. */
  evidence?: TrustEvidence;
  /**
   * Issuer keys from the Mesh. When given, an attestation counts only if it is signed by its
   * issuer and names this Agent as its subject, and every issuer listed counts as registered.
   */
  attestationKeys?: AttestationKeys;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const timeOf = (value: unknown): number | undefined => {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
};
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Reads the evidence annotation, unchecked (trustInputsFromAgent skips malformed entries); bad JSON is no evidence. */
export function evidenceFromAnnotation(agent: Agent): Record<string, unknown> {
  const text = agent.metadata.annotations?.[TRUST_EVIDENCE_ANNOTATION];
  if (text === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/**
 * The inputs of an Agent's trust score from documented fields: `spec.certifications`,
 * `spec.sla.{maxLatencyMs,uptimeTarget}`, `status.availability.{uptimePercent,latencyP95Ms,
 * latencyP50Ms}`, plus evidence (verified certifications, incidents, attestations, policy
 * violations) from `options.evidence` or the `trust.meshos.dev/evidence` annotation. A new
 * agent with none of these gets `newAgentInputs`: credentials from what it declares, history,
 * attestations and uptime neutral (50), compliance clean (100).
 */
export function trustInputsFromAgent(agent: Agent, nowMs: number, options: TrustInputOptions = {}): TrustInputs {
  const evidence: unknown = options.evidence ?? evidenceFromAnnotation(agent);
  const record = isRecord(evidence) ? evidence : {};
  const registered = new Set([...(options.registeredIssuers ?? []), ...(options.attestationKeys?.keys() ?? [])]);
  const subject = `${agent.metadata.namespace ?? ''}/${agent.metadata.name ?? ''}`;

  const attestations: Attestation[] = [];
  // With issuer keys (the operator's case) a certification is verified only by a signed attestation:
  // a bare claim in the evidence annotation is whatever the Agent's author wrote.
  const verified = new Set(
    options.attestationKeys ? [] : list(record['verifiedCertifications']).filter((name): name is string => typeof name === 'string'),
  );
  for (const entry of list(record['attestations'])) {
    if (!isRecord(entry) || typeof entry['issuer'] !== 'string' || typeof entry['positive'] !== 'boolean') continue;
    if (options.attestationKeys && !verifyAttestation(entry, subject, options.attestationKeys)) continue;
    const attestation: Attestation = { issuer: entry['issuer'], positive: entry['positive'], weight: typeof entry['weight'] === 'number' ? entry['weight'] : 1 };
    const atMs = timeOf(entry['at']);
    if (atMs !== undefined) attestation.atMs = atMs;
    if (typeof entry['certification'] === 'string') {
      attestation.certification = entry['certification'];
      if (entry['positive'] && registered.has(entry['issuer'])) verified.add(entry['certification']);
    }
    attestations.push(attestation);
  }
  const incidentTimesMs = list(record['incidents']).flatMap((entry) => {
    const at = isRecord(entry) ? timeOf(entry['at']) : undefined;
    return at === undefined ? [] : [at];
  });
  const violations = list(record['violations']).flatMap((entry): Violation[] => {
    const at = isRecord(entry) ? timeOf(entry['at']) : undefined;
    if (at === undefined || !isRecord(entry)) return [];
    return [{ atMs: at, severity: typeof entry['severity'] === 'number' ? entry['severity'] : 1 }];
  });

  const inputs: TrustInputs = {
    ...newAgentInputs(nowMs, agent.spec.certifications ?? []),
    verifiedCertifications: [...verified],
    incidentTimesMs,
    attestations,
    violations,
  };
  const sla = agent.spec.sla;
  if (sla?.maxLatencyMs !== undefined) inputs.maxLatencyMs = sla.maxLatencyMs;
  if (sla?.uptimeTarget !== undefined) inputs.uptimeTarget = sla.uptimeTarget;
  const availability = agent.status?.availability;
  const latency = availability?.latencyP95Ms ?? availability?.latencyP50Ms;
  if (latency !== undefined) inputs.observedLatencyMs = latency;
  if (availability?.uptimePercent !== undefined) inputs.observedUptimePercent = availability.uptimePercent;
  return inputs;
}
