// The gRPC server of meshos.discovery.v1.AgentDiscovery, with grpc.health.v1 and server
// reflection (from the generated descriptor set, so grpcurl list/describe work).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getErrorMessage } from '../../operator/kube/errors.js';
import type { Logger } from '../../operator/log.js';
import { traceService, type GrpcCallObserver } from '../../operator/tracing.js';
import { HealthCheckResponse_ServingStatus, HealthService, type HealthCheckRequest, type HealthCheckResponse } from '../generated/grpc/health/v1/health.js';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import {
  AgentDiscoveryService,
  SearchResponse,
  SearchResult,
  WatchEvent_Type,
  type Agent as AgentMessage,
  type AgentCard,
  type AgentDiscoveryServer,
  type GetAgentCardRequest,
  type GetAgentRequest,
  type ListAgentsRequest,
  type ListAgentsResponse,
  type SearchRequest,
  type WatchEvent,
  type WatchRequest,
} from '../generated/meshos/discovery/v1/discovery.js';
import { rankedPage, type RankedPage, type Ranker, type SearchQuery } from '../index/catalogue.js';
import { SearchThreadUnavailable } from '../index/search-thread.js';
import type { AgentEntry } from '../index/entry.js';
import { entryMatches } from '../index/filters.js';
import type { LiveCatalogue } from '../index/live.js';
import type { Authenticator, Principal, Visibility } from './auth.js';
import { agentCard, agentMessage, explain } from './convert.js';
import { DiscoveryError, invalid } from './errors.js';
import { ClientRateLimiter, type RateLimitOptions } from './rate-limit.js';
import {
  DEFAULT_PAGE_SIZE,
  DEFAULT_SEARCH_LIMIT,
  MAX_PAGE_SIZE,
  MAX_SEARCH_LIMIT,
  MAX_SEARCH_OFFSET,
  decodePageToken,
  encodePageToken,
  requestFingerprint,
  validateFilters,
  validateLimit,
  validateQuery,
} from './requests.js';

/** What every server call offers (grpc-js does not export the type from its index). */
type SurfaceCall = grpc.ServerUnaryCall<unknown, unknown>;

export const DISCOVERY_SERVICE_NAME = 'meshos.discovery.v1.AgentDiscovery';

/** Transport limits, set on purpose: requests are small, pages of agents can be large. */
export const SERVER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 256 * 1024,
  'grpc.max_send_message_length': 16 * 1024 * 1024,
  // Ping idle clients every 2 minutes and drop those that do not answer in 20 s; accept
  // client pings no more often than every 10 s (gRPC's keepalive guidance).
  'grpc.keepalive_time_ms': 120_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  'grpc.max_concurrent_streams': 256,
  // Recycle connections every 30 minutes so clients rebalance across replicas.
  'grpc.max_connection_age_ms': 30 * 60_000,
  'grpc.max_connection_age_grace_ms': 30_000,
  // No channelz service is served, so its per-call bookkeeping (counters, timestamps, call
  // tracking) is pure cost on every call.
  'grpc.enable_channelz': 0,
};

/**
 * A SearchResponse written around agents already encoded (the catalogue holds them so):
 * each result's other fields through the generated encoder, then its agent's bytes as field
 * 1. Fields may come in any order on the wire; the result decodes to the same message.
 * A hit whose agent was removed since it was ranked is left out.
 */
export function encodeSearchResponse(page: RankedPage, encodedAgent: (key: string) => Uint8Array | undefined, nextPageToken: string): Uint8Array {
  const writer = responseWriter;
  try {
    for (const hit of page.hits) {
      const agent = encodedAgent(hit.key);
      if (!agent) continue;
      writer.uint32(10).fork();
      SearchResult.encode({ agent: undefined, score: hit.score, explanation: explain(hit), matchedTerms: [...hit.matchedTerms], semanticSimilarity: hit.semantic }, writer);
      writer.uint32(10).bytes(agent);
      writer.join();
    }
    if (nextPageToken !== '') writer.uint32(18).string(nextPageToken);
  } catch (error) {
    writer.finish(); // leaves the shared writer empty for the next response
    throw error;
  }
  return writer.finish();
}

/**
 * One writer for every search response (encoding is synchronous): its buffer grows to the
 * largest response once and is reused, where a new writer doubles its way up from a few
 * bytes, allocating and copying, for every response.
 */
const responseWriter = new BinaryWriter();

/** The service with Search answering pre-encoded responses (`encodeSearchResponse`) as they are. */
const DISCOVERY_SERVICE = {
  ...AgentDiscoveryService,
  search: {
    ...AgentDiscoveryService.search,
    responseSerialize: (value: SearchResponse | Uint8Array): Buffer =>
      value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : Buffer.from(SearchResponse.encode(value).finish()),
  },
} as const;

function descriptorSetPath(): string {
  // Beside this file from source; from dist/discovery/server fall back to the source tree.
  const candidates = [new URL('../generated/discovery.desc', import.meta.url), new URL('../../../discovery/generated/discovery.desc', import.meta.url)].map((url) => fileURLToPath(url));
  return candidates.find((path) => existsSync(path)) ?? (candidates[0] as string);
}

export interface DiscoveryServerOptions {
  readonly live: LiveCatalogue;
  /** `undefined` only in development mode, which is refused unless `host` is a loopback address. */
  readonly authenticator?: Authenticator;
  readonly host?: string;
  readonly port?: number;
  /** TLS (with client certificates for mTLS); insecure when absent. */
  readonly credentials?: grpc.ServerCredentials;
  readonly rateLimit?: RateLimitOptions;
  readonly logger?: Logger;
  readonly ranker?: Ranker;
  /** Ranks a search; the live catalogue's own search when absent (`SearchThread.rank` ranks on a thread). */
  readonly rank?: (query: SearchQuery) => Promise<RankedPage>;
  /** Counts and times every call (the operator's gRPC metrics), and traces it when tracing is on. */
  readonly observeCall?: GrpcCallObserver;
}

export interface DiscoveryServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function toStatus(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof DiscoveryError) return { code: error.grpcStatus, details: error.message };
  if (error instanceof SearchThreadUnavailable) return { code: grpc.status.UNAVAILABLE, details: error.message };
  return { code: grpc.status.INTERNAL, details: getErrorMessage(error) };
}

function deadlinePassed(call: SurfaceCall): boolean {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) && at > 0 && at <= Date.now();
}

function allowedNamespaces(visibility: Visibility): ReadonlySet<string> | undefined {
  return visibility.all ? undefined : visibility.namespaces;
}

export async function startDiscoveryServer(options: DiscoveryServerOptions): Promise<DiscoveryServer> {
  const host = options.host ?? '127.0.0.1';
  const { live } = options;
  const catalogue = live.catalogue;
  const logger = options.logger;
  const authenticate: Authenticator =
    options.authenticator ??
    (() => {
      if (!LOOPBACK.has(host)) throw new Error(`discovery without authentication is allowed on 127.0.0.1 only, not on ${host}`);
      return () => Promise.resolve({ id: 'anonymous', visibility: () => Promise.resolve({ all: true } as const) });
    })();
  if (!options.rank && !catalogue.hasTextIndex) throw new Error('the live catalogue keeps no text index: pass `rank` (its SearchThread.rank)');
  const rank = options.rank ?? ((query: SearchQuery) => Promise.resolve(rankedPage(catalogue.search(query))));
  const limiter = new ClientRateLimiter(options.rateLimit ?? { ratePerSecond: 200, burst: 400 });

  /** Authenticates, rate-limits and checks the deadline before the handler runs. */
  const admit = async (call: SurfaceCall): Promise<Principal> => {
    const principal = await authenticate({ metadata: call.metadata, peerCertificate: call.getAuthContext()?.sslPeerCertificate });
    if (!limiter.tryTake(principal.id)) throw new DiscoveryError('RESOURCE_EXHAUSTED', `rate limit of ${options.rateLimit?.ratePerSecond ?? 200} calls per second exceeded for ${principal.id}; retry with backoff`);
    if (deadlinePassed(call)) throw new DiscoveryError('DEADLINE_EXCEEDED', 'the deadline passed before the call was served');
    return principal;
  };

  const unary =
    <Request, Response>(handler: (principal: Principal, request: Request, call: grpc.ServerUnaryCall<Request, Response>) => Promise<Response> | Response): grpc.handleUnaryCall<Request, Response> =>
    (call, callback) => {
      void (async () => {
        try {
          const principal = await admit(call);
          const response = await handler(principal, call.request, call);
          // Work done after the caller gave up is not sent as if it were in time.
          if (deadlinePassed(call)) callback({ code: grpc.status.DEADLINE_EXCEEDED, details: 'the deadline passed while the call was served' });
          else callback(null, response);
        } catch (error) {
          callback(toStatus(error));
        }
      })();
    };

  const visibleEntry = async (principal: Principal, namespace: string, name: string, what: string): Promise<AgentEntry> => {
    if (namespace === '') throw invalid(`${what}.namespace`, 'is required');
    if (name === '') throw invalid(`${what}.name`, 'is required');
    const visibility = await principal.visibility([namespace]);
    if (!visibility.all && !visibility.namespaces.has(namespace)) throw new DiscoveryError('PERMISSION_DENIED', `${principal.id} may not list agents in namespace ${namespace}`);
    const entry = catalogue.get(`${namespace}/${name}`);
    if (!entry) throw new DiscoveryError('NOT_FOUND', `agent ${namespace}/${name} not found`);
    return entry;
  };

  const implementation: AgentDiscoveryServer = {
    // Answers the encoded message (see DISCOVERY_SERVICE's serializer for Search).
    search: unary<SearchRequest, SearchResponse>(async (principal, request) => {
      const filters = validateFilters(request.filters);
      const query = validateQuery(request.query, filters);
      const limit = validateLimit(request.limit, 'limit', MAX_SEARCH_LIMIT, DEFAULT_SEARCH_LIMIT);
      const fingerprint = requestFingerprint('Search', [query, filters, request.includeUnavailable]);
      const offset = decodePageToken(request.pageToken, fingerprint, MAX_SEARCH_OFFSET);
      const visibility = await principal.visibility(live.namespaces());
      const namespaces = allowedNamespaces(visibility);
      const page = await rank({
        text: query,
        filters,
        includeUnavailable: request.includeUnavailable,
        ...(namespaces ? { allowedNamespaces: namespaces } : {}),
        offset,
        limit,
        ...(options.ranker ? { ranker: options.ranker } : {}),
      });
      const next = offset + limit;
      const encoded = encodeSearchResponse(page, (key) => catalogue.encodedAgent(key), page.more && next <= MAX_SEARCH_OFFSET ? encodePageToken(next, fingerprint) : '');
      return encoded as unknown as SearchResponse;
    }),

    getAgent: unary<GetAgentRequest, AgentMessage>(async (principal, request) => agentMessage(await visibleEntry(principal, request.namespace, request.name, 'request'))),

    listAgents: unary<ListAgentsRequest, ListAgentsResponse>(async (principal, request) => {
      const filters = validateFilters(request.filters);
      const pageSize = validateLimit(request.pageSize, 'page_size', MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE);
      const fingerprint = requestFingerprint('ListAgents', [filters, request.includeUnavailable]);
      const offset = decodePageToken(request.pageToken, fingerprint, Number.MAX_SAFE_INTEGER);
      const namespaces = allowedNamespaces(await principal.visibility(live.namespaces()));
      const page = catalogue.filterPage(filters, { includeUnavailable: request.includeUnavailable, ...(namespaces ? { allowedNamespaces: namespaces } : {}) }, offset, pageSize);
      return { agents: page.entries.map(agentMessage), nextPageToken: offset + pageSize < page.total ? encodePageToken(offset + pageSize, fingerprint) : '' };
    }),

    getAgentCard: unary<GetAgentCardRequest, AgentCard>(async (principal, request) => ({
      json: JSON.stringify(agentCard(await visibleEntry(principal, request.namespace, request.name, 'request'))),
    })),

    watch: (call: grpc.ServerWritableStream<WatchRequest, WatchEvent>) => {
      void (async () => {
        let principal: Principal;
        let filters;
        try {
          principal = await admit(call);
          filters = validateFilters(call.request.filters);
        } catch (error) {
          call.emit('error', toStatus(error));
          return;
        }
        const include = call.request.includeUnavailable;
        const visible = new Map<string, boolean>();
        const maySee = async (namespace: string): Promise<boolean> => {
          const known = visible.get(namespace);
          if (known !== undefined) return known;
          const visibility = await principal.visibility([namespace]);
          const allowed = visibility.all || visibility.namespaces.has(namespace);
          visible.set(namespace, allowed);
          return allowed;
        };
        // Events are written in order: each waits for the access check of the one before.
        let chain = Promise.resolve();
        const unsubscribe = live.subscribe((type, entry, previous) => {
          chain = chain.then(async () => {
            if (call.cancelled || !(await maySee(entry.namespace))) return;
            const now = entryMatches(entry, filters, include);
            const before = previous !== undefined && type !== 'ADDED' && entryMatches(previous, filters, include);
            let eventType: WatchEvent_Type | undefined;
            if (type === 'REMOVED') eventType = before ? WatchEvent_Type.REMOVED : undefined;
            else if (now) eventType = before ? WatchEvent_Type.UPDATED : WatchEvent_Type.ADDED;
            else if (before) eventType = WatchEvent_Type.REMOVED;
            if (eventType !== undefined) call.write({ type: eventType, agent: agentMessage(entry) });
          }).catch(() => undefined);
        });
        call.on('cancelled', unsubscribe);
        call.on('close', unsubscribe);
        try {
          const namespaces = allowedNamespaces(await principal.visibility(live.namespaces()));
          for (const entry of catalogue.filter(filters, { includeUnavailable: include, ...(namespaces ? { allowedNamespaces: namespaces } : {}) })) {
            call.write({ type: WatchEvent_Type.ADDED, agent: agentMessage(entry) });
          }
        } catch (error) {
          unsubscribe();
          call.emit('error', toStatus(error));
        }
      })();
    },
  };

  const server = new grpc.Server(SERVER_CHANNEL_OPTIONS);
  server.addService(DISCOVERY_SERVICE, traceService(DISCOVERY_SERVICE_NAME, DISCOVERY_SERVICE, options.observeCall, implementation));

  let serving = true;
  const healthOf = (service: string): HealthCheckResponse_ServingStatus | undefined =>
    service === '' || service === DISCOVERY_SERVICE_NAME ? (serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING) : undefined;
  server.addService(HealthService, {
    check: (call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: grpc.sendUnaryData<HealthCheckResponse>) => {
      const status = healthOf(call.request.service);
      if (status === undefined) callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      else callback(null, { status });
    },
    // Sends the current status and keeps the stream open until the client leaves.
    watch: (call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
      call.write({ status: healthOf(call.request.service) ?? HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN });
    },
  });
  const descriptors = protoLoader.loadFileDescriptorSetFromBuffer(readFileSync(descriptorSetPath()));
  new ReflectionService(descriptors).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`, options.credentials ?? grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!options.authenticator) logger?.warn({ address }, `Serving agent discovery on ${address} WITHOUT authentication (development mode, loopback only)`);
  else logger?.info({ address }, `Serving agent discovery on ${address}`);

  return {
    address,
    port,
    async close() {
      serving = false;
      await new Promise<void>((done) => {
        // Watches never end by themselves: cut them after a grace period.
        const force = setTimeout(() => server.forceShutdown(), 2_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          done();
        });
      });
    },
  };
}
