// The server on 127.0.0.1 without a cluster (development mode): the API's shape, codes and paging.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createDiscoveryClient } from '../client.js';
import { ListAgentsRequest, SearchRequest, WatchEvent_Type, type AgentDiscoveryClient, type WatchEvent } from '../generated/meshos/discovery/v1/discovery.js';
import { Catalogue } from '../index/catalogue.js';
import type { AgentEntry } from '../index/entry.js';
import { LiveCatalogue } from '../index/live.js';
import { loadWordVectors } from '../rank/word-vectors.js';
import { startDiscoveryServer, type DiscoveryServer } from './server.js';

function entry(name: string, overrides: Partial<AgentEntry> = {}): AgentEntry {
  return {
    key: `team-a/${name}`, namespace: 'team-a', name, mesh: 'mesh-a', displayName: name, description: 'An agent.', version: '1.0.0', url: 'https://agents.example.com/' + name,
    provider: { organization: 'Example', url: '' }, skills: [], capabilities: ['streaming'], specializations: [], certifications: [], region: '', maxLatencyMs: undefined,
    trustScore: undefined, phase: 'Ready', ready: true, quarantined: false, resourceVersion: '1', ...overrides,
  };
}

let server: DiscoveryServer;
let client: AgentDiscoveryClient;
let live: LiveCatalogue;

beforeAll(async () => {
  live = new LiveCatalogue(new Catalogue({ wordVectors: loadWordVectors() }));
  live.upsert(entry('climate', { description: 'Models climate change scenarios.', trustScore: 80, certifications: ['ISO14001'], maxLatencyMs: 300 }));
  for (let i = 0; i < 15; i++) live.upsert(entry(`helper-${i}`, { description: `Climate helper number ${i}.` }));
  server = await startDiscoveryServer({ live, rateLimit: { ratePerSecond: 1000, burst: 1000 } });
  client = createDiscoveryClient(server.address);
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.close();
});

const search = (request: Partial<Omit<SearchRequest, 'filters'>> & { filters?: Partial<NonNullable<SearchRequest['filters']>> }) => call(client.search.bind(client), SearchRequest.fromPartial(request));
const list = (request: Partial<ListAgentsRequest>) => call(client.listAgents.bind(client), ListAgentsRequest.fromPartial(request));

async function codeOf(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (error) {
    const serviceError = error as grpc.ServiceError;
    return { code: serviceError.code, details: serviceError.details };
  }
  throw new Error('expected the call to fail');
}

describe('discovery server (development mode)', () => {
  it('searches with filters and explains the match', async () => {
    const response = await search({ query: 'climate change', filters: { minTrustScore: 75, certifications: ['ISO14001'], maxLatencyMs: 500 }, limit: 5, pageToken: '', includeUnavailable: false });
    expect(response.results.map((result) => result.agent?.name)).toEqual(['climate']);
    expect(response.results[0]?.explanation).toContain('"climate"');
  });

  it('pages with opaque tokens bound to the query', async () => {
    const base = { query: 'climate helper', limit: 10, pageToken: '', includeUnavailable: false };
    const first = await search(base);
    expect(first.results).toHaveLength(10);
    expect(first.nextPageToken).not.toBe('');
    const second = await search({ ...base, pageToken: first.nextPageToken });
    expect(second.results.length).toBe(6);
    expect(second.nextPageToken).toBe('');
    const overlap = second.results.filter((r) => first.results.some((f) => f.agent?.name === r.agent?.name));
    expect(overlap).toEqual([]);
    const other = await codeOf(search({ ...base, query: 'weather', pageToken: first.nextPageToken }));
    expect(other.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(other.details).toContain('page_token');
  });

  it('answers INVALID_ARGUMENT naming the field for each bad input', async () => {
    const base = { query: 'climate', limit: 10, pageToken: '', includeUnavailable: false };
    const cases: [Parameters<typeof search>[0], string][] = [
      [{ ...base, query: '   ' }, 'query'],
      [{ ...base, limit: 101 }, 'limit'],
      [{ ...base, pageToken: 'bm90LWEtdG9rZW4' }, 'page_token'],
      [{ ...base, pageToken: '%%%' }, 'page_token'],
      [{ ...base, filters: { minTrustScore: 150 } }, 'filters.min_trust_score'],
      [{ ...base, filters: { maxLatencyMs: 0 } }, 'filters.max_latency_ms'],
      [{ ...base, filters: { certifications: [''] } }, 'filters.certifications[0]'],
      [{ ...base, filters: { regions: ['EU West'] } }, 'filters.regions[0]'],
      [{ ...base, filters: { namespaces: ['Bad_NS'] } }, 'filters.namespaces[0]'],
    ];
    for (const [request, field] of cases) {
      const failure = await codeOf(search(request));
      expect(failure.code, field).toBe(grpc.status.INVALID_ARGUMENT);
      expect(failure.details.startsWith(`${field}:`), failure.details).toBe(true);
    }
  });

  it('gets an agent and its A2A AgentCard, NOT_FOUND for unknown ones', async () => {
    const agent = await call(client.getAgent.bind(client), { namespace: 'team-a', name: 'climate' });
    expect(agent.trustScore).toBe(80);
    const card = JSON.parse((await call(client.getAgentCard.bind(client), { namespace: 'team-a', name: 'climate' })).json) as Record<string, unknown>;
    expect(card).toMatchObject({ name: 'climate', description: 'Models climate change scenarios.', url: 'https://agents.example.com/climate', version: '1.0.0', provider: { organization: 'Example' }, capabilities: { streaming: true }, defaultInputModes: ['text/plain'], defaultOutputModes: ['text/plain'], skills: [] });
    expect((await codeOf(call(client.getAgent.bind(client), { namespace: 'team-a', name: 'nope' }))).code).toBe(grpc.status.NOT_FOUND);
    const missing = await codeOf(call(client.getAgent.bind(client), { namespace: '', name: 'x' }));
    expect(missing.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(missing.details).toContain('request.namespace');
  });

  it('lists agents in pages', async () => {
    const first = await list({ pageSize: 10, pageToken: '', includeUnavailable: false });
    const second = await list({ pageSize: 10, pageToken: first.nextPageToken, includeUnavailable: false });
    expect(first.agents.length + second.agents.length).toBe(16);
    expect(second.nextPageToken).toBe('');
    expect((await codeOf(list({ pageSize: 501, pageToken: '', includeUnavailable: false }))).details).toContain('page_size');
  });

  it('streams current agents and changes to watchers', async () => {
    const events: WatchEvent[] = [];
    const stream = client.watch({ filters: { certifications: ['iso14001'], capabilities: [], skillTags: [], regions: [], meshes: [], namespaces: [] }, includeUnavailable: false });
    stream.on('data', (event: WatchEvent) => events.push(event));
    stream.on('error', () => undefined);
    await expect.poll(() => events.length).toBe(1);
    live.upsert(entry('green', { description: 'Green.', certifications: ['ISO-14001'], resourceVersion: '2' }));
    live.remove('team-a/climate');
    await expect.poll(() => events.map((event) => [event.type, event.agent?.name])).toEqual([
      [WatchEvent_Type.ADDED, 'climate'],
      [WatchEvent_Type.ADDED, 'green'],
      [WatchEvent_Type.REMOVED, 'climate'],
    ]);
    stream.cancel();
  });

  it('answers RESOURCE_EXHAUSTED when a client exceeds its rate', async () => {
    const limited = await startDiscoveryServer({ live, rateLimit: { ratePerSecond: 0.5, burst: 2 } });
    const limitedClient = createDiscoveryClient(limited.address);
    try {
      const request = SearchRequest.fromPartial({ query: 'climate' });
      await call(limitedClient.search.bind(limitedClient), request);
      await call(limitedClient.search.bind(limitedClient), request);
      const refused = await codeOf(call(limitedClient.search.bind(limitedClient), request));
      expect(refused.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(refused.details).toContain('rate limit');
    } finally {
      limitedClient.close();
      await limited.close();
    }
  });

  it('refuses to serve without authentication off loopback', async () => {
    await expect(startDiscoveryServer({ live, host: '0.0.0.0' })).rejects.toThrow(/127\.0\.0\.1/);
  });
});
