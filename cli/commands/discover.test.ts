import { describe, expect, it } from 'vitest';
import { UsageError } from '../io.js';
import { discoverRequest, renderTable } from './discover.js';

const flags = { server: '127.0.0.1:1', cert: [], capability: [], tag: [], region: [], mesh: [], namespace: [], limit: '10', timeout: '1000', output: 'table' as const };

describe('mesh discover', () => {
  it('turns flags into a filtered search', () => {
    const request = discoverRequest('legal document analysis', { ...flags, minTrust: '75', cert: ['ISO14001'], maxLatency: '500' });
    expect(request).toMatchObject({ query: 'legal document analysis', limit: 10, filters: { minTrustScore: 75, certifications: ['ISO14001'], maxLatencyMs: 500 } });
  });

  it('names the flag of a bad value', () => {
    expect(() => discoverRequest('x', { ...flags, minTrust: '120' })).toThrow(UsageError);
    expect(() => discoverRequest('x', { ...flags, minTrust: '120' })).toThrow(/--min-trust/);
    expect(() => discoverRequest('x', { ...flags, maxLatency: 'fast' })).toThrow(/--max-latency/);
    expect(() => discoverRequest('x', { ...flags, limit: '0' })).toThrow(/--limit/);
  });

  it('renders a table', () => {
    const table = renderTable({
      results: [{ agent: { namespace: 'ns', name: 'a', trustScore: 80, maxLatencyMs: 300, certifications: ['ISO14001'] } as never, score: 1.5, explanation: 'matched "legal"', matchedTerms: ['legal'], semanticSimilarity: 0.5 }],
      nextPageToken: '',
    });
    expect(table).toContain('ns/a');
    expect(table).toContain('ISO14001');
    expect(table).toContain('matched "legal"');
    expect(renderTable({ results: [], nextPageToken: '' })).toBe('No agents matched.\n');
  });
});
