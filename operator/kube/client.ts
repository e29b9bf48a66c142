import { Agent, type Dispatcher } from 'undici';
import { ApiError } from './errors.js';
import type { ClusterConnection } from './config.js';
import type { KubeObject, ObjectList } from './object.js';
import { collectionPath, objectPath, type ResourceType } from './resources.js';
import { TokenBucket } from '../ratelimit/token-bucket.js';

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions {
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface ClientOptions {
  /** Overall request rate towards the API server (like client-go's QPS/Burst). */
  qps?: number;
  burst?: number;
  /** Parallel connections (HTTP/1.1; watches hold one each). */
  connections?: number;
  userAgent?: string;
  /** Called after each request with its verb and HTTP status (0 when it failed without one). */
  onResponse?: (verb: string, statusCode: number) => void;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * A small Kubernetes REST client over undici with keep-alive connections and a client-side
 * token bucket. It speaks JSON only and maps failures to ApiError with the server's reason,
 * so controllers can branch on NotFound / Conflict / Gone.
 */
export class KubeClient {
  private readonly dispatcher: Agent;
  private readonly throttle: TokenBucket;
  private headers: Record<string, string>;
  readonly server: string;
  private readonly origin: string;

  constructor(
    private readonly connection: ClusterConnection,
    private readonly options: ClientOptions = {},
  ) {
    this.server = connection.server;
    this.origin = new URL(connection.server).origin;
    const connect: Record<string, unknown> = { rejectUnauthorized: connection.rejectUnauthorized };
    if (connection.ca !== undefined) connect['ca'] = connection.ca;
    if (connection.cert !== undefined) connect['cert'] = connection.cert;
    if (connection.key !== undefined) connect['key'] = connection.key;
    this.dispatcher = new Agent({
      connect,
      connections: options.connections ?? 64,
      keepAliveTimeout: 30_000,
      // Watches are long-lived streams: no body timeout; the watch loop has its own liveness check.
      bodyTimeout: 0,
      headersTimeout: 60_000,
    });
    this.throttle = new TokenBucket(options.qps ?? 500, options.burst ?? 1000);
    this.headers = {
      accept: 'application/json',
      'user-agent': options.userAgent ?? 'meshos-operator',
      ...connection.headers,
    };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** Aborts every in-flight request and connection; used when a process is going away. */
  async destroy(): Promise<void> {
    await this.dispatcher.destroy();
  }

  private url(path: string, query?: Query): string {
    const url = new URL(this.server + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  private async send(method: Dispatcher.HttpMethod, path: string, options: RequestOptions): Promise<Dispatcher.ResponseData> {
    await this.throttle.take();
    const headers: Record<string, string> = { ...this.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await this.dispatcher.request({
      origin: this.origin,
      path: this.url(path, options.query).slice(this.origin.length),
      method,
      headers,
      body: body ?? null,
      signal: options.signal ?? null,
    });
    this.options.onResponse?.(options.query?.['watch'] ? 'WATCH' : method, response.statusCode);
    if (response.statusCode === 401 && this.connection.refreshHeaders) {
      // Expired token: refresh once for the next call; this one still fails with 401.
      this.headers = { ...this.headers, ...(await this.connection.refreshHeaders()) };
    }
    return response;
  }

  /** Sends one request and parses the JSON answer; non-2xx becomes ApiError. */
  async request<T>(method: Dispatcher.HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    const text = await response.body.text();
    if (response.statusCode >= 200 && response.statusCode < 300) {
      return (text === '' ? undefined : JSON.parse(text)) as T;
    }
    throw toApiError(method, path, response.statusCode, text);
  }

  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>('GET', objectPath(type, namespace, name));
  }

  list<T extends KubeObject>(type: ResourceType, namespace?: string, options: ListOptions = {}): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>('GET', collectionPath(type, namespace), { query: { ...options } });
  }

  create<T extends KubeObject>(type: ResourceType, object: T, options: { fieldManager?: string } = {}): Promise<T> {
    return this.request<T>('POST', collectionPath(type, object.metadata.namespace), {
      body: object,
      query: { fieldManager: options.fieldManager },
    });
  }

  replace<T extends KubeObject>(type: ResourceType, object: T, subresource?: string): Promise<T> {
    const name = object.metadata.name ?? '';
    return this.request<T>('PUT', objectPath(type, object.metadata.namespace, name, subresource), { body: object });
  }

  patch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    options: { patchType?: PatchType; subresource?: string; fieldManager?: string; force?: boolean } = {},
  ): Promise<T> {
    const patchType = options.patchType ?? 'merge';
    return this.request<T>('PATCH', objectPath(type, namespace, name, options.subresource), {
      body: patch,
      contentType: patchContentTypes[patchType],
      query: { fieldManager: options.fieldManager, force: options.force },
    });
  }

  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    options: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' } = {},
  ): Promise<unknown> {
    return this.request('DELETE', objectPath(type, namespace, name), {
      body: options.propagationPolicy ? { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: options.propagationPolicy } : undefined,
    });
  }

  /**
   * Opens a watch and yields its events as they arrive. Ends when the server closes the
   * stream (timeoutSeconds) or the signal aborts; an HTTP error (410 included) throws ApiError.
   */
  async *watch<T>(type: ResourceType, namespace: string | undefined, options: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    const { signal, ...query } = options;
    const response = await this.send('GET', collectionPath(type, namespace), {
      query: { watch: true, ...query },
      ...(signal ? { signal } : {}),
    });
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const text = await response.body.text();
      throw toApiError('GET', collectionPath(type, namespace) + '?watch=1', response.statusCode, text);
    }
    let buffered = '';
    try {
      for await (const chunk of response.body) {
        buffered += (chunk as Buffer).toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== '') yield JSON.parse(line) as WatchEvent<T>;
        }
      }
    } finally {
      response.body.destroy();
    }
  }
}

interface StatusBody {
  kind?: string;
  reason?: string;
  message?: string;
  details?: unknown;
}

function toApiError(method: string, path: string, statusCode: number, text: string): ApiError {
  let status: StatusBody = {};
  try {
    status = JSON.parse(text) as StatusBody;
  } catch {
    status = { message: text.slice(0, 500) };
  }
  const message = status.message ?? `${method} ${path} failed with HTTP ${statusCode}`;
  return new ApiError(statusCode, status.reason ?? '', message, status.details);
}
