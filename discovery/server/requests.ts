// Validation of discovery requests (pure): every rule names the field it checks, and page
// tokens are opaque but bound to the request they continue.
import { createHash } from 'node:crypto';
import type { Filters as ProtoFilters } from '../generated/meshos/discovery/v1/discovery.js';
import { hasFilters, type Filters } from '../index/filters.js';
import { invalid } from './errors.js';

export const MAX_QUERY_LENGTH = 1_000;
export const MAX_SEARCH_LIMIT = 100;
export const DEFAULT_SEARCH_LIMIT = 10;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 100;
/** Deepest result a search pages to: ranking beyond it is noise and costs every page. */
export const MAX_SEARCH_OFFSET = 1_000;
const MAX_FILTER_VALUES = 32;
const MAX_FILTER_VALUE_LENGTH = 253;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Checks the filters of a request and converts them; `field` prefixes messages (e.g. `filters`). */
export function validateFilters(filters: ProtoFilters | undefined, field = 'filters'): Filters {
  if (!filters) return {};
  const result: { -readonly [K in keyof Filters]: Filters[K] } = {};
  if (filters.minTrustScore !== undefined) {
    if (!Number.isFinite(filters.minTrustScore) || filters.minTrustScore < 0 || filters.minTrustScore > 100)
      throw invalid(`${field}.min_trust_score`, `must be between 0 and 100, got ${filters.minTrustScore}`);
    result.minTrustScore = filters.minTrustScore;
  }
  if (filters.maxLatencyMs !== undefined) {
    if (!Number.isInteger(filters.maxLatencyMs) || filters.maxLatencyMs < 1)
      throw invalid(`${field}.max_latency_ms`, `must be a whole number of milliseconds, 1 or more, got ${filters.maxLatencyMs}`);
    result.maxLatencyMs = filters.maxLatencyMs;
  }
  const lists = [
    ['certifications', filters.certifications, undefined],
    ['capabilities', filters.capabilities, undefined],
    ['skill_tags', filters.skillTags, undefined],
    ['regions', filters.regions, DNS1123_LABEL],
    ['meshes', filters.meshes, DNS1123_SUBDOMAIN],
    ['namespaces', filters.namespaces, DNS1123_LABEL],
  ] as const;
  for (const [name, values, pattern] of lists) {
    if (values.length === 0) continue;
    if (values.length > MAX_FILTER_VALUES) throw invalid(`${field}.${name}`, `at most ${MAX_FILTER_VALUES} values, got ${values.length}`);
    values.forEach((value, i) => {
      if (value.trim() === '') throw invalid(`${field}.${name}[${i}]`, 'must not be empty');
      if (value.length > MAX_FILTER_VALUE_LENGTH) throw invalid(`${field}.${name}[${i}]`, `at most ${MAX_FILTER_VALUE_LENGTH} characters`);
      if (pattern && !pattern.test(value)) throw invalid(`${field}.${name}[${i}]`, `"${value}" is not a valid ${name === 'meshes' ? 'DNS-1123 subdomain' : 'DNS-1123 label'} (lower-case letters, digits and -)`);
    });
  }
  if (filters.certifications.length > 0) result.certifications = [...filters.certifications];
  if (filters.capabilities.length > 0) result.capabilities = [...filters.capabilities];
  if (filters.skillTags.length > 0) result.skillTags = [...filters.skillTags];
  if (filters.regions.length > 0) result.regions = [...filters.regions];
  if (filters.meshes.length > 0) result.meshes = [...filters.meshes];
  if (filters.namespaces.length > 0) result.namespaces = [...filters.namespaces];
  return result;
}

export function validateQuery(query: string, filters: Filters): string {
  if (query.length > MAX_QUERY_LENGTH) throw invalid('query', `at most ${MAX_QUERY_LENGTH} characters, got ${query.length}`);
  if (query.trim() === '' && !hasFilters(filters)) throw invalid('query', 'must not be empty when no filters are given');
  return query.trim();
}

export function validateLimit(value: number, field: string, max: number, fallback: number): number {
  if (value === 0) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw invalid(field, `must be between 1 and ${max} (0 means ${fallback}), got ${value}`);
  return value;
}

interface PageTokenBody {
  /** Version, so a future format can reject old tokens cleanly. */
  v: 1;
  /** Where the next page starts. */
  o: number;
  /** Fingerprint of the request the token continues. */
  f: string;
}

/** A stable fingerprint of what a page token must continue: the RPC and its query and filters. */
export function requestFingerprint(rpc: string, parts: unknown): string {
  return createHash('sha256').update(rpc).update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

export function encodePageToken(offset: number, fingerprint: string): string {
  const body: PageTokenBody = { v: 1, o: offset, f: fingerprint };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** The offset a page token points at; 0 for an empty token. */
export function decodePageToken(token: string, fingerprint: string, maxOffset: number): number {
  if (token === '') return 0;
  let body: Partial<PageTokenBody>;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('not base64url');
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<PageTokenBody>;
  } catch {
    throw invalid('page_token', 'is not a token this service issued');
  }
  if (body.v !== 1 || typeof body.o !== 'number' || !Number.isInteger(body.o) || body.o < 0 || body.o > maxOffset || typeof body.f !== 'string')
    throw invalid('page_token', 'is not a token this service issued');
  if (body.f !== fingerprint) throw invalid('page_token', 'belongs to a different query or filters: repeat the request that returned it');
  return body.o;
}
