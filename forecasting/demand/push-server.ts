// The demand push API, for Agents that cannot be scraped:
//   POST /v1/demand/<namespace>/<agent>  {"samples": [{"time": "<RFC 3339>", "value": <requests/s>}, ...]}
// Answers 204 on success, 400 naming the field on bad input, 404 for an unknown Agent, 503 when
// this operator replica does not hold the histories (not the leader).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemandSample {
  timeMs: number;
  value: number;
}

/** What the push API writes into. */
export interface DemandSink {
  /** False while this replica is not the one recording demand. */
  readonly accepting: boolean;
  /** Whether an Agent with autoscaling exists under this key. */
  knows(namespace: string, name: string): boolean;
  push(namespace: string, name: string, samples: readonly DemandSample[]): void;
}

export class DemandInputError extends Error {
  override name = 'DemandInputError';
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_SAMPLES = 100_000;

/** Validates a push body; errors name the offending field. */
export function parsePushBody(body: unknown): DemandSample[] {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { samples?: unknown }).samples)) {
    throw new DemandInputError('body must be a JSON object with a "samples" array');
  }
  const samples = (body as { samples: unknown[] }).samples;
  if (samples.length > MAX_SAMPLES) throw new DemandInputError(`samples: at most ${MAX_SAMPLES} per request, got ${samples.length}`);
  return samples.map((sample, i) => {
    if (typeof sample !== 'object' || sample === null) throw new DemandInputError(`samples[${i}] must be an object with time and value`);
    const { time, value } = sample as { time?: unknown; value?: unknown };
    const timeMs = typeof time === 'number' ? time * 1000 : typeof time === 'string' ? Date.parse(time) : Number.NaN;
    if (!Number.isFinite(timeMs)) throw new DemandInputError(`samples[${i}].time must be an RFC 3339 string or Unix seconds`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new DemandInputError(`samples[${i}].value must be a number >= 0 (requests per second)`);
    return { timeMs, value };
  });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.byteLength;
    if (size > MAX_BODY_BYTES) throw new DemandInputError(`body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startDemandServer(host: string, port: number, sink: DemandSink): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const answer = (code: number, message?: string): void => {
      response.writeHead(code, { 'content-type': 'text/plain' });
      response.end(message === undefined ? undefined : `${message}\n`);
    };
    const match = /^\/v1\/demand\/([a-z0-9][-a-z0-9.]*)\/([a-z0-9][-a-z0-9.]*)$/.exec(new URL(request.url ?? '/', 'http://localhost').pathname);
    if (!match) return answer(404, 'not found: POST /v1/demand/<namespace>/<agent>');
    if (request.method !== 'POST') return answer(405, 'method not allowed: use POST');
    const [, namespace = '', name = ''] = match;
    readBody(request)
      .then((text) => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new DemandInputError('body is not valid JSON');
        }
        const samples = parsePushBody(body);
        if (!sink.accepting) return answer(503, 'this operator replica is not recording demand (not the leader); retry');
        if (!sink.knows(namespace, name)) return answer(404, `Agent ${namespace}/${name} not found or its spec.autoscaling is not enabled`);
        sink.push(namespace, name, samples);
        answer(204);
      })
      .catch((error: unknown) => answer(error instanceof DemandInputError ? 400 : 500, error instanceof Error ? error.message : String(error)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
