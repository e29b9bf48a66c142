import { describe, expect, it } from 'vitest';
import { Filters as ProtoFilters } from '../generated/meshos/discovery/v1/discovery.js';
import { DiscoveryError } from './errors.js';
import { ClientRateLimiter } from './rate-limit.js';
import { decodePageToken, encodePageToken, requestFingerprint, validateFilters, validateLimit, validateQuery } from './requests.js';

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DiscoveryError);
    expect((error as DiscoveryError).code).toBe('INVALID_ARGUMENT');
    return (error as DiscoveryError).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('request validation', () => {
  it('converts valid filters', () => {
    expect(validateFilters(ProtoFilters.fromPartial({ minTrustScore: 75, certifications: ['ISO14001'], maxLatencyMs: 500, skillTags: ['legal'] }))).toEqual({
      minTrustScore: 75,
      certifications: ['ISO14001'],
      maxLatencyMs: 500,
      skillTags: ['legal'],
    });
  });

  it('names the field and the rule of each bad input', () => {
    expect(messageOf(() => validateFilters(ProtoFilters.fromPartial({ minTrustScore: 101 })))).toMatch(/^filters\.min_trust_score: must be between 0 and 100/);
    expect(messageOf(() => validateFilters(ProtoFilters.fromPartial({ maxLatencyMs: 0 })))).toMatch(/^filters\.max_latency_ms:/);
    expect(messageOf(() => validateFilters(ProtoFilters.fromPartial({ meshes: ['ok', 'Not_OK'] })))).toMatch(/^filters\.meshes\[1\]:/);
    expect(messageOf(() => validateFilters(ProtoFilters.fromPartial({ skillTags: Array.from({ length: 33 }, (_, i) => `t${i}`) })))).toMatch(/^filters\.skill_tags: at most 32/);
    expect(messageOf(() => validateQuery('  ', {}))).toMatch(/^query: must not be empty when no filters/);
    expect(validateQuery('', { minTrustScore: 50 })).toBe('');
    expect(messageOf(() => validateLimit(101, 'limit', 100, 10))).toMatch(/^limit: must be between 1 and 100/);
    expect(validateLimit(0, 'limit', 100, 10)).toBe(10);
  });

  it('accepts its own page tokens for the same request only', () => {
    const fingerprint = requestFingerprint('Search', ['climate', {}]);
    expect(decodePageToken(encodePageToken(20, fingerprint), fingerprint, 1000)).toBe(20);
    expect(decodePageToken('', fingerprint, 1000)).toBe(0);
    expect(messageOf(() => decodePageToken(encodePageToken(20, fingerprint), requestFingerprint('Search', ['weather', {}]), 1000))).toMatch(/^page_token: belongs to a different query/);
    expect(messageOf(() => decodePageToken('garbage!', fingerprint, 1000))).toMatch(/^page_token:/);
    expect(messageOf(() => decodePageToken(encodePageToken(5000, fingerprint), fingerprint, 1000))).toMatch(/^page_token:/);
  });
});

describe('ClientRateLimiter', () => {
  it('refuses a client past its burst and refills over time, per client', () => {
    let now = 0;
    const limiter = new ClientRateLimiter({ ratePerSecond: 2, burst: 2, now: () => now });
    expect([limiter.tryTake('a'), limiter.tryTake('a'), limiter.tryTake('a')]).toEqual([true, true, false]);
    expect(limiter.tryTake('b')).toBe(true);
    now += 500;
    expect(limiter.tryTake('a')).toBe(true);
    expect(limiter.tryTake('a')).toBe(false);
  });
});
