import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../crds/types.js';
import { installCrds, startControlPlane, type ControlPlane } from '../test/harness/control-plane.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { eventually } from '../test/support/wait.js';
import type { Deployment } from './controllers/workload.js';
import { KubeClient } from './kube/client.js';
import { loadClusterConnection } from './kube/config.js';
import { CoreResources, MeshOsResources } from './kube/resources.js';
import { createLogger } from './log.js';
import { Manager } from './manager.js';
import { OperatorMetrics } from './metrics.js';

// A control plane of its own, because this test restarts kube-apiserver under a running operator.
describe('operator across a kube-apiserver restart', () => {
  let plane: ControlPlane;
  let dataDir: string;
  let client: KubeClient;
  let manager: Manager;
  const stop = new AbortController();
  let running: Promise<unknown>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'meshos-restart-'));
    plane = await startControlPlane({ dataDir, components: {} });
    await installCrds(plane.kubectl);
    const connection = await loadClusterConnection(plane.kubeconfigPath);
    client = new KubeClient(connection);
    await client.create(CoreResources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'work' } });
    await client.create(MeshOsResources.mesh, testMesh('m'));
    manager = new Manager({
      connection,
      logger: createLogger({ level: 'warn' }),
      metrics: new OperatorMetrics({ defaultMetrics: false }),
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 1_000,
    });
    running = manager.run(stop.signal);
  }, 300_000);

  afterAll(async () => {
    stop.abort();
    await running;
    await client?.destroy();
    await plane?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const reconciled = async (name: string): Promise<boolean> => {
    const agent = await client.get<Agent>(MeshOsResources.agent, 'work', name);
    return agent.status?.observedGeneration === agent.metadata.generation && agent.status?.workload !== undefined;
  };

  it('keeps leading and reconciles what changed after the restart, without duplicating work', async () => {
    await client.create(MeshOsResources.agent, testAgent('work', 'before', 'm', 0));
    await eventually('first agent reconciled', () => reconciled('before'), 60_000);
    await eventually('leading', () => manager.isLeader());

    await plane.restartApiServer();

    await client.create(MeshOsResources.agent, testAgent('work', 'after', 'm', 0));
    await client.patch(MeshOsResources.agent, 'work', 'before', { spec: { runtime: { replicas: 2 } } });
    await eventually('new agent reconciled', () => reconciled('after'), 60_000);
    await eventually('update reconciled', async () => {
      const deployment = await client.get<Deployment>(CoreResources.deployment, 'work', 'before');
      return deployment.spec?.replicas === 2 && (await reconciled('before'));
    }, 60_000);
    // A restart of one to two seconds is well inside the renew deadline: no leadership change.
    expect(manager.isLeader()).toBe(true);
    const deployments = await client.list<Deployment>(CoreResources.deployment, 'work');
    expect(deployments.items.map((d) => d.metadata.name).sort()).toEqual(['after', 'before']);
    const text = await manager.metrics.registry.metrics();
    expect(text).toMatch(/meshos_informer_watch_restarts_total\{resource="agents",reason="(error|closed|gone)"\} [1-9]/);
  });
});
