// `mesh discover "<query>"`: semantic search of agents through the discovery gRPC API.
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { call, createDiscoveryClient } from '../../discovery/client.js';
import { SearchRequest, type SearchResponse } from '../../discovery/generated/meshos/discovery/v1/discovery.js';
import { SilentExit, UsageError, type CliIo } from '../io.js';
import { outputOption, printResult, renderTable as renderRows, type Column } from '../output.js';

/** Where `mesh dev start` and the operator's examples serve discovery. */
export const DEFAULT_DISCOVERY_ADDRESS = '127.0.0.1:50051';

interface DiscoverFlags {
  server: string;
  minTrust?: string;
  cert: string[];
  capability: string[];
  tag: string[];
  region: string[];
  maxLatency?: string;
  mesh: string[];
  namespace: string[];
  limit: string;
  includeUnavailable?: boolean;
  token?: string;
  tokenFile?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  timeout: string;
  /** Where the table and JSON come from: the shared -o of cli/output.ts (table or json here). */
  output: 'table' | 'json';
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function numberFlag(flag: string, value: string | undefined, check: (n: number) => boolean, rule: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || !check(parsed)) throw new UsageError(`${flag} must be ${rule}, got "${value}"`);
  return parsed;
}

/** The request the flags describe; usage errors name the flag. */
export function discoverRequest(query: string, flags: DiscoverFlags): SearchRequest {
  const minTrustScore = numberFlag('--min-trust', flags.minTrust, (n) => n >= 0 && n <= 100, 'a number within 0..100');
  const maxLatencyMs = numberFlag('--max-latency', flags.maxLatency, (n) => Number.isInteger(n) && n >= 1, 'a whole number of milliseconds, 1 or more');
  const limit = numberFlag('--limit', flags.limit, (n) => Number.isInteger(n) && n >= 1 && n <= 100, 'a whole number within 1..100') ?? 10;
  return SearchRequest.fromPartial({
    query,
    limit,
    includeUnavailable: flags.includeUnavailable === true,
    filters: {
      ...(minTrustScore !== undefined ? { minTrustScore } : {}),
      ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
      certifications: flags.cert,
      capabilities: flags.capability,
      skillTags: flags.tag,
      regions: flags.region,
      meshes: flags.mesh,
      namespaces: flags.namespace,
    },
  });
}

function credentials(flags: DiscoverFlags): grpc.ChannelCredentials | undefined {
  if (!flags.tlsCa && !flags.tlsCert) return undefined;
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  return grpc.credentials.createSsl(
    flags.tlsCa ? readFileSync(flags.tlsCa) : null,
    flags.tlsKey ? readFileSync(flags.tlsKey) : null,
    flags.tlsCert ? readFileSync(flags.tlsCert) : null,
  );
}

type Result = SearchResponse['results'][number];
type Row = Result & { rank: number };

export const DISCOVER_COLUMNS: Column<Row>[] = [
  { header: '#', value: (r) => String(r.rank) },
  { header: 'AGENT', value: (r) => `${r.agent?.namespace ?? ''}/${r.agent?.name ?? ''}` },
  { header: 'SCORE', value: (r) => r.score.toFixed(3) },
  { header: 'TRUST', value: (r) => (r.agent?.trustScore === undefined ? '-' : String(Math.round(r.agent.trustScore))) },
  { header: 'LATENCY', value: (r) => (r.agent?.maxLatencyMs === undefined ? '-' : `${r.agent.maxLatencyMs}ms`) },
  { header: 'CERTIFICATIONS', value: (r) => (r.agent?.certifications ?? []).join(',') || '-' },
  { header: 'WHY', value: (r) => r.explanation },
];

const rowsOf = (response: SearchResponse): Row[] => response.results.map((result, i) => ({ ...result, rank: i + 1 }));

export function renderTable(response: SearchResponse): string {
  if (response.results.length === 0) return 'No agents matched.\n';
  return renderRows(rowsOf(response), DISCOVER_COLUMNS);
}

export async function discover(query: string, flags: DiscoverFlags, io: CliIo): Promise<SearchResponse> {
  const timeoutMs = numberFlag('--timeout', flags.timeout, (n) => Number.isInteger(n) && n >= 1, 'a whole number of milliseconds') ?? 10_000;
  const request = discoverRequest(query, flags);
  const token = flags.token ?? (flags.tokenFile ? readFileSync(flags.tokenFile, 'utf8').trim() : process.env['MESH_DISCOVERY_TOKEN']);
  const tls = credentials(flags);
  const client = createDiscoveryClient(flags.server, { ...(token ? { token } : {}), ...(tls ? { credentials: tls } : {}) });
  try {
    const response = await call(client.search.bind(client), request, { deadlineMs: timeoutMs });
    printResult(io, { format: flags.output, rows: rowsOf(response), columns: DISCOVER_COLUMNS, data: response, empty: 'No agents matched.' });
    return response;
  } catch (error) {
    const serviceError = error as Partial<grpc.ServiceError>;
    const code = serviceError.code === undefined ? '' : `${grpc.status[serviceError.code]}: `;
    io.stderr.write(`mesh discover: ${code}${serviceError.details ?? String(error)}\n`);
    throw new SilentExit(1);
  } finally {
    client.close();
  }
}

export function registerDiscoverCommand(program: Command, io: CliIo): void {
  program
    .command('discover')
    .description('Find agents by describing them in plain language, with filters (the discovery gRPC API)')
    .argument('<query>', 'what the agent should do, e.g. "legal document analysis"')
    .option('--server <host:port>', 'discovery service address', process.env['MESH_DISCOVERY_ADDRESS'] ?? DEFAULT_DISCOVERY_ADDRESS)
    .option('--min-trust <score>', 'trust score at least this (0-100)')
    .option('--cert <name>', 'required certification (repeatable; all are required)', collect, [])
    .option('--capability <name>', 'required capability (repeatable; all are required)', collect, [])
    .option('--tag <tag>', 'skill tag (repeatable; any matches)', collect, [])
    .option('--region <region>', 'region (repeatable; any matches)', collect, [])
    .option('--max-latency <ms>', 'SLA latency at most this many milliseconds')
    .option('--mesh <name>', 'mesh (repeatable; any matches)', collect, [])
    .option('--namespace <ns>', 'namespace (repeatable; any matches)', collect, [])
    .option('--limit <n>', 'results to show (1-100)', '10')
    .option('--include-unavailable', 'also show agents that are not Ready or are quarantined')
    .option('--token <token>', 'service-account bearer token (default: $MESH_DISCOVERY_TOKEN)')
    .option('--token-file <path>', 'read the bearer token from this file')
    .option('--tls-ca <file>', 'CA of the server certificate (TLS)')
    .option('--tls-cert <file>', 'client certificate (mTLS)')
    .option('--tls-key <file>', 'client key (mTLS)')
    .option('--timeout <ms>', 'deadline of the call', '10000')
    .addOption(outputOption(['table', 'json']))
    .addHelpText('after', '\nTalks to the discovery gRPC service (--server), not the Kubernetes API: no --kubeconfig; --namespace filters results.\n\nExample:\n  mesh discover "climate change modelling" --min-trust 75 --cert ISO14001 --max-latency 500 -o table')
    .action(async (query: string, flags: DiscoverFlags) => {
      await discover(query, flags, io);
    });
}
