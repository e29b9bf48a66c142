import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { Agent } from '../crds/types.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { OperatorProcess } from '../test/support/operator-process.js';
import { eventually } from '../test/support/wait.js';
import type { Deployment, Service } from './controllers/workload.js';
import type { KubeClient } from './kube/client.js';
import { CoreResources, MeshOsResources } from './kube/resources.js';

const AGENTS = 200;

describe('operator killed in the middle of reconciling 200 Agents', () => {
  let client: KubeClient;
  let namespace: string;
  const meshName = `restart-${Date.now().toString(36)}`;
  const operators: OperatorProcess[] = [];

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'restart');
    await client.create(MeshOsResources.mesh, testMesh(meshName));
  });

  afterAll(async () => {
    await Promise.all(operators.map((o) => o.stop()));
    await client.delete(MeshOsResources.mesh, undefined, meshName).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
  });

  const reconciledCount = async (): Promise<number> => {
    const agents = await client.list<Agent>(MeshOsResources.agent, namespace);
    return agents.items.filter((a) => a.status?.observedGeneration === a.metadata.generation && a.status?.workload?.deployment !== undefined).length;
  };

  it('ends with every Agent reconciled to its spec, nothing lost and no duplicate workloads', async () => {
    // Replicas 0 keeps 200 pods from competing with the operator for the 2 cores; the
    // workload objects are what this test is about.
    for (let start = 0; start < AGENTS; start += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, AGENTS - start) }, (_, i) =>
          client.create(MeshOsResources.agent, testAgent(namespace, `agent-${String(start + i).padStart(3, '0')}`, meshName, 0)),
        ),
      );
    }
    // A slow operator (few workers, low QPS) so that the kill lands mid-way.
    const first = new OperatorProcess(inject('kubeconfigPath'), 'restart-first', ['--leader-elect', 'false', '--workers', '2', '--qps', '40', '--burst', '10']);
    operators.push(first);
    first.start();
    const partial = await eventually('some agents reconciled', async () => {
      const n = await reconciledCount();
      return n >= 20 ? n : 0;
    }, 60_000, 50);
    await first.kill('SIGKILL');
    const atKill = await reconciledCount();
    expect(partial).toBeLessThan(AGENTS);
    expect(atKill).toBeLessThan(AGENTS);

    const second = new OperatorProcess(inject('kubeconfigPath'), 'restart-second', ['--leader-elect', 'false']);
    operators.push(second);
    second.start();
    await eventually('all agents reconciled', async () => (await reconciledCount()) === AGENTS, 120_000, 250);

    const [agents, deployments, services] = await Promise.all([
      client.list<Agent>(MeshOsResources.agent, namespace),
      client.list<Deployment>(CoreResources.deployment, namespace),
      client.list<Service>(CoreResources.service, namespace),
    ]);
    expect(agents.items).toHaveLength(AGENTS);
    expect(deployments.items).toHaveLength(AGENTS);
    expect(services.items).toHaveLength(AGENTS);
    const byName = new Map(agents.items.map((a) => [a.metadata.name, a]));
    for (const deployment of deployments.items) {
      const owner = byName.get(deployment.metadata.name);
      expect(owner, `deployment ${deployment.metadata.name} has an agent`).toBeDefined();
      expect(deployment.metadata.ownerReferences?.[0]?.uid).toBe(owner?.metadata.uid);
      // Created once and never rewritten: no duplicate or churned workload across the restart.
      expect(deployment.metadata.generation).toBe(1);
    }
    for (const agent of agents.items) {
      expect(agent.status?.observedGeneration).toBe(agent.metadata.generation);
      expect(agent.status?.workload?.deployment).toBe(agent.metadata.name);
    }
    console.log(`restart test: ${atKill}/${AGENTS} agents reconciled when the first operator was killed`);
  });
});
