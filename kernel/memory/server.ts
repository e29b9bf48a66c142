// gRPC server of meshos.memory.v1.ContextMemory with grpc.health.v1 and server reflection.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getErrorMessage } from '../../operator/kube/errors.js';
import type { Caller, CallerResolver } from './callers.js';
import type { GetRequest, GetResponse, DeleteRequest, DeleteResponse, ListRequest, ListResponse, PutRequest, PutResponse } from './messages.js';
import { ContextMemory, MemoryError, type ContextMemoryOptions } from './service.js';
import { traceService, type GrpcCallObserver } from '../../operator/tracing.js';

export const MEMORY_SERVICE_NAME = 'meshos.memory.v1.ContextMemory';
// Beside this file when run from source; from dist/kernel/memory the build does not copy
// .proto files, so fall back to the source tree.
const PROTO_ROOT = [new URL('./proto', import.meta.url), new URL('../../../kernel/memory/proto', import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((path) => existsSync(path)) ?? fileURLToPath(new URL('./proto', import.meta.url));
const PROTO_FILES = ['meshos/memory/v1/memory.proto', 'grpc/health/v1/health.proto'];

/** Options shared by server and clients: camelCase fields, int64 as numbers, defaults filled in. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

export function loadMemoryPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(PROTO_FILES, PROTO_LOADER_OPTIONS);
}

export interface MemoryServerOptions extends ContextMemoryOptions {
  readonly resolveCaller: CallerResolver;
  /** Default 127.0.0.1; the port 0 picks a free one. */
  readonly host?: string;
  readonly port?: number;
  readonly credentials?: grpc.ServerCredentials;
  /** Told about every call (for the operator's gRPC metrics). */
  readonly observeCall?: GrpcCallObserver;
  /** How often expired entries are collected (default 60 s; 0 disables the timer). */
  readonly sweepIntervalMillis?: number;
}

export interface MemoryServer {
  /** `host:port` the server listens on. */
  readonly address: string;
  readonly port: number;
  readonly memory: ContextMemory;
  /** Stops accepting calls, waits for running ones, then closes the log. */
  close(): Promise<void>;
}

const statusOf: Record<MemoryError['code'], grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  NOT_FOUND: grpc.status.NOT_FOUND,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
};

function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof MemoryError) return { code: statusOf[error.code], details: error.message };
  return { code: grpc.status.INTERNAL, details: getErrorMessage(error) };
}

/** Wraps a handler: resolves the caller (UNAUTHENTICATED when unknown) and maps errors to status codes. */
function unary<Request, Response>(
  resolveCaller: CallerResolver,
  handler: (caller: Caller, request: Request) => Promise<Response> | Response,
): grpc.handleUnaryCall<Request, Response> {
  return (call, callback) => {
    void (async () => {
      let caller: Caller | undefined;
      try {
        caller = await resolveCaller(call.metadata);
      } catch (error) {
        callback({ code: grpc.status.UNAVAILABLE, details: `caller identity could not be verified: ${getErrorMessage(error)}` });
        return;
      }
      if (caller === undefined) {
        callback({ code: grpc.status.UNAUTHENTICATED, details: 'a valid bearer service-account token is required in the authorization metadata' });
        return;
      }
      try {
        callback(null, await handler(caller, call.request));
      } catch (error) {
        callback(toServiceError(error));
      }
    })();
  };
}

const ms = (value: number | undefined): number => value ?? 0;

/** Opens the memory on its directory (replaying the log) and serves it. */
export async function startMemoryServer(options: MemoryServerOptions): Promise<MemoryServer> {
  const memory = await ContextMemory.open(options);
  const packageDefinition = loadMemoryPackageDefinition();
  const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
    meshos: { memory: { v1: { ContextMemory: grpc.ServiceClientConstructor } } };
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  const server = new grpc.Server();
  const resolve = options.resolveCaller;

  const memoryService = loaded.meshos.memory.v1.ContextMemory.service;
  server.addService(memoryService, traceService(MEMORY_SERVICE_NAME, memoryService, options.observeCall, {
    put: unary<PutRequest, PutResponse>(resolve, async (caller, request) => {
      const result = await memory.put(caller, {
        mesh: request.mesh,
        key: request.key,
        value: request.value,
        trustLevel: request.trustLevel,
        ttlSeconds: request.ttlSeconds,
      });
      return { expiresAtUnixMs: ms(result.expiresAt), evictedCount: result.evicted };
    }),
    get: unary<GetRequest, GetResponse>(resolve, async (caller, request) => {
      const result = await memory.get(caller, request.mesh, request.key);
      return {
        value: result.value,
        trustLevel: result.trustLevel,
        expiresAtUnixMs: ms(result.expiresAt),
        updatedAtUnixMs: result.updatedAt,
        writer: result.writer,
      };
    }),
    delete: unary<DeleteRequest, DeleteResponse>(resolve, async (caller, request) => ({
      deleted: await memory.delete(caller, request.mesh, request.key),
    })),
    list: unary<ListRequest, ListResponse>(resolve, (caller, request) => {
      const result = memory.list(caller, request);
      return {
        entries: result.entries.map((entry) => ({
          key: entry.key,
          trustLevel: entry.trustLevel,
          sizeBytes: entry.sizeBytes,
          expiresAtUnixMs: ms(entry.expiresAt),
          updatedAtUnixMs: entry.updatedAt,
        })),
        nextPageToken: result.nextPageToken,
      };
    }),
  }));

  let serving = true;
  const healthOf = (service: string): string | undefined =>
    service === '' || service === MEMORY_SERVICE_NAME ? (serving ? 'SERVING' : 'NOT_SERVING') : undefined;
  server.addService(loaded.grpc.health.v1.Health.service, {
    check: (call: grpc.ServerUnaryCall<{ service: string }, { status: string }>, callback: grpc.sendUnaryData<{ status: string }>) => {
      const status = healthOf(call.request.service);
      if (status === undefined) callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      else callback(null, { status });
    },
    // Watch sends the current status once and keeps the stream open until the client leaves.
    watch: (call: grpc.ServerWritableStream<{ service: string }, { status: string }>) => {
      call.write({ status: healthOf(call.request.service) ?? 'SERVICE_UNKNOWN' });
    },
  });
  new ReflectionService(packageDefinition).addToServer(server);

  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolvePort, reject) => {
    server.bindAsync(`${host}:${options.port ?? 0}`, options.credentials ?? grpc.ServerCredentials.createInsecure(), (error, bound) => {
      if (error) reject(error);
      else resolvePort(bound);
    });
  });

  const sweepMillis = options.sweepIntervalMillis ?? 60_000;
  const sweeper = sweepMillis > 0 ? setInterval(() => memory.sweep(), sweepMillis) : undefined;
  sweeper?.unref();

  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    memory,
    async close() {
      serving = false;
      if (sweeper) clearInterval(sweeper);
      // Open health watches never end by themselves: cut them after a grace period.
      await new Promise<void>((done) => {
        const force = setTimeout(() => server.forceShutdown(), 2_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          done();
        });
      });
      await memory.close();
    },
  };
}
