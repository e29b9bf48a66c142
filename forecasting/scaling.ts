// Replica decisions, predictive and reactive, as pure functions, plus a replay simulation that
// runs both over a demand series so they can be compared on the same intervals.

export interface PredictiveInput {
  /** Upper-quantile demand forecast for each step from now until new replicas are ready (inclusive). */
  upperOverLead: readonly number[];
  /** Demand observed in the last few intervals (oldest first) and the upper forecasts made for them. */
  recentActual?: readonly number[];
  recentUpper?: readonly number[];
  capacityPerReplica: number;
  minReplicas: number;
  maxReplicas: number;
}

/**
 * Replicas the predictive scaler wants: enough for the highest upper-quantile demand before a
 * scale-up could land. When actual demand beat the upper forecast in every recent interval (the
 * forecast is wrong now, not just noisy), at least enough for the highest recent actual demand:
 * the reactive correction.
 */
export function predictiveReplicas(input: PredictiveInput): number {
  const capacity = Math.max(input.capacityPerReplica, Number.MIN_VALUE);
  let demand = Math.max(0, ...input.upperOverLead);
  const actual = input.recentActual ?? [];
  const upper = input.recentUpper ?? [];
  if (actual.length > 0 && actual.length === upper.length && actual.every((a, i) => a > (upper[i] ?? Infinity))) {
    demand = Math.max(demand, ...actual);
  }
  return clampReplicas(Math.ceil(demand / capacity - 1e-9), input.minReplicas, input.maxReplicas);
}

/**
 * How far above the forecast peak of the lead window to provision: the chosen quantile of the
 * past residuals (highest actual demand in the window - highest point forecast in it), each
 * divided by max(forecast peak, floor)^power. power 0: absolute offsets, 1: relative to the
 * level, 0.5: in between (count-like demand whose noise grows with the square root of the level).
 */
export interface Headroom {
  offset: number;
  power: number;
  floor: number;
}

export function headroomScale(peak: number, headroom: Pick<Headroom, 'power' | 'floor'>): number {
  return Math.max(peak, headroom.floor, Number.MIN_VALUE) ** headroom.power;
}

/** The upper forecast of the highest demand before new replicas are ready: point peak + headroom. */
export function windowUpper(pointOverLead: readonly number[], headroom: Headroom): number {
  const peak = Math.max(0, ...pointOverLead);
  return Math.max(0, peak + headroomScale(peak, headroom) * headroom.offset);
}

/**
 * Error correction of the lead-window forecast: the model's recent one-step errors (actual -
 * forecast), exponentially smoothed, times `gain` are added to every step of the window. It is
 * the continuous form of the reactive correction: when demand has been running above (or below)
 * the forecast, the next forecasts move with it before the quantile headroom is added.
 */
export interface ErrorCorrection {
  /** 0: none; 1: the whole smoothed error. */
  gain: number;
  /** Weight of the newest error in the smoothing, in (0, 1]. */
  smoothing: number;
}

export const NO_CORRECTION: ErrorCorrection = { gain: 0, smoothing: 1 };

/** Smoothed one-step error over `actual` and the one-step forecasts made for the same intervals (oldest first). */
export function smoothedError(actual: readonly number[], oneStep: readonly number[], smoothing: number): number {
  let smoothed = 0;
  actual.forEach((value, i) => (smoothed = smoothing * (value - (oneStep[i] ?? value)) + (1 - smoothing) * smoothed));
  return smoothed;
}

/** A lead-window forecast moved by the corrected error, never below zero. */
export function correctWindow(pointOverLead: readonly number[], error: number, correction: ErrorCorrection): number[] {
  return pointOverLead.map((f) => Math.max(0, f + correction.gain * error));
}

export function clampReplicas(replicas: number, min: number, max: number): number {
  return Math.min(Math.max(replicas, min, 0), Math.max(max, min));
}

/**
 * The HPA's rule: desired = ceil(current x currentUtilisation / targetUtilisation), unchanged
 * while the ratio is within the tolerance (0.1 by default, as in Kubernetes).
 */
export function reactiveReplicas(current: number, demand: number, capacityPerReplica: number, targetUtilisation: number, tolerance = 0.1): number {
  if (current <= 0) return Math.ceil(demand / (capacityPerReplica * targetUtilisation));
  const utilisation = demand / (current * capacityPerReplica);
  const ratio = utilisation / targetUtilisation;
  if (Math.abs(ratio - 1) <= tolerance) return current;
  return Math.ceil(current * ratio - 1e-9);
}

/**
 * Scale-down stabilisation as in the HPA: the recommendation in force is the highest one made
 * within the window, so a brief dip does not remove replicas that are needed again soon.
 */
export class Stabiliser {
  private readonly history: { atMs: number; replicas: number }[] = [];
  constructor(private readonly windowMs: number) {}

  recommend(atMs: number, replicas: number): number {
    this.history.push({ atMs, replicas });
    while (this.history.length > 0 && (this.history[0]?.atMs ?? 0) < atMs - this.windowMs) this.history.shift();
    return Math.max(...this.history.map((h) => h.replicas));
  }
}

export interface ReplayOptions {
  stepMs: number;
  capacityPerReplica: number;
  leadMs: number;
  stabilisationMs: number;
  minReplicas: number;
  maxReplicas: number;
}

export interface ReplayResult {
  intervals: number;
  violations: number;
  slaViolationRate: number;
  replicaHours: number;
}

/**
 * Replays demand over [start, end): at the start of each interval the policy sees the demand of
 * the intervals before it and asks for replicas; more replicas become ready `leadMs` later,
 * fewer take effect at once. An interval whose demand exceeds ready replicas x capacity is an
 * SLA violation. Ready replicas at t = the lowest request over the last lead steps.
 */
export function replay(demand: readonly number[], start: number, end: number, decide: (t: number, current: number) => number, options: ReplayOptions): ReplayResult {
  const leadSteps = Math.max(1, Math.ceil(options.leadMs / options.stepMs));
  const requests: number[] = [];
  let current = clampReplicas(Math.ceil((demand[start - 1] ?? 0) / options.capacityPerReplica), options.minReplicas, options.maxReplicas);
  for (let k = 0; k < leadSteps; k++) requests.push(current);
  let violations = 0;
  let replicaSteps = 0;
  for (let t = start; t < end; t++) {
    const requested = clampReplicas(decide(t, current), options.minReplicas, options.maxReplicas);
    requests.push(requested);
    if (requests.length > leadSteps + 1) requests.shift();
    current = Math.min(...requests);
    if ((demand[t] ?? 0) > current * options.capacityPerReplica) violations++;
    replicaSteps += current;
  }
  const intervals = Math.max(0, end - start);
  return { intervals, violations, slaViolationRate: intervals > 0 ? violations / intervals : 0, replicaHours: (replicaSteps * options.stepMs) / 3_600_000 };
}
