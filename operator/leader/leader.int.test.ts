import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { Agent } from '../../crds/types.js';
import { createTestNamespace, deleteNamespace, testClient } from '../../test/support/kube.js';
import { testAgent, testMesh } from '../../test/support/fixtures.js';
import { OperatorProcess } from '../../test/support/operator-process.js';
import { eventually } from '../../test/support/wait.js';
import type { KubeClient } from '../kube/client.js';
import { CoreResources, MeshOsResources } from '../kube/resources.js';
import type { Lease } from './lease-election.js';

const LEASE_MS = 6000;

describe('leader election between two operator processes', () => {
  let client: KubeClient;
  let namespace: string;
  const leaseNamespace = `lease-${Date.now().toString(36)}`;
  const meshName = `leader-${Date.now().toString(36)}`;
  const operators: OperatorProcess[] = [];

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'leader');
    await client.create(MeshOsResources.mesh, testMesh(meshName));
  });

  afterAll(async () => {
    await Promise.all(operators.map((o) => o.stop()));
    await client.delete(MeshOsResources.mesh, undefined, meshName).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await deleteNamespace(client, leaseNamespace);
    await client.destroy();
  });

  const start = (identity: string): OperatorProcess => {
    const operator = new OperatorProcess(inject('kubeconfigPath'), identity, [
      '--lease-namespace', leaseNamespace,
      '--lease-duration', String(LEASE_MS),
      '--renew-deadline', '4000',
      '--retry-period', '1000',
    ]);
    operators.push(operator);
    operator.start();
    return operator;
  };

  const reconciled = async (name: string): Promise<boolean> => {
    const agent = await client.get<Agent>(MeshOsResources.agent, namespace, name);
    return agent.status?.observedGeneration === agent.metadata.generation;
  };

  it('lets only the leader reconcile and hands over within the lease duration when it dies', async () => {
    const a = start('op-a');
    await a.waitForLog('Started leading');
    const b = start('op-b');
    await b.waitForLog('Caches synced');
    await eventually('ports known', () => a.port > 0 && b.port > 0);

    await client.create(MeshOsResources.agent, testAgent(namespace, 'one', meshName, 0));
    await eventually('agent reconciled by the leader', () => reconciled('one'));
    // Give the standby time to misbehave if it were going to.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await a.metricValue('meshos_leader_is_leader')).toBe(1);
    expect(await b.metricValue('meshos_leader_is_leader')).toBe(0);
    expect(await a.metricValue('meshos_reconcile_total', { controller: 'agent' })).toBeGreaterThan(0);
    expect(await b.metricValue('meshos_reconcile_total')).toBe(0);
    const lease = await client.get<Lease>(CoreResources.lease, leaseNamespace, 'meshos-operator');
    expect(lease.spec?.holderIdentity).toBe('op-a');

    const killedAt = Date.now();
    await a.kill('SIGKILL');
    await b.waitForLog('Started leading', LEASE_MS + 5000);
    const handover = Date.now() - killedAt;
    // The standby takes over when the lease expires: within the lease duration of op-a's last
    // renewal, which came before the kill (plus the test's own polling of the log).
    expect(handover).toBeLessThanOrEqual(LEASE_MS + 300);

    await client.create(MeshOsResources.agent, testAgent(namespace, 'two', meshName, 0));
    await eventually('new agent reconciled by the new leader', () => reconciled('two'));
    expect(await b.metricValue('meshos_leader_is_leader')).toBe(1);
    const after = await client.get<Lease>(CoreResources.lease, leaseNamespace, 'meshos-operator');
    expect(after.spec?.holderIdentity).toBe('op-b');
    expect(after.spec?.leaseTransitions).toBe(1);
    console.log(`leader hand-over took ${handover} ms (lease ${LEASE_MS} ms)`);
  });

  it('a cleanly stopped leader releases the lease so the standby takes over at once', async () => {
    const c = start('op-c');
    await c.waitForLog('Caches synced');
    const leader = operators.find((o) => o.identity === 'op-b')!;
    const stoppedAt = Date.now();
    await leader.stop();
    await c.waitForLog('Started leading', LEASE_MS);
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_MS);
  });
});
