import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { Agent } from '../crds/types.js';
import { runCli } from '../cli/program.js';
import type { DecisionRow } from '../cli/commands/log.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { eventually } from '../test/support/wait.js';
import type { KubeClient } from '../operator/kube/client.js';
import { MeshOsResources } from '../operator/kube/resources.js';
import type { Manager } from '../operator/manager.js';
import { startTestOperator, type RunningOperator } from '../test/support/operator.js';
import type { KernelModule } from './contract.js';
import type { DecisionRecord } from './decision-log.js';

describe('kernel loop inside the operator: decision log, Events and mesh log', () => {
  let client: KubeClient;
  let namespace: string;
  let manager: Manager;
  let operator: RunningOperator;
  const mesh = `klog-${Date.now().toString(36)}`;

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'klog');
    await client.create(MeshOsResources.mesh, testMesh(mesh));
    await client.create(MeshOsResources.agent, testAgent(namespace, 'busy', mesh, 1));
    let proposed = false;
    // Proposes one scale-up of the Agent the first time it analyses.
    const module: KernelModule = {
      name: 'autoscaling',
      observes: ['Agent'],
      actions: ['scale'],
      analyse: (context) => {
        const agent = context.informers.agents.store.get(`${namespace}/busy`);
        if (proposed || !agent) return [];
        proposed = true;
        return [{ module: 'autoscaling', kind: 'scale', target: { kind: 'Agent', name: 'busy', namespace, mesh }, reason: 'demand forecast above capacity', risk: 0.1, verifyWindowMs: 0, replicasAdded: 1, params: {} }];
      },
      async execute(_action, context) {
        await context.client.patch(MeshOsResources.agent, namespace, 'busy', { spec: { runtime: { replicas: 2 } } });
        return { message: 'scaled busy to 2 replicas' };
      },
    };
    operator = await startTestOperator({ kernelModules: [module], kernelIntervalMs: 500 });
    manager = operator.manager;
  });

  afterAll(async () => {
    await operator.stop();
    await client.delete(MeshOsResources.mesh, undefined, mesh).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
  });

  it('records the action in the bounded log, serves it at /decisions, mirrors it as Events and mesh log shows it', async () => {
    await eventually('agent scaled by the kernel', async () => (await client.get<Agent>(MeshOsResources.agent, namespace, 'busy')).spec.runtime.replicas === 2);
    const decisions = (await (await fetch(`http://127.0.0.1:${manager.port}/decisions?module=autoscaling`)).json()) as DecisionRecord[];
    expect(decisions.map((d) => d.outcome)).toEqual(['proposed', 'allowed', 'executed']);
    expect(decisions[0]).toMatchObject({ kind: 'scale', target: { name: 'busy', namespace, mesh }, reason: 'demand forecast above capacity' });

    const output: string[] = [];
    const io = { stdout: { write: (text: string) => output.push(text) }, stderr: { write: () => true } };
    const rows = await eventually('events written', async () => {
      output.length = 0;
      const code = await runCli(['log', '--kubeconfig', inject('kubeconfigPath'), '-n', namespace, '-o', 'json'], io as never);
      expect(code).toBe(0);
      const parsed = JSON.parse(output.join('')) as DecisionRow[];
      return parsed.length === 3 ? parsed : undefined;
    });
    expect(rows.map((r) => r.outcome)).toEqual(['Proposed', 'Allowed', 'Executed']);
    expect(rows[2]).toMatchObject({ module: 'autoscaling', kind: 'scale', target: `Agent/${namespace}/busy`, reason: expect.stringContaining('scaled busy to 2 replicas') as string });

    output.length = 0;
    expect(await runCli(['log', '--kubeconfig', inject('kubeconfigPath'), '-n', namespace, '--outcome', 'executed'], io as never)).toBe(0);
    expect(output.join('')).toMatch(/TIME\s+MODULE\s+ACTION\s+TARGET\s+OUTCOME\s+REASON\n.*autoscaling\s+scale\s+Agent\/.*\/busy\s+Executed/);
    expect(await runCli(['log', '-o', 'xml', '--kubeconfig', inject('kubeconfigPath')], io as never)).toBe(2);
  });
});
