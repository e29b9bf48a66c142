import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../crds/types.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { eventually } from '../test/support/wait.js';
import type { KubeClient } from '../operator/kube/client.js';
import type { KubeObject } from '../operator/kube/object.js';
import { CoreResources, MeshOsResources } from '../operator/kube/resources.js';
import { createLogger } from '../operator/log.js';
import type { Action, KernelModule, ModuleContext } from './contract.js';
import { DecisionLog } from './decision-log.js';
import { KernelLoop } from './loop.js';
import type { MeshPolicy } from './policy.js';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/**
 * A module that scales Agents through the API server and measures latency from a ConfigMap
 * that the test moves, standing in for the latency an agent's clients see.
 */
function scalingModule(client: KubeClient, namespace: string): KernelModule {
  const latency = async (): Promise<number> => Number((await client.get<ConfigMap>(CoreResources.configMap, namespace, 'observed')).data?.['latencyMs']);
  return {
    name: 'autoscaling',
    observes: ['Agent'],
    actions: ['scale'],
    analyse: () => [],
    async execute(action: Action) {
      const agent = await client.get<Agent>(MeshOsResources.agent, namespace, action.target.name);
      const previous = agent.spec.runtime.replicas ?? 1;
      await client.patch(MeshOsResources.agent, namespace, action.target.name, { spec: { runtime: { replicas: action.params['replicas'] } } });
      return { message: `scaled ${action.target.name} from ${previous} to ${String(action.params['replicas'])}`, undo: { replicas: previous } };
    },
    measure: () => latency(),
    async rollback(action: Action, result) {
      await client.patch(MeshOsResources.agent, namespace, action.target.name, { spec: { runtime: { replicas: result.undo?.['replicas'] } } });
      return { message: 'restored replicas' };
    },
  };
}

describe('kernel loop against a real API server', () => {
  let client: KubeClient;
  let namespace: string;
  const mesh = `kernel-${Date.now().toString(36)}`;
  let policy: MeshPolicy | undefined;
  let loop: KernelLoop;
  const log = new DecisionLog();

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'kernel');
    await client.create(MeshOsResources.mesh, testMesh(mesh));
    await client.create(MeshOsResources.agent, testAgent(namespace, 'worker', mesh, 1));
    await client.create(CoreResources.configMap, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'observed', namespace }, data: { latencyMs: '200' } });
    loop = new KernelLoop({
      modules: [scalingModule(client, namespace)],
      context: { client, logger: createLogger({ level: 'silent' }) } as unknown as ModuleContext,
      log,
      policyFor: () => ({ policy, agentCount: 1 }),
    });
  });

  afterAll(async () => {
    loop.stop();
    await client.delete(MeshOsResources.mesh, undefined, mesh).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
  });

  const replicas = async (): Promise<number | undefined> => (await client.get<Agent>(MeshOsResources.agent, namespace, 'worker')).spec.runtime.replicas;
  const scale = (risk: number) =>
    loop.submit({
      module: 'autoscaling',
      kind: 'scale',
      target: { kind: 'Agent', name: 'worker', namespace, mesh },
      reason: 'latency above the SLA',
      risk,
      expectedEffect: { metric: 'latencyMs', direction: 'decrease' },
      verifyWindowMs: 1500,
      replicasAdded: 2,
      params: { replicas: 3 },
    });

  it('rolls back a scale-up after which latency rose', async () => {
    const action = await scale(0.1);
    expect(await replicas()).toBe(3);
    // Latency gets worse during the verification window.
    await client.patch(CoreResources.configMap, namespace, 'observed', { data: { latencyMs: '320' } });
    await loop.settle();
    expect(await replicas()).toBe(1);
    expect(log.query({ actionId: action.id }).map((r) => r.outcome)).toEqual(['proposed', 'allowed', 'executed', 'rolled-back']);
  });

  it('holds an action over the risk ceiling, runs it after approval and keeps it when latency falls', async () => {
    policy = { riskCeiling: 0.5, approvalMode: 'Human' };
    const action = await scale(0.8);
    expect(log.query({ actionId: action.id }).at(-1)?.outcome).toBe('held');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await replicas()).toBe(1); // nothing happened while it waited
    await loop.approve(action.id, 'alice', 'human');
    await eventually('scaled after approval', async () => (await replicas()) === 3);
    await client.patch(CoreResources.configMap, namespace, 'observed', { data: { latencyMs: '150' } });
    await loop.settle();
    expect(await replicas()).toBe(3);
    expect(log.query({ actionId: action.id }).map((r) => r.outcome)).toEqual(['proposed', 'held', 'approved', 'executed', 'verified']);
  });
});
