import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { Agent, Mesh } from '../../crds/types.js';
import { runCli } from '../../cli/program.js';
import { createTestNamespace, deleteNamespace, testClient } from '../../test/support/kube.js';
import { testAgent, testMesh, testProposal } from '../../test/support/fixtures.js';
import { eventually } from '../../test/support/wait.js';
import type { KubeClient } from '../../operator/kube/client.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import type { Manager } from '../../operator/manager.js';
import { startTestOperator, type RunningOperator } from '../../test/support/operator.js';
import type { Drift } from './detect.js';
import { createDriftModule, DRIFTED_CONDITION } from './module.js';

const decided = { credentials: 25, history: 30, attestations: 20, compliance: 15, uptime: 10 };

describe('drift detection in the operator', () => {
  let client: KubeClient;
  let namespace: string;
  let manager: Manager;
  let operator: RunningOperator;
  const mesh = `drift-${Date.now().toString(36)}`;
  const output: string[] = [];
  const io = { stdout: { write: (t: string) => output.push(t) }, stderr: { write: (t: string) => output.push(t) } } as never;

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'drift');
    // An executed Proposal set the weights; the Mesh records it as applied.
    await client.create(MeshOsResources.proposal, testProposal(namespace, 'weights', mesh));
    const meshObject = testMesh(mesh);
    meshObject.spec.trust = { weights: decided };
    await client.create(MeshOsResources.mesh, meshObject);
    await client.patch(MeshOsResources.mesh, undefined, mesh, { status: { appliedProposals: [{ name: 'weights', namespace, appliedAt: new Date().toISOString() }] } }, { subresource: 'status' });
    await client.create(MeshOsResources.agent, testAgent(namespace, 'slow', mesh, 0));
    operator = await startTestOperator({ kernelModules: [createDriftModule()], kernelIntervalMs: 300 });
    manager = operator.manager;
  });

  afterAll(async () => {
    await operator.stop();
    await client.delete(MeshOsResources.mesh, undefined, mesh).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
  });

  const meshCondition = async () => (await client.get<Mesh>(MeshOsResources.mesh, undefined, mesh)).status?.conditions?.find((c) => c.type === DRIFTED_CONDITION);

  it('corrects a Mesh setting edited away from an executed proposal, within policy, and clears the condition', async () => {
    // Nothing drifted yet: a few analysis rounds pass without a condition or an action.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await meshCondition()).toBeUndefined();
    expect(manager.decisions.query({ module: 'drift' })).toEqual([]);
    await client.patch(MeshOsResources.mesh, undefined, mesh, { spec: { trust: { weights: { credentials: 30, history: 25 } } } });
    await eventually('weights restored by the loop', async () => {
      const live = await client.get<Mesh>(MeshOsResources.mesh, undefined, mesh);
      return live.spec.trust?.weights?.history === 30 && live.spec.trust.weights.credentials === 25;
    });
    const decisions = manager.decisions.query({ module: 'drift' });
    expect(decisions.map((d) => d.outcome)).toEqual(['proposed', 'allowed', 'executed']);
    expect(decisions[0]?.reason).toContain('spec.trust.weights.credentials is 30, Proposal');
    await eventually('condition cleared', async () => (await meshCondition())?.status === 'False');
  });

  it('reports an Agent missing its SLA as a condition and in mesh drift, without acting on it', async () => {
    await client.patch(MeshOsResources.agent, namespace, 'slow', { spec: { sla: { maxLatencyMs: 200 } } });
    await client.patch(MeshOsResources.agent, namespace, 'slow', { status: { availability: { latencyP95Ms: 300, uptimePercent: 99.9 } } }, { subresource: 'status' });
    const condition = await eventually('agent Drifted', async () => {
      const agent = await client.get<Agent>(MeshOsResources.agent, namespace, 'slow');
      const c = agent.status?.conditions?.find((x) => x.type === DRIFTED_CONDITION);
      return c?.status === 'True' ? c : undefined;
    });
    expect(condition).toMatchObject({ reason: 'SLANotMet' });
    expect(condition.message).toContain('score 0.5: p95 latency 300 ms exceeds the SLA\'s 200 ms');

    output.length = 0;
    expect(await runCli(['drift', '--mesh', mesh, '-o', 'json', '--kubeconfig', inject('kubeconfigPath')], io)).toBe(1);
    const drifts = JSON.parse(output.join('')) as Drift[];
    expect(drifts.map((d) => [d.kind, d.target.name, d.score])).toEqual([['agent-sla', 'slow', 0.5]]);
    expect(manager.decisions.query({ module: 'drift' }).filter((d) => d.target.name === 'slow')).toEqual([]);
    expect(await runCli(['drift', '--min-score', '2', '--kubeconfig', inject('kubeconfigPath')], io)).toBe(2);
  });
});
