import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { Agent, Proposal } from '../crds/types.js';
import { runCli } from '../cli/program.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { eventually } from '../test/support/wait.js';
import type { KubeClient } from '../operator/kube/client.js';
import { MeshOsResources } from '../operator/kube/resources.js';
import type { Manager } from '../operator/manager.js';
import { startTestOperator, type RunningOperator } from '../test/support/operator.js';
import { ACTION_APPROVAL_LABEL, ACTION_STATE_ANNOTATION, readApprovalProposal } from './approvals.js';
import type { KernelModule } from './contract.js';

describe('held actions: Proposal, mesh approve, mesh override, and a restart in between', () => {
  let client: KubeClient;
  let namespace: string;
  const mesh = `appr-${Date.now().toString(36)}`;
  const running: RunningOperator[] = [];
  const output: string[] = [];
  const io = { stdout: { write: (t: string) => output.push(t) }, stderr: { write: (t: string) => output.push(t) } } as never;

  /** Proposes scaling each listed Agent once; the mesh's risk ceiling holds these. */
  const pending = new Set<string>();
  const module: KernelModule = {
    name: 'autoscaling',
    observes: ['Agent'],
    actions: ['scale'],
    analyse: () => {
      const proposals = [...pending].map((name) => ({
        module: 'autoscaling', kind: 'scale', target: { kind: 'Agent' as const, name, namespace, mesh },
        reason: `forecast peak for ${name}`, risk: 0.8, verifyWindowMs: 0, replicasAdded: 1, params: {},
      }));
      pending.clear();
      return proposals;
    },
    async execute(action, context) {
      await context.client.patch(MeshOsResources.agent, namespace, action.target.name, { spec: { runtime: { replicas: 2 } } });
      return { message: `scaled ${action.target.name} to 2` };
    },
  };

  const startOperator = async (): Promise<Manager> => {
    const operator = await startTestOperator({ kernelModules: [module], kernelIntervalMs: 300 });
    running.push(operator);
    return operator.manager;
  };
  const stopOperators = async (): Promise<void> => {
    for (const operator of running.splice(0)) await operator.stop();
  };

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'appr');
    const meshObject = testMesh(mesh);
    meshObject.spec.policy = { riskCeiling: 0.5, approvalMode: 'Human' };
    await client.create(MeshOsResources.mesh, meshObject);
    for (const name of ['first', 'second']) await client.create(MeshOsResources.agent, testAgent(namespace, name, mesh, 1));
  });

  afterAll(async () => {
    await stopOperators();
    await client.delete(MeshOsResources.mesh, undefined, mesh).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
  });

  const replicas = async (name: string) => (await client.get<Agent>(MeshOsResources.agent, namespace, name)).spec.runtime.replicas;
  const heldProposal = (agent: string) =>
    eventually(`approval proposal for ${agent}`, async () => {
      const list = await client.list<Proposal>(MeshOsResources.proposal, namespace, { labelSelector: `${ACTION_APPROVAL_LABEL}=true` });
      return list.items.find((p) => readApprovalProposal(p)?.action.target.name === agent);
    });

  it('holds the action as a Proposal and runs it after mesh approve', async () => {
    await startOperator();
    pending.add('first');
    const proposal = await heldProposal('first');
    const state = readApprovalProposal(proposal)!;
    expect(proposal.spec).toMatchObject({ meshRef: mesh, proposer: { kind: 'ai' } });
    expect(proposal.spec.title).toBe(`Approve autoscaling/scale on Agent/${namespace}/first`);
    expect(await replicas('first')).toBe(1);

    // A coordinator cannot approve where the mesh wants a human: exit code 2, nothing changes.
    expect(await runCli(['approve', state.action.id.slice(0, 8), '--coordinator', '--kubeconfig', inject('kubeconfigPath')], io)).toBe(2);
    expect(await runCli(['approve', state.action.id.slice(0, 8), '--as', 'alice', '--kubeconfig', inject('kubeconfigPath')], io)).toBe(0);
    await eventually('scaled after approval', async () => (await replicas('first')) === 2);
    await eventually('state recorded', async () => (await client.get<Proposal>(MeshOsResources.proposal, namespace, proposal.metadata.name ?? '')).metadata.annotations?.[ACTION_STATE_ANNOTATION] === 'executed');
    expect(await runCli(['approve', state.action.id, '--kubeconfig', inject('kubeconfigPath')], io)).toBe(1); // no longer held
  });

  it('keeps a held action across an operator restart, and mesh override --stop drops it', async () => {
    pending.add('second');
    const proposal = await heldProposal('second');
    const id = readApprovalProposal(proposal)!.action.id;
    await stopOperators();
    const manager = await startOperator();
    await eventually('held again after restart', () => manager.kernel?.isHeld(id));
    expect(await runCli(['override', id, '--stop', '--as', 'bob', '--kubeconfig', inject('kubeconfigPath')], io)).toBe(0);
    await eventually('dropped', () => manager.kernel !== undefined && !manager.kernel.isHeld(id));
    expect(manager.decisions.query({ actionId: id }).map((r) => r.outcome)).toEqual(['overridden']);
    expect(manager.decisions.query({ actionId: id })[0]?.reason).toBe('stopped by bob');
    expect(await replicas('second')).toBe(1);
    expect(await runCli(['override', id, '--kubeconfig', inject('kubeconfigPath')], io)).toBe(2); // neither --stop nor --force
  });
});
