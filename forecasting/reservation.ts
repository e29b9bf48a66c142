// Capacity reservations ahead of forecast peaks, as a pure decision. The scheduler holds room on
// nodes for the number of extra replicas an Agent's `meshos.dev/reserve-replicas` annotation
// names (scheduler/scheduler.ts RESERVE_ANNOTATION); this decides what that number should be, so
// that the pods a coming scale-up creates find room when they arrive.
import { clampReplicas } from './scaling.js';

export interface ReservationInput {
  /** Upper-quantile demand forecast for each step from now to the end of the reservation horizon. */
  upperOverHorizon: readonly number[];
  capacityPerReplica: number;
  /** Replicas the Agent runs (spec.runtime.replicas) now. */
  currentReplicas: number;
  minReplicas: number;
  maxReplicas: number;
}

export interface Reservation {
  /** Extra replicas to hold room for: replicas at the peak minus those running; 0 = no reservation. */
  replicas: number;
  /** Replicas the upper forecast needs at the peak, within min/max. */
  peakReplicas: number;
  /** Upper-forecast demand at the peak, and its step (0 = now). */
  peakDemand: number;
  peakStep: number;
}

/** The reservation the upper forecast calls for: room for the replicas the coming peak needs beyond those running. */
export function plannedReservation(input: ReservationInput): Reservation {
  let peakStep = 0;
  input.upperOverHorizon.forEach((value, i) => (value > (input.upperOverHorizon[peakStep] ?? 0) ? (peakStep = i) : undefined));
  const peakDemand = Math.max(0, input.upperOverHorizon[peakStep] ?? 0);
  const capacity = Math.max(input.capacityPerReplica, Number.MIN_VALUE);
  const peakReplicas = clampReplicas(Math.ceil(peakDemand / capacity - 1e-9), input.minReplicas, input.maxReplicas);
  return { replicas: Math.max(0, peakReplicas - Math.max(0, input.currentReplicas)), peakReplicas, peakDemand, peakStep };
}

/**
 * The annotation change that brings the current value to `wanted`: a string to set, `null` to
 * remove it (nothing to reserve), or undefined when it already says so. A value that is not a
 * non-negative integer (set by hand, wrongly) is replaced.
 */
export function annotationChange(current: string | undefined, wanted: number): string | null | undefined {
  if (wanted <= 0) return current === undefined ? undefined : null;
  const value = String(Math.round(wanted));
  return current === value ? undefined : value;
}

/**
 * Whether a standing reservation of the wanted size should be confirmed again: the scheduler
 * holds room for RESERVATION_TTL_MS from when it was set or last confirmed, so a reservation still
 * wanted is refreshed once half of that has passed. `confirmedAt` undefined (not known): no.
 */
export function reservationNeedsRefresh(confirmedAt: number | undefined, nowMs: number, ttlMs: number): boolean {
  return confirmedAt !== undefined && nowMs - confirmedAt >= ttlMs / 2;
}
