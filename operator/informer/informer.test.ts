import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/object.js';
import { CoreResources } from '../kube/resources.js';
import { Informer } from './informer.js';

/**
 * A scripted fake of the list and watch endpoints, enough to drive the informer through
 * 410 Gone, silent streams and dropped connections deterministically. The real API server
 * cases are in informer.int.test.ts.
 */
class FakeApiServer {
  readonly server: Server;
  objects = new Map<string, KubeObject>();
  resourceVersion = 100;
  lists = 0;
  watches: { rv: string; response: ServerResponse }[] = [];
  /** What the next watch request gets. */
  nextWatch: 'stream' | 'gone-status' | 'gone-event' | 'silent' = 'stream';

  constructor() {
    this.server = createServer((request, response) => this.handle(request, response));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const w of this.watches) w.response.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  put(name: string, data: Record<string, string> = {}): KubeObject {
    this.resourceVersion++;
    const object = { metadata: { name, namespace: 'ns', resourceVersion: String(this.resourceVersion) }, data } as KubeObject;
    const type = this.objects.has(name) ? 'MODIFIED' : 'ADDED';
    this.objects.set(name, object);
    this.broadcast({ type, object });
    return object;
  }

  remove(name: string): void {
    const object = this.objects.get(name);
    if (!object) return;
    this.objects.delete(name);
    this.resourceVersion++;
    this.broadcast({ type: 'DELETED', object: { ...object, metadata: { ...object.metadata, resourceVersion: String(this.resourceVersion) } } });
  }

  /** Changes state without telling open watches, as if their events were lost. */
  putSilently(name: string): void {
    this.resourceVersion++;
    this.objects.set(name, { metadata: { name, namespace: 'ns', resourceVersion: String(this.resourceVersion) } });
  }

  dropWatches(): void {
    for (const w of this.watches.splice(0)) w.response.destroy();
  }

  broadcast(event: unknown): void {
    for (const w of this.watches) w.response.write(JSON.stringify(event) + '\n');
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://x');
    if (url.searchParams.get('watch') !== 'true') {
      this.lists++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ metadata: { resourceVersion: String(this.resourceVersion) }, items: [...this.objects.values()] }));
      return;
    }
    const mode = this.nextWatch;
    this.nextWatch = 'stream';
    if (mode === 'gone-status') {
      response.writeHead(410, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    if (mode === 'gone-event') {
      response.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } }) + '\n');
      return;
    }
    response.flushHeaders();
    if (mode === 'silent') return; // holds the stream open and never writes: a dead connection
    this.watches.push({ rv: url.searchParams.get('resourceVersion') ?? '', response });
  }
}

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Informer (against a scripted API)', () => {
  let fake: FakeApiServer;
  let stop: AbortController;
  let client: KubeClient;

  const start = async (options: ConstructorParameters<typeof Informer>[2] = {}) => {
    fake = new FakeApiServer();
    const server = await fake.start();
    client = new KubeClient({ server, rejectUnauthorized: false, headers: {} });
    const informer = new Informer<KubeObject>(client, CoreResources.configMap, { random: () => 0, ...options });
    const seen: string[] = [];
    informer.addHandlers({
      onAdd: (o) => seen.push(`add ${o.metadata.name}`),
      onUpdate: (p, o) => seen.push(p === o ? `resync ${o.metadata.name}` : `update ${o.metadata.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    stop = new AbortController();
    const running = informer.run(stop.signal);
    return { informer, seen, running };
  };

  afterEach(async () => {
    stop.abort();
    await fake.stop();
    await client.destroy();
  });

  it('lists, then applies watch events in order', async () => {
    const { informer, seen } = await start();
    fake.put('a');
    await informer.waitForSync();
    await eventually(() => fake.watches.length === 1);
    fake.put('b');
    fake.put('a', { v: '2' });
    fake.remove('b');
    await eventually(() => seen.length === 4);
    expect(seen).toEqual(['add a', 'add b', 'update a', 'delete b']);
    expect(informer.store.keys()).toEqual(['ns/a']);
    expect(informer.resourceVersion).toBe(String(fake.resourceVersion));
  });

  it('keeps objects in the cache without metadata.managedFields', async () => {
    const { informer } = await start();
    const listed = fake.put('a');
    (listed.metadata as { managedFields?: unknown[] }).managedFields = [{ manager: 'kubectl', operation: 'Apply' }];
    await informer.waitForSync();
    await eventually(() => fake.watches.length === 1);
    const watched = { metadata: { name: 'b', namespace: 'ns', resourceVersion: String(++fake.resourceVersion), managedFields: [{ manager: 'x' }] } } as KubeObject;
    fake.objects.set('b', watched);
    fake.broadcast({ type: 'ADDED', object: watched });
    await eventually(() => informer.store.get('ns/b') !== undefined);
    expect(informer.store.get('ns/a')?.metadata).not.toHaveProperty('managedFields');
    expect(informer.store.get('ns/b')?.metadata).not.toHaveProperty('managedFields');
    expect(informer.store.get('ns/a')?.metadata.name).toBe('a');
  });

  it('relists on 410 Gone (HTTP status and ERROR event) and reports what changed meanwhile', async () => {
    const { informer, seen } = await start();
    fake.put('keep');
    fake.put('gone-later');
    await informer.waitForSync();
    await eventually(() => fake.watches.length === 1);
    // The watch breaks; while it is down the state moves on and the old resourceVersion expires.
    fake.nextWatch = 'gone-status';
    fake.objects.delete('gone-later');
    fake.putSilently('new');
    fake.putSilently('keep');
    fake.dropWatches();
    await eventually(() => informer.stats.goneRelists === 1 && fake.watches.length === 1);
    expect(seen.slice(2).sort()).toEqual(['add new', 'delete gone-later', 'update keep']);
    expect(informer.store.keys().sort()).toEqual(['ns/keep', 'ns/new']);

    fake.nextWatch = 'gone-event';
    fake.putSilently('another');
    fake.dropWatches();
    await eventually(() => informer.stats.goneRelists === 2 && informer.store.size === 3);
    expect(fake.lists).toBe(3);
  });

  it('restarts a watch that stays silent, without relisting', async () => {
    const { informer } = await start({ watchSilenceMs: 200 });
    fake.nextWatch = 'silent';
    await informer.waitForSync();
    await eventually(() => informer.stats.silentWatchRestarts === 1 && fake.watches.length === 1, 5000);
    fake.put('after');
    await eventually(() => informer.store.size === 1);
    expect(fake.lists).toBe(1);
  });

  it('backs off and resumes from the last resourceVersion after the server goes away', async () => {
    const { informer } = await start();
    fake.put('x');
    await informer.waitForSync();
    await eventually(() => fake.watches.length === 1);
    const rvBefore = informer.resourceVersion;
    fake.dropWatches();
    await eventually(() => fake.watches.length === 1);
    expect(fake.watches[0]?.rv).toBe(rvBefore);
    expect(fake.lists).toBe(1);
  });

  it('re-delivers cached objects on resync', async () => {
    const { informer, seen } = await start({ resyncPeriodMs: 100 });
    fake.put('r');
    await informer.waitForSync();
    await eventually(() => seen.includes('resync r'), 3000);
  });
});
