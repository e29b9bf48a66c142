import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as grpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../crds/types.js';
import { createTestNamespace, deleteNamespace, testClient } from '../../test/support/kube.js';
import { testAgent, testMesh } from '../../test/support/fixtures.js';
import { eventually } from '../../test/support/wait.js';
import type { KubeClient } from '../../operator/kube/client.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import type { Manager } from '../../operator/manager.js';
import { startTestOperator, type RunningOperator } from '../../test/support/operator.js';
import { MemoryClient, getErrorCode } from './client.js';

describe('the operator serves the context memory, with trust from its Agent cache', () => {
  let client: KubeClient;
  let namespace: string;
  let dataDir: string;
  const mesh = `mem-${Date.now().toString(36)}`;
  const runs: RunningOperator[] = [];

  const startOperator = async (): Promise<Manager> => {
    const operator = await startTestOperator({ leaseNamespace: namespace, memory: { host: '127.0.0.1', port: 0, dataDir, keyNamespace: namespace } });
    runs.push(operator);
    const { manager } = operator;
    await eventually('memory served', () => manager.memoryPort > 0);
    return manager;
  };
  const stopOperators = async (): Promise<void> => {
    for (const operator of runs.splice(0)) await operator.stop();
  };
  const tokenFor = async (serviceAccount: string): Promise<string> => {
    const review = await client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
    });
    return review.status.token;
  };

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'mem');
    dataDir = await mkdtemp(join(tmpdir(), 'meshos-operator-memory-'));
    await client.create(MeshOsResources.mesh, testMesh(mesh));
    for (const name of ['planner', 'stranger']) {
      await client.create({ group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
    }
    // Only "planner" is an Agent; its trust score comes from the operator.
    await client.create(MeshOsResources.agent, testAgent(namespace, 'planner', mesh, 0));
  });

  afterAll(async () => {
    await stopOperators();
    await client.delete(MeshOsResources.mesh, undefined, mesh).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lets the Agent read what its trust allows, denies a stranger, and keeps entries across an operator restart', async () => {
    let manager = await startOperator();
    const trust = await eventually('planner has a trust score', async () => (await client.get<Agent>(MeshOsResources.agent, namespace, 'planner')).status?.trust?.score);
    const planner = new MemoryClient(`127.0.0.1:${manager.memoryPort}`, { token: await tokenFor('planner') });
    const level = Math.floor(trust / 2);
    await planner.put({ mesh, key: 'plan/q4', value: Buffer.from('shift load to eu-west'), trustLevel: level });
    expect((await planner.get({ mesh, key: 'plan/q4' })).value.toString()).toBe('shift load to eu-west');
    const stranger = new MemoryClient(`127.0.0.1:${manager.memoryPort}`, { token: await tokenFor('stranger') });
    const denied = await stranger.get({ mesh, key: 'plan/q4' }).then(() => undefined, (error: unknown) => error);
    expect(getErrorCode(denied)).toBe(grpcStatus.PERMISSION_DENIED);
    planner.close();
    stranger.close();

    await stopOperators();
    manager = await startOperator();
    const again = new MemoryClient(`127.0.0.1:${manager.memoryPort}`, { token: await tokenFor('planner') });
    expect((await again.get({ mesh, key: 'plan/q4' })).value.toString()).toBe('shift load to eu-west');
    again.close();
  });
});
