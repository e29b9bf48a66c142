import { describe, expect, it } from 'vitest';
import { generatedEntries } from '../../bench/discovery/catalogue.js';
import { SearchResponse } from '../generated/meshos/discovery/v1/discovery.js';
import { decodeAgent, encodeAgent } from '../index/agent-message.js';
import type { RankedPage } from '../index/catalogue.js';
import { readTools, sharedDataPath } from '../quality/metatool.js';
import { agentMessage, explain } from './convert.js';
import { encodeSearchResponse } from './server.js';

const root = new URL('../..', import.meta.url).pathname;
const entries = generatedEntries(readTools(sharedDataPath(root, 'metatool/tools.json')), 20);

describe('agents as protobuf bytes', () => {
  it('decode to the entries they were encoded from', () => {
    for (const entry of [...entries, { ...(entries[0] as (typeof entries)[number]), provider: { organization: 'Acme', url: '' }, maxLatencyMs: 0, trustScore: undefined }]) {
      expect(decodeAgent(encodeAgent(entry))).toEqual(entry);
    }
  });

  it('make a search response that decodes to the message the generated encoder makes, removed agents left out', () => {
    const byKey = new Map(entries.map((entry) => [entry.key, encodeAgent(entry)]));
    const page: RankedPage = {
      hits: [...entries.slice(0, 5).map((entry, i) => ({ key: entry.key, score: 2 - i / 10, lexical: 0.5, semantic: 0.25 * i, matchedTerms: i % 2 ? ['weather'] : [], trustScore: entry.trustScore })), { key: 'gone/agent', score: 0.1, lexical: 0, semantic: 0, matchedTerms: [], trustScore: 50 }],
      more: true,
    };
    const decoded = SearchResponse.decode(encodeSearchResponse(page, (key) => byKey.get(key), 'token-1'));
    const expected: SearchResponse = {
      results: page.hits.slice(0, 5).map((hit, i) => ({ agent: agentMessage(entries[i] as (typeof entries)[number]), score: hit.score, explanation: explain(hit), matchedTerms: [...hit.matchedTerms], semanticSimilarity: hit.semantic })),
      nextPageToken: 'token-1',
    };
    expect(decoded).toEqual(SearchResponse.decode(SearchResponse.encode(expected).finish()));
    expect(decoded.results).toHaveLength(5);
  });

  it('start every response empty, also after one failed half-way (the writer is shared)', () => {
    const byKey = new Map(entries.map((entry) => [entry.key, encodeAgent(entry)]));
    const hit = (i: number) => ({ key: (entries[i] as (typeof entries)[number]).key, score: 1, lexical: 1, semantic: 0.5, matchedTerms: ['weather'], trustScore: 80 });
    const one: RankedPage = { hits: [hit(0)], more: false };
    const alone = encodeSearchResponse(one, (key) => byKey.get(key), '');
    expect(() =>
      encodeSearchResponse({ hits: [hit(1), hit(2)], more: false }, (key) => {
        if (key === hit(2).key) throw new Error('agent store failed');
        return byKey.get(key);
      }, ''),
    ).toThrow('agent store failed');
    expect(encodeSearchResponse(one, (key) => byKey.get(key), '')).toEqual(alone);
    expect(SearchResponse.decode(alone).results).toHaveLength(1);
  });
});
