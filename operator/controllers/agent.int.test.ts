import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent, Mesh, Proposal } from '../../crds/types.js';
import { createTestNamespace, deleteNamespace, testClient } from '../../test/support/kube.js';
import { testAgent, testMesh, testProposal } from '../../test/support/fixtures.js';
import { eventually } from '../../test/support/wait.js';
import type { KubeClient } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import { CoreResources, MeshOsResources } from '../kube/resources.js';
import type { Manager } from '../manager.js';
import { startTestOperator, type RunningOperator } from '../../test/support/operator.js';
import type { Deployment, Service } from './workload.js';

describe('Agent, Mesh and Proposal controllers against a real API server', () => {
  let client: KubeClient;
  let namespace: string;
  let manager: Manager;
  let operator: RunningOperator;
  const meshName = `ctl-${Date.now().toString(36)}`;

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'agents');
    operator = await startTestOperator({ meshAggregationDelayMs: 100 });
    manager = operator.manager;
  });

  afterAll(async () => {
    await operator.stop();
    await client.delete(MeshOsResources.mesh, undefined, meshName).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
  });

  const getAgent = (name: string) => client.get<Agent>(MeshOsResources.agent, namespace, name);
  const condition = (agent: Agent, type: string) => agent.status?.conditions?.find((c) => c.type === type);

  it('waits for the Mesh, then creates an owned Deployment and Service and reports Ready', async () => {
    await client.create(MeshOsResources.agent, testAgent(namespace, 'early', meshName, 2, { team: 'climate' }));
    const pending = await eventually('agent status MeshNotFound', async () => {
      const agent = await getAgent('early');
      return condition(agent, 'Ready')?.reason === 'MeshNotFound' ? agent : undefined;
    });
    expect(pending.status?.phase).toBe('Pending');
    await expect(client.get(CoreResources.deployment, namespace, 'early')).rejects.toSatisfy(isNotFound);

    await client.create(MeshOsResources.mesh, testMesh(meshName));
    const deployment = await eventually('deployment', () => client.get<Deployment>(CoreResources.deployment, namespace, 'early'));
    const service = await eventually('service', () => client.get<Service>(CoreResources.service, namespace, 'early'));
    const agent = await getAgent('early');
    for (const owned of [deployment, service]) {
      expect(owned.metadata.ownerReferences).toEqual([
        { apiVersion: 'meshos.dev/v1alpha1', kind: 'Agent', name: 'early', uid: agent.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
      expect(owned.metadata.labels).toMatchObject({ team: 'climate', 'meshos.dev/agent': 'early', 'meshos.dev/mesh': meshName });
    }
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.spec?.template.spec.schedulerName).toBe('default-scheduler');
    expect(deployment.spec?.template.metadata.labels).toMatchObject({ team: 'climate', 'meshos.dev/agent': 'early' });

    // kwok nodes run the pods, so the Agent becomes Ready with its placement reported.
    const ready = await eventually(
      'agent Ready',
      async () => {
        const a = await getAgent('early');
        return a.status?.phase === 'Ready' ? a : undefined;
      },
      90_000,
    );
    expect(ready.status).toMatchObject({ observedGeneration: ready.metadata.generation, replicas: 2, readyReplicas: 2, replicaSummary: '2/2' });
    expect(ready.status?.nodes?.length).toBeGreaterThanOrEqual(1);
    expect(condition(ready, 'Ready')).toMatchObject({ status: 'True', reason: 'ReplicasReady', observedGeneration: ready.metadata.generation });
    expect(condition(ready, 'Degraded')?.status).toBe('False');
    expect(condition(ready, 'Progressing')?.status).toBe('False');
  });

  it('writes the trust score with its components and weights version', async () => {
    const agent = await eventually('trust written', async () => {
      const a = await getAgent('early');
      return a.status?.trust?.score !== undefined ? a : undefined;
    });
    expect(Object.keys(agent.status?.trust?.components ?? {}).sort()).toEqual(['attestations', 'compliance', 'credentials', 'history', 'uptime']);
    expect(agent.status?.trust?.weightsVersion).toMatch(/^w-[0-9a-f]{10}$/);
    const mesh = await client.get<Mesh>(MeshOsResources.mesh, undefined, meshName);
    expect(mesh.status?.trust).toBeDefined();
  });

  it('follows spec updates: observedGeneration and conditions match the new generation', async () => {
    const before = await getAgent('early');
    const readySince = condition(before, 'Ready')?.lastTransitionTime;
    await client.patch(MeshOsResources.agent, namespace, 'early', { spec: { runtime: { replicas: 3 } } });
    const after = await eventually('deployment scaled and status caught up', async () => {
      const a = await getAgent('early');
      const d = await client.get<Deployment>(CoreResources.deployment, namespace, 'early');
      return d.spec?.replicas === 3 && a.status?.observedGeneration === a.metadata.generation && a.status?.phase === 'Ready' ? a : undefined;
    }, 90_000);
    expect(after.metadata.generation).toBe((before.metadata.generation ?? 0) + 1);
    expect(after.status?.replicaSummary).toBe('3/3');
    for (const c of after.status?.conditions ?? []) expect(c.observedGeneration).toBe(after.metadata.generation);
    // Ready went False while the third replica started, then True again: its transition time moved.
    expect(condition(after, 'Ready')?.lastTransitionTime).toBeDefined();
    expect(readySince).toBeDefined();
  });

  it('kubectl scale goes through the scale subresource to the Deployment', async () => {
    await client.patch(MeshOsResources.agent, namespace, 'early', { spec: { replicas: 1 } }, { subresource: 'scale' });
    await eventually('deployment scaled to 1', async () => (await client.get<Deployment>(CoreResources.deployment, namespace, 'early')).spec?.replicas === 1);
  });

  it('repairs a workload edited or deleted behind its back', async () => {
    await client.patch(CoreResources.deployment, namespace, 'early', { spec: { replicas: 7 } });
    await eventually('replicas restored', async () => (await client.get<Deployment>(CoreResources.deployment, namespace, 'early')).spec?.replicas === 1);
    await client.delete(CoreResources.service, namespace, 'early');
    await eventually('service recreated', () => client.get<Service>(CoreResources.service, namespace, 'early'));
  });

  it('deleting the Agent removes its Deployment and Service (owner references cascade)', async () => {
    await client.delete(MeshOsResources.agent, namespace, 'early', { propagationPolicy: 'Foreground' });
    await eventually('workload garbage-collected', async () => {
      const gone = await Promise.all([
        client.get(CoreResources.deployment, namespace, 'early').then(() => false, isNotFound),
        client.get(CoreResources.service, namespace, 'early').then(() => false, isNotFound),
      ]);
      return gone.every(Boolean);
      // kube-controller-manager's garbage collector learns new CRDs on its discovery resync
      // (every 30 s), so the first cascade after the CRDs were installed can take that long.
    }, 120_000);
  });

  it('aggregates Agent health into the Mesh status', async () => {
    await client.create(MeshOsResources.agent, testAgent(namespace, 'zero', meshName, 0));
    const mesh = await eventually('mesh counts', async () => {
      const m = await client.get<Mesh>(MeshOsResources.mesh, undefined, meshName);
      return m.status?.agents?.total === 1 && m.status.agents.ready === 1 ? m : undefined;
    });
    expect(mesh.status?.phase).toBe('Ready');
    expect(mesh.status?.observedGeneration).toBe(mesh.metadata.generation);
  });

  it('moves a Proposal on a known Mesh to Voting and flags an unknown Mesh', async () => {
    await client.create(MeshOsResources.proposal, testProposal(namespace, 'weights', meshName, '2h'));
    await client.create(MeshOsResources.proposal, testProposal(namespace, 'orphan', 'no-such-mesh'));
    const voting = await eventually('proposal voting', async () => {
      const p = await client.get<Proposal>(MeshOsResources.proposal, namespace, 'weights');
      return p.status?.phase === 'Voting' ? p : undefined;
    });
    const created = Date.parse(voting.metadata.creationTimestamp ?? '');
    expect(Date.parse(voting.status?.votingEndsAt ?? '') - created).toBe(2 * 3_600_000);
    const orphan = await eventually('orphan flagged', async () => {
      const p = await client.get<Proposal>(MeshOsResources.proposal, namespace, 'orphan');
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'MeshNotFound' ? p : undefined;
    });
    expect(orphan.status?.phase).not.toBe('Voting');
  });

  it('serves metrics with reconcile totals per controller', async () => {
    const text = await (await fetch(`http://127.0.0.1:${manager.port}/metrics`)).text();
    expect(text).toMatch(/meshos_reconcile_total\{controller="agent",result="success"\} \d+/);
    expect(text).toContain('meshos_reconcile_duration_seconds_bucket');
    expect(text).toContain('meshos_workqueue_depth');
    expect(text).toContain('meshos_leader_is_leader');
    expect((await fetch(`http://127.0.0.1:${manager.port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${manager.port}/healthz`)).status).toBe(200);
  });
});
