// The memory gRPC server on loopback with a real grpc-js client; the last block uses the
// test cluster's API server for TokenReview and the Secret key store.
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KubeClient } from '../../operator/kube/client.js';
import { getErrorMessage, isAlreadyExists } from '../../operator/kube/errors.js';
import { loadClusterConnection } from '../../operator/kube/config.js';
import { CoreResources } from '../../operator/kube/resources.js';
import { benchMemory } from './bench.js';
import { staticCallerResolver, tokenReviewCallerResolver } from './callers.js';
import { getErrorCode, MemoryClient } from './client.js';
import { InMemoryKeyStore, SecretKeyStore, secretNameFor } from './keystore.js';
import { loadMemoryPackageDefinition, startMemoryServer, type MemoryServer } from './server.js';

const callers = staticCallerResolver({
  low: { id: 'agent-low', trustScore: 20 },
  high: { id: 'agent-high', trustScore: 95 },
});

async function codeOf(promise: Promise<unknown>): Promise<{ code: number | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: getErrorCode(error), message: getErrorMessage(error) };
  }
  throw new Error('the call succeeded');
}

describe('memory gRPC server', () => {
  let dataDir: string;
  const keyStore = new InMemoryKeyStore();
  let server: MemoryServer;
  const start = () => startMemoryServer({ dataDir, keyStore, resolveCaller: callers, maxValueBytes: 1024 });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'meshos-memory-int-'));
    server = await start();
  });
  afterAll(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('denies a low-trust reader and serves a high-trust one', async () => {
    const high = new MemoryClient(server.address, { token: 'high' });
    const low = new MemoryClient(server.address, { token: 'low' });
    await high.put({ mesh: 'mesh-a', key: 'incident/42', value: Buffer.from('root cause: bad rollout'), trustLevel: 70, ttlSeconds: 3600 });
    const entry = await high.get({ mesh: 'mesh-a', key: 'incident/42' });
    expect(entry.value.toString()).toBe('root cause: bad rollout');
    expect(entry).toMatchObject({ trustLevel: 70, writer: 'agent-high' });
    expect(entry.expiresAtUnixMs).toBeGreaterThan(Date.now());
    const denied = await codeOf(low.get({ mesh: 'mesh-a', key: 'incident/42' }));
    expect(denied.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(denied.message).toMatch(/trust level 70/);
    expect((await low.list({ mesh: 'mesh-a' })).entries).toEqual([]);
    expect((await high.list({ mesh: 'mesh-a', prefix: 'incident/' })).entries.map((item) => item.key)).toEqual(['incident/42']);
    high.close();
    low.close();
  });

  it('answers bad input with INVALID_ARGUMENT and strangers with UNAUTHENTICATED', async () => {
    const high = new MemoryClient(server.address, { token: 'high' });
    const cases = [
      [high.put({ mesh: '', key: 'k', value: Buffer.from('x') }), 'mesh'],
      [high.put({ mesh: 'm', key: '', value: Buffer.from('x') }), 'key'],
      [high.put({ mesh: 'm', key: 'k', value: Buffer.from('x'), trustLevel: 101 }), 'trust_level'],
      [high.put({ mesh: 'm', key: 'k', value: Buffer.from('x'), ttlSeconds: -1 }), 'ttl_seconds'],
      [high.put({ mesh: 'm', key: 'k', value: Buffer.alloc(1025) }), 'value'],
      [high.get({ mesh: 'm', key: '' }), 'key'],
    ] as const;
    for (const [call, field] of cases) {
      const { code, message } = await codeOf(call);
      expect(code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(message).toContain(`${field}:`);
    }
    const stranger = new MemoryClient(server.address);
    expect((await codeOf(stranger.get({ mesh: 'm', key: 'k' }))).code).toBe(grpc.status.UNAUTHENTICATED);
    const forged = new MemoryClient(server.address, { token: 'forged' });
    expect((await codeOf(forged.get({ mesh: 'm', key: 'k' }))).code).toBe(grpc.status.UNAUTHENTICATED);
    high.close();
    stranger.close();
    forged.close();
  });

  it('reports health', async () => {
    const loaded = grpc.loadPackageDefinition(loadMemoryPackageDefinition()) as unknown as {
      grpc: { health: { v1: { Health: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & { check: (request: { service: string }, callback: (error: grpc.ServiceError | null, response?: { status: string }) => void) => void } } } };
    };
    const health = new loaded.grpc.health.v1.Health(server.address, grpc.credentials.createInsecure());
    const status = await new Promise<string | undefined>((resolve, reject) =>
      health.check({ service: 'meshos.memory.v1.ContextMemory' }, (error, response) => (error ? reject(error) : resolve(response?.status))),
    );
    expect(status).toBe('SERVING');
    health.close();
  });

  it('answers server reflection (what grpcurl uses)', async () => {
    const reflectionProto = createRequire(import.meta.url).resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
    const definition = loadSync(reflectionProto, { keepCase: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & { serverReflectionInfo: () => grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }> } } } };
    };
    const reflection = new loaded.grpc.reflection.v1.ServerReflection(server.address, grpc.credentials.createInsecure());
    const stream = reflection.serverReflectionInfo();
    const names = await new Promise<string[]>((resolve, reject) => {
      stream.on('data', (response: { list_services_response?: { service: { name: string }[] } }) => {
        resolve((response.list_services_response?.service ?? []).map((service) => service.name));
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ list_services: '' });
    });
    expect(names).toEqual(expect.arrayContaining(['meshos.memory.v1.ContextMemory', 'grpc.health.v1.Health']));
    reflection.close();
  });

  it('keeps acknowledged entries across a restart on the same directory', async () => {
    const high = new MemoryClient(server.address, { token: 'high' });
    await high.put({ mesh: 'mesh-b', key: 'notes', value: Buffer.from('kept'), trustLevel: 50 });
    await high.put({ mesh: 'mesh-b', key: 'gone', value: Buffer.from('x') });
    expect((await high.delete({ mesh: 'mesh-b', key: 'gone' })).deleted).toBe(true);
    high.close();
    await server.close();
    server = await start();
    const again = new MemoryClient(server.address, { token: 'high' });
    expect((await again.get({ mesh: 'mesh-b', key: 'notes' })).value.toString()).toBe('kept');
    expect((await again.get({ mesh: 'mesh-a', key: 'incident/42' })).value.toString()).toBe('root cause: bad rollout');
    expect((await codeOf(again.get({ mesh: 'mesh-b', key: 'gone' }))).code).toBe(grpc.status.NOT_FOUND);
    again.close();
  });

  it('benchmarks put and get', async () => {
    const result = await benchMemory({ entries: 500, valueBytes: 256 });
    expect(result.putPerSecond).toBeGreaterThan(0);
    expect(result.getPerSecond).toBeGreaterThan(0);
    expect(result.p99Ms).toBeGreaterThan(0);
  });
});

describe('memory with the API server (TokenReview, Secret key store)', () => {
  const namespace = `memory-it-${Date.now().toString(36)}`;
  let client: KubeClient;
  let dataDir: string;
  let server: MemoryServer;

  beforeAll(async () => {
    client = new KubeClient(await loadClusterConnection(inject('kubeconfigPath')));
    dataDir = await mkdtemp(join(tmpdir(), 'meshos-memory-kube-'));
    await client.create(CoreResources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    for (const name of ['reader-low', 'reader-high']) {
      try {
        await client.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } } });
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
    }
  });
  afterAll(async () => {
    await server?.close();
    await client?.delete(CoreResources.namespace, undefined, namespace).catch(() => undefined);
    await client?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const tokenFor = async (name: string): Promise<string> => {
    const answer = await client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
    });
    return answer.status.token;
  };

  it('verifies service-account tokens, applies Agent trust, and keeps the key in a Secret', async () => {
    const scores: Record<string, number> = { 'reader-low': 25, 'reader-high': 88 };
    const start = () =>
      startMemoryServer({
        dataDir,
        keyStore: new SecretKeyStore(client, namespace),
        resolveCaller: tokenReviewCallerResolver({
          client,
          findAgent: ({ namespace: agentNamespace, name }) => {
            const score = agentNamespace === namespace ? scores[name] : undefined;
            return score === undefined ? undefined : { status: { trust: { score } } };
          },
        }),
      });
    server = await start();
    const high = new MemoryClient(server.address, { token: await tokenFor('reader-high') });
    const low = new MemoryClient(server.address, { token: await tokenFor('reader-low') });
    await high.put({ mesh: 'mesh-k', key: 'plan', value: Buffer.from('migrate at 02:00'), trustLevel: 80 });
    expect((await high.get({ mesh: 'mesh-k', key: 'plan' })).writer).toBe(`system:serviceaccount:${namespace}:reader-high`);
    expect((await codeOf(low.get({ mesh: 'mesh-k', key: 'plan' }))).code).toBe(grpc.status.PERMISSION_DENIED);
    const bogus = new MemoryClient(server.address, { token: 'not-a-token' });
    expect((await codeOf(bogus.get({ mesh: 'mesh-k', key: 'plan' }))).code).toBe(grpc.status.UNAUTHENTICATED);
    const secret = await client.get<{ metadata: { name?: string }; data?: Record<string, string> }>(CoreResources.secret, namespace, secretNameFor('mesh-k'));
    expect(Buffer.from(secret.data?.['key'] ?? '', 'base64')).toHaveLength(32);

    // A new server with a fresh key store reads the same key back from the Secret.
    high.close();
    await server.close();
    server = await start();
    const again = new MemoryClient(server.address, { token: await tokenFor('reader-high') });
    expect((await again.get({ mesh: 'mesh-k', key: 'plan' })).value.toString()).toBe('migrate at 02:00');
    again.close();
    low.close();
    bogus.close();
  });
});
