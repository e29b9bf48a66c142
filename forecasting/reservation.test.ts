import { describe, expect, it } from 'vitest';
import { annotationChange, plannedReservation, reservationNeedsRefresh } from './reservation.js';

const base = { capacityPerReplica: 10, currentReplicas: 2, minReplicas: 1, maxReplicas: 20 };

describe('capacity reservation ahead of a forecast peak', () => {
  it('reserves room for the replicas the upper forecast needs at the peak beyond those running', () => {
    // Peak 95/s at step 3 needs 10 replicas of 10/s; 2 run: room for 8 more.
    expect(plannedReservation({ ...base, upperOverHorizon: [12, 15, 40, 95, 30] })).toEqual({ replicas: 8, peakReplicas: 10, peakDemand: 95, peakStep: 3 });
  });

  it('reserves nothing when the running replicas already cover the peak', () => {
    expect(plannedReservation({ ...base, upperOverHorizon: [12, 20, 18] }).replicas).toBe(0);
    expect(plannedReservation({ ...base, currentReplicas: 12, upperOverHorizon: [50, 95] }).replicas).toBe(0);
    expect(plannedReservation({ ...base, upperOverHorizon: [] }).replicas).toBe(0);
  });

  it('keeps the peak within the Agent max replicas', () => {
    expect(plannedReservation({ ...base, upperOverHorizon: [10, 1000] })).toMatchObject({ replicas: 18, peakReplicas: 20 });
  });

  it('sets, keeps, replaces or removes the annotation', () => {
    expect(annotationChange(undefined, 8)).toBe('8');
    expect(annotationChange('8', 8)).toBeUndefined();
    expect(annotationChange('5', 8)).toBe('8');
    expect(annotationChange('many', 8)).toBe('8');
    expect(annotationChange('8', 0)).toBeNull();
    expect(annotationChange(undefined, 0)).toBeUndefined();
  });

  it('confirms a standing reservation once half of the scheduler\'s hold lifetime has passed, not before', () => {
    const ttl = 15 * 60_000;
    const set = Date.parse('2026-11-23T10:00:00Z');
    expect(reservationNeedsRefresh(set, set + 7 * 60_000, ttl)).toBe(false);
    expect(reservationNeedsRefresh(set, set + 7.5 * 60_000, ttl)).toBe(true);
    expect(reservationNeedsRefresh(undefined, set + 60 * 60_000, ttl)).toBe(false);
  });
});
