import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent, Mesh } from '../crds/types.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { eventually } from '../test/support/wait.js';
import type { KubeClient } from '../operator/kube/client.js';
import { isNotFound } from '../operator/kube/errors.js';
import type { KubeObject } from '../operator/kube/object.js';
import { CoreResources, MeshOsResources } from '../operator/kube/resources.js';
import { startTestOperator, type RunningOperator } from '../test/support/operator.js';
import { createAgentHealingModule, networkPolicyResource } from './agent-module.js';
import { QUARANTINE_CONDITION, QUARANTINE_OVERRIDE_ANNOTATION } from './quarantine.js';

describe('agent healing: quarantine and rollback', () => {
  let client: KubeClient;
  let namespace: string;
  let operator: RunningOperator;
  const mesh = `heal-${Date.now().toString(36)}`;

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'heal');
    const meshObject: Mesh = testMesh(mesh);
    meshObject.spec.healing = { rollbackWindowSeconds: 10 };
    await client.create(MeshOsResources.mesh, meshObject);
    operator = await startTestOperator({ kernelModules: [createAgentHealingModule({ retryMs: 1000 })], kernelIntervalMs: 500 });
  }, 120_000);

  afterAll(async () => {
    await operator?.stop();
    await client.delete(MeshOsResources.mesh, undefined, mesh).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
  });

  const agent = (name: string): Promise<Agent> => client.get<Agent>(MeshOsResources.agent, namespace, name);
  const policyExists = async (name: string): Promise<boolean> => {
    try {
      await client.get(networkPolicyResource, namespace, `${name}-quarantine`);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  };

  it('quarantines an Agent whose trust falls below the threshold, and releases it on an operator override', async () => {
    await client.create(MeshOsResources.agent, testAgent(namespace, 'shady', mesh, 1));
    await eventually('trust scored', async () => (await agent('shady')).status?.trust?.score !== undefined, 60_000);
    const score = (await agent('shady')).status?.trust?.score ?? 0;
    await client.patch(MeshOsResources.mesh, undefined, mesh, { spec: { healing: { quarantineTrustThreshold: Math.min(100, score + 10) } } });
    await eventually('Agent quarantined', async () => (await agent('shady')).status?.phase === 'Quarantined', 60_000, 250);
    expect(await policyExists('shady')).toBe(true);
    const condition = (await agent('shady')).status?.conditions?.find((c) => c.type === QUARANTINE_CONDITION);
    expect(condition).toMatchObject({ status: 'True', reason: 'LowTrust' });
    expect(condition?.message).toContain('below');
    const decisions = operator.manager.decisions.query({ module: 'agent-healing', limit: 50 });
    expect(decisions.some((d) => d.kind === 'quarantine-agent' && d.outcome === 'executed')).toBe(true);

    await client.patch(MeshOsResources.agent, namespace, 'shady', { metadata: { annotations: { [QUARANTINE_OVERRIDE_ANNOTATION]: 'release' } } });
    await eventually('Agent released', async () => (await agent('shady')).status?.conditions?.find((c) => c.type === QUARANTINE_CONDITION)?.status === 'False', 60_000, 250);
    await eventually('NetworkPolicy removed', async () => !(await policyExists('shady')), 30_000);
    await eventually('Agent Ready again', async () => (await agent('shady')).status?.phase === 'Ready', 60_000, 250);
    expect((await agent('shady')).status?.conditions?.find((c) => c.type === QUARANTINE_CONDITION)?.reason).toBe('OperatorOverride');
    // The raised threshold would quarantine the next test's Agent too (same Mesh): put it back.
    await client.patch(MeshOsResources.mesh, undefined, mesh, { spec: { healing: { quarantineTrustThreshold: 0 } } });
  }, 180_000);

  it('rolls back a new revision that cannot become ready, and says why', async () => {
    await client.create(MeshOsResources.agent, testAgent(namespace, 'rolling', mesh, 2));
    // On a timeout, say what the Agent and its pods were waiting for.
    const readyOrExplain = async (): Promise<boolean> => {
      const current = await agent('rolling');
      if (current.status?.phase === 'Ready') return true;
      const pods = await client.list<KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string; conditions?: { type: string; status: string; message?: string }[] } }>(CoreResources.pod, namespace);
      const podStates = pods.items.map((p) => `${p.metadata.name}@${p.spec?.nodeName ?? '-'}:${p.status?.phase ?? '?'}${p.status?.conditions?.filter((c) => c.status !== 'True').map((c) => ` ${c.type}=${c.status} ${c.message ?? ''}`).join(';') ?? ''}`);
      throw new Error(`phase ${current.status?.phase ?? '-'}, conditions ${JSON.stringify(current.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]))}, pods ${podStates.join(', ')}`);
    };
    await eventually('Agent Ready', readyOrExplain, 90_000, 250);
    // Let revision 1 build a healthy record over the verification window.
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    // Revision 2 asks for more CPU than any node has: its pods stay Pending (not ready).
    await client.patch(MeshOsResources.agent, namespace, 'rolling', { spec: { runtime: { resources: { requests: { cpu: '500', memory: '16Mi' } } } } });
    await eventually('rolled back to the first runtime', async () => (await agent('rolling')).spec.runtime.resources?.requests?.['cpu'] === '10m', 120_000, 500);
    const revisions = (await agent('rolling')).status?.revisions as { revision: number; rolledBack?: { reason: string } }[] | undefined;
    const rolledBack = revisions?.find((r) => r.rolledBack);
    expect(rolledBack?.revision).toBe(2);
    expect(rolledBack?.rolledBack?.reason).toMatch(/revision 2 is less healthy than revision 1 .*replicas not ready/);
    await eventually('Agent Ready again', async () => (await agent('rolling')).status?.phase === 'Ready', 90_000, 250);
  }, 240_000);
});
