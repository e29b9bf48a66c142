import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../operator/kube/object.js';
import type { PodObject } from './cluster.js';
import { RESERVATION_TTL_MS, RESERVE_ANNOTATION, RESERVE_REFRESHED_ANNOTATION, annotationSetAt, reservationOf } from './reservation.js';

const setAt = Date.parse('2026-11-23T10:00:00Z');

function agent(value: string | undefined, managedFields: unknown[] = []): KubeObject {
  return { metadata: { name: 'burst', namespace: 'ns', ...(value !== undefined ? { annotations: { [RESERVE_ANNOTATION]: value } } : {}), managedFields } as KubeObject['metadata'] };
}

const owner = (time: string, annotation = RESERVE_ANNOTATION) => ({ manager: 'forecaster', operation: 'Apply', time, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:annotations': { [`f:${annotation}`]: {} } } } });

function pod(name: string, created: string, nodeName?: string, agentName = 'burst'): PodObject {
  return { metadata: { name, namespace: 'ns', creationTimestamp: created, labels: { 'meshos.dev/agent': agentName } }, spec: nodeName ? { nodeName } : {} };
}

describe('reservations as derived state', () => {
  it('reads when the annotation was set from the managedFields entry that owns it', () => {
    const object = agent('3', [owner('2026-11-23T09:00:00Z', 'other'), owner('2026-11-23T10:00:00Z'), { manager: 'x', time: '2026-11-23T11:00:00Z', fieldsV1: { 'f:spec': {} } }]);
    expect(annotationSetAt(object, RESERVE_ANNOTATION)).toBe(setAt);
    expect(annotationSetAt(agent('3'), RESERVE_ANNOTATION)).toBeUndefined();
  });

  it('keeps the expiry of the original request and subtracts the replicas that landed since', () => {
    const object = agent('3', [owner('2026-11-23T10:00:00Z')]);
    const pods = [
      pod('old', '2026-11-23T09:59:00Z', 'n1'), // before the request: not part of the scale-up
      pod('new-1', '2026-11-23T10:00:00Z', 'n2'), // same second: landed
      pod('new-2', '2026-11-23T10:05:00Z'), // pending: still needs its hold
      pod('other', '2026-11-23T10:05:00Z', 'n3', 'other'),
    ];
    expect(reservationOf(object, pods, setAt + 60_000)).toEqual({ replicas: 3, remaining: 2, setAt, expiresAt: setAt + RESERVATION_TTL_MS });
    // Without managedFields (an object from an old API server), the request counts from now.
    const now = setAt + 3_600_000;
    expect(reservationOf(agent('2'), [], now)).toEqual({ replicas: 2, remaining: 2, setAt: now, expiresAt: now + RESERVATION_TTL_MS });
  });

  it('runs the lifetime from a refresh, but not from a refresh time in the future', () => {
    const refreshedAt = (time: string): KubeObject => {
      const object = agent('2', [owner('2026-11-23T10:00:00Z')]);
      object.metadata.annotations = { ...object.metadata.annotations, [RESERVE_REFRESHED_ANNOTATION]: time };
      return object;
    };
    const now = Date.parse('2026-11-23T10:20:00Z');
    const refreshed = reservationOf(refreshedAt('2026-11-23T10:10:00Z'), [pod('early', '2026-11-23T10:05:00Z', 'n1')], now);
    expect(refreshed).toMatchObject({ setAt: Date.parse('2026-11-23T10:10:00Z'), expiresAt: Date.parse('2026-11-23T10:10:00Z') + RESERVATION_TTL_MS, remaining: 2 });
    expect(reservationOf(refreshedAt('2026-11-23T11:00:00Z'), [], now)).toMatchObject({ setAt });
    expect(reservationOf(refreshedAt('not a time'), [], now)).toMatchObject({ setAt });
  });

  it('rejects a value that is not an integer 0-10000, naming the annotation', () => {
    for (const value of ['', '-1', '2.5', 'many', '10001']) expect(reservationOf(agent(value), [], setAt)).toEqual({ error: expect.stringContaining(`annotation ${RESERVE_ANNOTATION} must be an integer 0-10000`) as unknown });
    expect(reservationOf(agent(undefined), [], setAt)).toBeUndefined();
  });
});
