// A promise-based client of meshos.memory.v1.ContextMemory, for agents' tooling, tests and the benchmark.
import * as grpc from '@grpc/grpc-js';
import type { DeleteRequest, DeleteResponse, GetRequest, GetResponse, ListRequest, ListResponse, PutRequest, PutResponse } from './messages.js';
import { loadMemoryPackageDefinition } from './server.js';

export interface MemoryClientOptions {
  /** Sent as `authorization: Bearer <token>` on every call. */
  readonly token?: string;
  readonly credentials?: grpc.ChannelCredentials;
  /** Per-call deadline (default 10 s). */
  readonly deadlineMillis?: number;
}

type Callback<Response> = (error: grpc.ServiceError | null, response?: Response) => void;
type RawMethod<Request, Response> = (request: Request, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<Response>) => grpc.ClientUnaryCall;

interface RawMemoryClient extends grpc.Client {
  put: RawMethod<PutRequest, PutResponse>;
  get: RawMethod<GetRequest, GetResponse>;
  delete: RawMethod<DeleteRequest, DeleteResponse>;
  list: RawMethod<ListRequest, ListResponse>;
}

export class MemoryClient {
  private readonly raw: RawMemoryClient;

  constructor(
    address: string,
    private readonly options: MemoryClientOptions = {},
  ) {
    const loaded = grpc.loadPackageDefinition(loadMemoryPackageDefinition()) as unknown as {
      meshos: { memory: { v1: { ContextMemory: new (address: string, credentials: grpc.ChannelCredentials) => RawMemoryClient } } };
    };
    this.raw = new loaded.meshos.memory.v1.ContextMemory(address, options.credentials ?? grpc.credentials.createInsecure());
  }

  put(request: Partial<PutRequest> & Pick<PutRequest, 'mesh' | 'key' | 'value'>): Promise<PutResponse> {
    return this.call(this.raw.put, { trustLevel: 0, ttlSeconds: 0, ...request });
  }

  get(request: GetRequest): Promise<GetResponse> {
    return this.call(this.raw.get, request);
  }

  delete(request: DeleteRequest): Promise<DeleteResponse> {
    return this.call(this.raw.delete, request);
  }

  list(request: Partial<ListRequest> & Pick<ListRequest, 'mesh'>): Promise<ListResponse> {
    return this.call(this.raw.list, { prefix: '', pageSize: 0, pageToken: '', ...request });
  }

  close(): void {
    this.raw.close();
  }

  private call<Request, Response>(method: RawMethod<Request, Response>, request: Request): Promise<Response> {
    const metadata = new grpc.Metadata();
    if (this.options.token !== undefined) metadata.set('authorization', `Bearer ${this.options.token}`);
    const deadline = Date.now() + (this.options.deadlineMillis ?? 10_000);
    return new Promise((resolve, reject) => {
      method.call(this.raw, request, metadata, { deadline }, (error, response) => {
        if (error) reject(error);
        else if (response === undefined) reject(new Error('empty response'));
        else resolve(response);
      });
    });
  }
}

/** The gRPC status code of an error from a call, if it has one. */
export function getErrorCode(error: unknown): grpc.status | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number') return error.code;
  return undefined;
}
