import { afterEach, describe, expect, it } from 'vitest';
import { generatedEntries } from '../../bench/discovery/catalogue.js';
import { readTools, sharedDataPath } from '../quality/metatool.js';
import { loadWordVectors } from '../rank/word-vectors.js';
import { Catalogue, rankedPage, type RankedPage, type SearchQuery } from './catalogue.js';
import { LiveCatalogue } from './live.js';
import { SearchThread, SearchThreadUnavailable } from './search-thread.js';

const root = new URL('../..', import.meta.url).pathname;
const tools = readTools(sharedDataPath(root, 'metatool/tools.json'));
const QUERIES = ['weather forecast for my city', 'translate a document into french', 'find cheap flights', 'stock market prices today', 'generate an image of a cat'];

const threads: SearchThread[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((thread) => thread.close()));
});

async function started(live: LiveCatalogue): Promise<SearchThread> {
  const thread = await SearchThread.start(live);
  threads.push(thread);
  return thread;
}

const ranked = (page: RankedPage): [string, number][] => page.hits.map((hit) => [hit.key, hit.score]);

describe('SearchThread', () => {
  it('ranks exactly as the catalogue does on this thread, filters and visibility included', async () => {
    // More than one initial batch (2,000 agents per message).
    const entries = generatedEntries(tools, 2_500);
    const local = new Catalogue({ wordVectors: loadWordVectors() });
    const live = new LiveCatalogue(new Catalogue({ textIndex: false, packEntries: true }));
    for (const entry of entries) {
      local.upsert(entry);
      live.upsert(entry);
    }
    const thread = await started(live);
    expect(thread.status.size).toBe(2_500);
    const queries: SearchQuery[] = QUERIES.flatMap((text) => [
      { text, filters: {}, offset: 0, limit: 10 },
      { text, filters: { minTrustScore: 60, certifications: ['SOC2'], maxLatencyMs: 1500 }, offset: 5, limit: 5 },
      { text, filters: {}, offset: 0, limit: 10, allowedNamespaces: new Set(['team-1', 'team-2']) },
    ]);
    for (const query of queries) {
      const onThread = await thread.rank(query);
      expect(ranked(onThread)).toEqual(ranked(rankedPage(local.search(query))));
      expect(onThread.hits.length).toBeGreaterThan(0);
    }
  }, 60_000);

  it('sees every change made before a search, and forgets removed agents', async () => {
    const [first, second] = generatedEntries(tools, 2);
    if (!first || !second) throw new Error('no entries');
    const live = new LiveCatalogue(new Catalogue({ textIndex: false, packEntries: true }));
    live.upsert(first);
    const thread = await started(live);
    const query = (text: string): SearchQuery => ({ text, filters: {}, offset: 0, limit: 10 });
    // No waiting between the change and the search: the change goes to the thread first.
    live.upsert({ ...second, description: 'Zanzibar spice route planner', resourceVersion: 'new' });
    expect((await thread.rank(query('zanzibar spice'))).hits[0]?.key).toBe(second.key);
    live.remove(second.key);
    expect((await thread.rank(query('zanzibar spice'))).hits.map((hit) => hit.key)).not.toContain(second.key);
  }, 60_000);

  it('starts a new thread from the live catalogue when the thread dies, losing no change', async () => {
    const entries = generatedEntries(tools, 50);
    const live = new LiveCatalogue(new Catalogue({ textIndex: false, packEntries: true }));
    for (const entry of entries) live.upsert(entry);
    const thread = await started(live);
    const query: SearchQuery = { text: 'weather forecast', filters: {}, offset: 0, limit: 5 };
    expect((await thread.rank(query)).hits.length).toBeGreaterThan(0);
    const inFlight = thread.rank(query);
    // Kill the worker as a crash would (the thread's own handle, for the test only).
    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    // It was answered before the thread went, or fails as unavailable: it never hangs.
    expect(await inFlight.then(() => 'answered', (error: unknown) => (error instanceof SearchThreadUnavailable ? 'unavailable' : error))).toMatch(/^(answered|unavailable)$/);
    // A change made while the new thread starts is not lost.
    const late = { ...(entries[0] as (typeof entries)[number]), key: 'team-9/late', namespace: 'team-9', name: 'late', description: 'Quokka habitat survey', resourceVersion: 'late' };
    live.upsert(late);
    const local = new Catalogue({ wordVectors: loadWordVectors() });
    for (const entry of [...entries, late]) local.upsert(entry);
    expect(ranked(await thread.rank(query))).toEqual(ranked(rankedPage(local.search(query))));
    expect((await thread.rank({ ...query, text: 'quokka habitat' })).hits[0]?.key).toBe('team-9/late');
    expect(thread.status.restarts).toBe(1);
    await thread.close();
    await expect(thread.rank(query)).rejects.toBeInstanceOf(SearchThreadUnavailable);
  }, 60_000);
});
