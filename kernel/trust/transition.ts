// The weights in force for a Mesh, and the gradual transition when governance changes them.
// The state lives in the Mesh's `status.trust` (written only by the trust module), so a
// restarted operator resumes a transition where it was instead of jumping.
import { DEFAULT_TRUST_WEIGHTS, type Mesh } from '../../crds/types.js';
import { parseDuration } from '../../operator/util/duration.js';
import { TRUST_COMPONENTS, blendedWeights, sameWeights, transitionProgress, weightsVersion, type TrustWeights } from './score.js';

/** Mesh `status.trust`: the weights in force and, during a transition, where it started from. */
export interface MeshTrustState {
  /** The target weights (the Mesh's `spec.trust.weights` when the state was written). */
  weights: TrustWeights;
  weightsVersion: string;
  /** Weights in force when the transition started; absent when no transition is in progress. */
  previousWeights?: TrustWeights;
  /** RFC 3339. */
  transitionStartedAt?: string;
  /** Go duration, as in the Mesh spec at the start of the transition. */
  transitionPeriod?: string;
}

/** What the trust module should use for a Mesh now, and whether its status must be rewritten. */
export interface WeightsPlan {
  state: MeshTrustState;
  /** True when `state` differs from what the Mesh status records. */
  stateChanged: boolean;
  /** Weights to score with now (blended during a transition). */
  effectiveWeights: TrustWeights;
  /** `weightsVersion` written to Agents: the weights' hash, or `<old>><new>@<percent>%` during a transition. */
  version: string;
  /** 0..1; 1 when no transition is in progress. */
  progress: number;
  /** Milliseconds until the transition ends; 0 when none is in progress. */
  remainingMs: number;
  /** Length of the transition in progress; 0 when none is. */
  periodMs: number;
}

/** The Mesh's `spec.trust.weights` with the CRD defaults filled in. */
export function specWeights(mesh: Mesh): TrustWeights {
  return { ...DEFAULT_TRUST_WEIGHTS, ...mesh.spec.trust?.weights };
}

function parseWeights(value: unknown): TrustWeights | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const weights = { ...DEFAULT_TRUST_WEIGHTS } as TrustWeights;
  for (const component of TRUST_COMPONENTS) {
    const weight = record[component];
    if (typeof weight !== 'number' || !Number.isFinite(weight)) return undefined;
    weights[component] = weight;
  }
  return weights;
}

/** Reads the Mesh's `status.trust`; undefined when absent or not in the shape this module writes. */
export function meshTrustState(mesh: Mesh): MeshTrustState | undefined {
  const raw = mesh.status?.trust;
  if (!raw) return undefined;
  const weights = parseWeights(raw['weights']);
  if (!weights) return undefined;
  const state: MeshTrustState = { weights, weightsVersion: weightsVersion(weights) };
  const previous = parseWeights(raw['previousWeights']);
  const startedAt = raw['transitionStartedAt'];
  if (previous && typeof startedAt === 'string' && !Number.isNaN(Date.parse(startedAt))) {
    state.previousWeights = previous;
    state.transitionStartedAt = startedAt;
    state.transitionPeriod = typeof raw['transitionPeriod'] === 'string' ? raw['transitionPeriod'] : '0s';
  }
  return state;
}

function periodMsOf(text: string | undefined): number {
  if (text === undefined) return 0;
  try {
    return parseDuration(text);
  } catch {
    return 0; // The CRD pattern rejects bad durations; a stray one switches at once rather than never.
  }
}

function roundWeights(weights: TrustWeights): TrustWeights {
  const rounded = { ...weights };
  for (const component of TRUST_COMPONENTS) rounded[component] = Math.round(weights[component] * 1e4) / 1e4;
  return rounded;
}

function inForce(state: MeshTrustState, nowMs: number): { weights: TrustWeights; progress: number; remainingMs: number; periodMs: number } {
  if (!state.previousWeights || state.transitionStartedAt === undefined) return { weights: state.weights, progress: 1, remainingMs: 0, periodMs: 0 };
  const startedAtMs = Date.parse(state.transitionStartedAt);
  const periodMs = periodMsOf(state.transitionPeriod);
  const progress = transitionProgress(startedAtMs, periodMs, nowMs);
  return {
    weights: blendedWeights(state.previousWeights, state.weights, startedAtMs, periodMs, nowMs),
    progress,
    remainingMs: Math.max(0, startedAtMs + periodMs - nowMs),
    periodMs,
  };
}

/**
 * Decides the weights in force for `mesh` at `nowMs` given the recorded state (`recorded`,
 * usually `meshTrustState(mesh)`):
 * - nothing recorded: the spec weights apply at once (no score existed to jump from);
 * - spec weights differ from the recorded target: a transition starts now, from the weights in
 *   force now (mid-transition too, so a second change never jumps), over `spec.trust.transitionPeriod`
 *   (unset or 0 switches at once);
 * - a transition whose period has passed: it ends and the state drops `previousWeights`.
 */
export function planWeights(mesh: Mesh, recorded: MeshTrustState | undefined, nowMs: number): WeightsPlan {
  const target = specWeights(mesh);
  let state: MeshTrustState;
  let stateChanged = false;
  if (!recorded) {
    state = { weights: target, weightsVersion: weightsVersion(target) };
    stateChanged = true;
  } else if (!sameWeights(recorded.weights, target)) {
    const periodText = mesh.spec.trust?.transitionPeriod;
    state = { weights: target, weightsVersion: weightsVersion(target) };
    if (periodMsOf(periodText) > 0 && periodText !== undefined) {
      state.previousWeights = roundWeights(inForce(recorded, nowMs).weights);
      state.transitionStartedAt = new Date(nowMs).toISOString();
      state.transitionPeriod = periodText;
    }
    stateChanged = true;
  } else if (recorded.previousWeights && inForce(recorded, nowMs).progress >= 1) {
    state = { weights: recorded.weights, weightsVersion: weightsVersion(recorded.weights) };
    stateChanged = true;
  } else {
    state = recorded;
  }
  const current = inForce(state, nowMs);
  const version =
    state.previousWeights && current.progress < 1
      ? `${weightsVersion(state.previousWeights)}>${state.weightsVersion}@${Math.floor(current.progress * 100)}%`
      : state.weightsVersion;
  return {
    state,
    stateChanged,
    effectiveWeights: current.weights,
    version,
    progress: current.progress,
    remainingMs: current.remainingMs,
    periodMs: current.remainingMs > 0 ? current.periodMs : 0,
  };
}
