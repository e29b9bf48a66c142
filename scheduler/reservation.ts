// Reservations as derived state. The Agent annotation `meshos.dev/reserve-replicas: "<n>"`
// (set by the forecaster or a human) is the only record: when it was set is in the Agent's
// managedFields, and which of the Agent's pods were bound since then is in the cluster. So a
// scheduler that starts (an operator restart, a new leader) rebuilds the holds the previous
// one had: the same expiry, less the replicas that already landed.
import type { KubeObject } from '../operator/kube/object.js';
import { agentKeyOf, type PodObject } from './cluster.js';

/** Agent annotation: reserve room for this many more replicas (a forecast scale-up), for RESERVATION_TTL_MS. */
export const RESERVE_ANNOTATION = 'meshos.dev/reserve-replicas';
export const RESERVATION_TTL_MS = 15 * 60_000;
/**
 * Agent annotation (RFC 3339 time): the reservation was confirmed then, so its lifetime runs from
 * then. A forecaster that still wants the same number sets it to keep the holds past
 * RESERVATION_TTL_MS (writing an unchanged value would not move managedFields).
 */
export const RESERVE_REFRESHED_ANNOTATION = 'meshos.dev/reserve-refreshed-at';
export const MAX_RESERVED_REPLICAS = 10_000;

export interface Reservation {
  /** The annotation's value. */
  replicas: number;
  /** Replicas still to come: `replicas` less the Agent's pods bound since the annotation was set. */
  remaining: number;
  /** When the annotation was set (epoch ms; managedFields has second resolution). */
  setAt: number;
  expiresAt: number;
}

interface ManagedFieldsEntry {
  time?: string;
  fieldsV1?: Record<string, unknown>;
}

/** When `annotation` was last set on the object, from the managedFields entry that owns it; undefined when none says. */
export function annotationSetAt(object: KubeObject, annotation: string): number | undefined {
  const entries = (object.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields ?? [];
  let latest: number | undefined;
  for (const entry of entries) {
    const metadata = entry.fieldsV1?.['f:metadata'] as Record<string, unknown> | undefined;
    const annotations = metadata?.['f:annotations'] as Record<string, unknown> | undefined;
    if (!annotations || !(`f:${annotation}` in annotations) || entry.time === undefined) continue;
    const time = Date.parse(entry.time);
    if (Number.isFinite(time) && (latest === undefined || time > latest)) latest = time;
  }
  return latest;
}

/**
 * The reservation an Agent asks for now, or undefined without the annotation; an error naming
 * the annotation and the rule when its value is not an integer 0..MAX_RESERVED_REPLICAS.
 * `pods` may hold any pods: the Agent's own are picked by their label.
 */
export function reservationOf(agent: KubeObject, pods: Iterable<PodObject>, now: number): Reservation | { error: string } | undefined {
  const value = agent.metadata.annotations?.[RESERVE_ANNOTATION];
  if (value === undefined) return undefined;
  const replicas = Number(value);
  if (value.trim() === '' || !Number.isInteger(replicas) || replicas < 0 || replicas > MAX_RESERVED_REPLICAS) {
    return { error: `annotation ${RESERVE_ANNOTATION} must be an integer 0-${MAX_RESERVED_REPLICAS}, got "${value}"` };
  }
  const refreshed = Date.parse(agent.metadata.annotations?.[RESERVE_REFRESHED_ANNOTATION] ?? '');
  const setAt = Math.max(annotationSetAt(agent, RESERVE_ANNOTATION) ?? now, Number.isFinite(refreshed) && refreshed <= now ? refreshed : -Infinity);
  const key = `${agent.metadata.namespace ?? ''}/${agent.metadata.name ?? ''}`;
  let landed = 0;
  for (const pod of pods) {
    if (agentKeyOf(pod) !== key || !pod.spec?.nodeName || pod.metadata.deletionTimestamp) continue;
    const created = Date.parse(pod.metadata.creationTimestamp ?? '');
    // Both times have second resolution: a pod created in the same second counts as landed.
    if (Number.isFinite(created) && created >= setAt) landed++;
  }
  return { replicas, remaining: Math.max(0, replicas - landed), setAt, expiresAt: setAt + RESERVATION_TTL_MS };
}
