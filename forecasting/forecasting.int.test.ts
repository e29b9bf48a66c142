import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { Agent, Mesh } from '../crds/types.js';
import { runCli } from '../cli/program.js';
import type { DecisionRecord } from '../kernel/decision-log.js';
import type { KubeClient } from '../operator/kube/client.js';
import type { KubeObject } from '../operator/kube/object.js';
import { CoreResources, MeshOsResources } from '../operator/kube/resources.js';
import type { Deployment } from '../operator/controllers/workload.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { startTestOperator, type RunningOperator } from '../test/support/operator.js';
import { eventually } from '../test/support/wait.js';
import { DemandHistory, type EncodedHistory } from './demand/history.js';
import { startDemandServer } from './demand/push-server.js';
import { RESERVE_ANNOTATION } from '../scheduler/scheduler.js';
import { createForecastingModule, demandConfigMapName } from './module.js';

const STEP_MS = 60_000;
const PERIOD = 10; // a 10-minute demand cycle: one busy minute in ten
const BASE = 8;
const PEAK = 95;

describe('predictive scaling through the kernel loop', () => {
  let client: KubeClient;
  let namespace: string;
  let operator: RunningOperator | undefined;
  let demandServer: Awaited<ReturnType<typeof startDemandServer>> | undefined;
  const mesh = `fc-${Date.now().toString(36)}`;
  const reserveMesh = `${mesh}-reserve`;
  const agentName = 'seasonal';

  async function startOperator(): Promise<{ port: number }> {
    const forecasting = createForecastingModule({ trainIntervalMs: 2_000, planIntervalMs: 2_000, persistIntervalMs: 500 });
    // meshos-scheduler runs too (for this namespace's pods), so reservations reach it.
    operator = await startTestOperator({ kernelModules: [forecasting.module], kernelIntervalMs: 500, scheduler: { namespace } });
    demandServer = await startDemandServer('127.0.0.1', 0, forecasting.demand);
    return { port: demandServer.port };
  }

  async function stopOperator(): Promise<void> {
    await demandServer?.close();
    await operator?.stop();
    demandServer = undefined;
    operator = undefined;
  }

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'forecast');
    // meshos-scheduler binds this Mesh's pods: it reserves only for Agents whose pods it binds.
    const meshObject: Mesh = testMesh(mesh, 'meshos-scheduler');
    meshObject.spec.autoscaling = { predictive: true };
    await client.create(MeshOsResources.mesh, meshObject);
    // The reservation test's Agent lives in a Mesh of its own, so the capacity plans checked below
    // cover only the seasonal Agent whatever order the tests run in.
    await client.create(MeshOsResources.mesh, { ...meshObject, metadata: { name: reserveMesh }, spec: { ...meshObject.spec, did: `did:mesh:test:${reserveMesh}` } });
    const agent: Agent = testAgent(namespace, agentName, mesh, 1);
    agent.spec.region = 'eu-west';
    agent.spec.runtime = { ...agent.spec.runtime, minReplicas: 1, maxReplicas: 20, resources: { requests: { cpu: '500m', memory: '16Mi' } } };
    agent.spec.autoscaling = { enabled: true, source: 'Push', capacityPerReplica: 10, intervalSeconds: 60, seasonSeconds: PERIOD * 60, leadTimeSeconds: 300, quantile: 0.9 };
    await client.create(MeshOsResources.agent, agent);
  });

  afterAll(async () => {
    await stopOperator();
    await client.delete(MeshOsResources.mesh, undefined, mesh).catch(() => undefined);
    await client.delete(MeshOsResources.mesh, undefined, reserveMesh).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
  });

  it('rejects bad pushes with the field named, then scales the Deployment ahead of the forecast peak', async () => {
    const { port } = await startOperator();
    const url = `http://127.0.0.1:${port}/v1/demand/${namespace}/${agentName}`;
    const bad = await fetch(url, { method: 'POST', body: JSON.stringify({ samples: [{ time: 'noon', value: 1 }] }) });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/samples\[0\]\.time/);

    // Three hours of history ending now; the next busy minute is 3 minutes after the last sample.
    const lastMinute = Math.floor(Date.now() / STEP_MS);
    const peakMinute = lastMinute + 3;
    const samples = Array.from({ length: 180 }, (_, i) => {
      const minute = lastMinute - 179 + i;
      return { time: new Date(minute * STEP_MS).toISOString(), value: (minute - peakMinute) % PERIOD === 0 ? PEAK : BASE };
    });
    await eventually('push accepted', async () => (await fetch(url, { method: 'POST', body: JSON.stringify({ samples }) })).status === 204, 60_000, 500);

    const executed = await eventually(
      'scale-up executed by the kernel loop',
      () => operator?.manager.decisions.query({ module: 'forecasting' }).find((d: DecisionRecord) => d.kind === 'scale' && d.outcome === 'executed'),
      90_000,
      250,
    );
    // The decision came before the busy minute, while demand was still at its base level.
    expect(Date.parse(executed.time)).toBeLessThan(peakMinute * STEP_MS);
    const proposed = operator?.manager.decisions.query({ module: 'forecasting' }).find((d: DecisionRecord) => d.outcome === 'proposed' && d.actionId === executed.actionId);
    expect(proposed?.reason).toMatch(/forecast demand/);
    const agent = await client.get<Agent>(MeshOsResources.agent, namespace, agentName);
    expect(agent.spec.runtime.replicas).toBe(Math.ceil(PEAK / 10));
    await eventually('Deployment scaled', async () => (await client.get<Deployment>(CoreResources.deployment, namespace, agentName)).spec?.replicas === Math.ceil(PEAK / 10), 60_000);

    const forecast = await eventually('forecast in Agent status', async () => (await client.get<Agent>(MeshOsResources.agent, namespace, agentName)).status?.forecast);
    expect(forecast['model']).toEqual(expect.any(String));
  });

  it('reserves capacity through the scheduler annotation ahead of a forecast peak, as an action with Events', async () => {
    // Predictive scaling off for this Agent: its replicas stay at 1 until demand rises, so the
    // reservation for the coming peak is what prepares for it.
    const name = 'reserved';
    const agent: Agent = testAgent(namespace, name, reserveMesh, 1);
    agent.spec.runtime = { ...agent.spec.runtime, minReplicas: 1, maxReplicas: 20 };
    agent.spec.autoscaling = { enabled: true, predictive: false, source: 'Push', capacityPerReplica: 10, intervalSeconds: 60, seasonSeconds: PERIOD * 60, leadTimeSeconds: 300, quantile: 0.9 };
    await client.create(MeshOsResources.agent, agent);
    const url = `http://127.0.0.1:${demandServer?.port ?? 0}/v1/demand/${namespace}/${name}`;
    const lastMinute = Math.floor(Date.now() / STEP_MS);
    const peakMinute = lastMinute + 4;
    const samples = Array.from({ length: 180 }, (_, i) => {
      const minute = lastMinute - 179 + i;
      return { time: new Date(minute * STEP_MS).toISOString(), value: (minute - peakMinute) % PERIOD === 0 ? PEAK : BASE };
    });
    await eventually('push accepted', async () => (await fetch(url, { method: 'POST', body: JSON.stringify({ samples }) })).status === 204, 60_000, 500);

    const reserved = await eventually(
      'reservation annotation on the Agent',
      async () => (await client.get<Agent>(MeshOsResources.agent, namespace, name)).metadata.annotations?.[RESERVE_ANNOTATION],
      90_000,
      250,
    );
    // The peak (95/s) needs 10 replicas of 10/s; 1 runs: room for at least 9 more.
    expect(Number(reserved)).toBeGreaterThanOrEqual(Math.ceil(PEAK / 10) - 1);
    expect((await client.get<Agent>(MeshOsResources.agent, namespace, name)).spec.runtime.replicas).toBe(1);
    const decisions = operator?.manager.decisions.query({ module: 'forecasting' }).filter((d: DecisionRecord) => d.kind === 'reserve' && d.target.name === name) ?? [];
    expect(decisions.map((d) => d.outcome)).toEqual(expect.arrayContaining(['proposed', 'allowed', 'executed']));
    expect(decisions.find((d) => d.outcome === 'proposed')?.reason).toMatch(/upper forecast peak .* reserving room for \d+ more/);
    const events = await eventually('reservation Events on the Agent', async () => {
      const list = await client.list<KubeObject & { reason?: string; action?: string; regarding?: { name?: string } }>(CoreResources.event, namespace);
      const found = list.items.filter((e) => e.regarding?.name === name && e.action === 'forecasting/reserve');
      return found.some((e) => e.reason === 'ActionExecuted') ? found : undefined;
    }, 60_000, 500);
    expect(events.map((e) => e.reason)).toContain('ActionExecuted');
    // The scheduler acted on the annotation: it holds room for the Agent's coming replicas.
    const held = await eventually('scheduler reservation Event', async () => {
      const list = await client.list<KubeObject & { reason?: string; note?: string; regarding?: { name?: string } }>(CoreResources.event, namespace);
      return list.items.find((e) => e.regarding?.name === name && e.reason === 'Reserved');
    }, 60_000, 500);
    expect(held.note).toMatch(/^Reserved room for [1-9]\d* of \d+ replicas .* on /);
    expect(operator?.manager.scheduler?.listHolds().some((h) => h.agent === `${namespace}/${name}`)).toBe(true);
  });

  it('rejects autoscaling without a capacity per replica, or scraping without a metric, naming the field', async () => {
    const agent: Agent = testAgent(namespace, 'no-capacity', mesh, 1);
    agent.spec.autoscaling = { enabled: true, source: 'Push' };
    await expect(client.create(MeshOsResources.agent, agent)).rejects.toThrow(/spec.autoscaling.capacityPerReplica is required/);
    agent.spec.autoscaling = { enabled: true, capacityPerReplica: 5 };
    await expect(client.create(MeshOsResources.agent, agent)).rejects.toThrow(/spec.autoscaling.metric is required/);
  });

  it('writes 7d, 30d and 90d capacity plans per region into the Mesh status, shown by mesh plan', async () => {
    const plans = await eventually(
      'capacity plans',
      async () => {
        const found = (await client.get<Mesh>(MeshOsResources.mesh, undefined, mesh)).status?.capacityPlans?.plans;
        return found?.length === 3 ? found : undefined;
      },
      60_000,
      500,
    );
    expect(plans.map((p) => p.horizon)).toEqual(['7d', '30d', '90d']);
    const region = plans[1]?.regions[0];
    expect(region).toMatchObject({ region: 'eu-west', agents: 1 });
    expect(region?.peakDemand).toBeGreaterThan(BASE);
    expect(region?.peakReplicas).toBeGreaterThanOrEqual(2);
    expect(region?.nodesAvailable).toBeGreaterThan(0);
    expect(region?.cost).toBeGreaterThan(0);
    expect(region?.carbonKg).toBeGreaterThan(0);

    const output: string[] = [];
    const io = { stdout: { write: (text: string) => output.push(text) }, stderr: { write: () => true } };
    expect(await runCli(['plan', '--kubeconfig', inject('kubeconfigPath'), '--mesh', mesh, '--horizon', '30d'], io as never)).toBe(0);
    expect(output.join('')).toMatch(/Capacity plan for mesh .*, 30d[\s\S]*Region eu-west \(1 agent\)[\s\S]*replicas\s+peak/);
    expect(await runCli(['plan', '--kubeconfig', inject('kubeconfigPath'), '--mesh', mesh, '--horizon', '45d'], io as never)).toBe(2);
    output.length = 0;
    expect(await runCli(['plan', '--kubeconfig', inject('kubeconfigPath'), '--mesh', mesh, '--horizon', '30d', '-o', 'json'], io as never)).toBe(0);
    expect(JSON.parse(output.join(''))).toMatchObject({ mesh, horizon: '30d', regions: [{ region: 'eu-west', agents: 1 }] });
    output.length = 0;
    expect(await runCli(['plan', '--kubeconfig', inject('kubeconfigPath'), '--mesh', mesh, '--horizon', '30d', '-o', 'wide'], io as never)).toBe(0);
    expect(output.join('')).toMatch(/^REGION\s+AGENTS\s+PEAK DEMAND[\s\S]*\neu-west\s+1\s+/);
    expect(await runCli(['plan', '--kubeconfig', inject('kubeconfigPath'), '--mesh', `${mesh}-none`], io as never)).toBe(1);
  });

  it('keeps the demand history in a ConfigMap, so a restarted operator forecasts from it', async () => {
    const stored = await eventually('history persisted', async () => {
      const configMap = await client.get<KubeObject & { data?: EncodedHistory }>(CoreResources.configMap, namespace, demandConfigMapName(agentName)).catch(() => undefined);
      return configMap?.data && DemandHistory.decode(configMap.data, STEP_MS, 100_000).length >= 180 ? configMap : undefined;
    });
    expect(stored.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Agent', name: agentName });

    await stopOperator();
    const before = (await client.get<Agent>(MeshOsResources.agent, namespace, agentName)).status?.forecast?.['trainedAt'];
    await startOperator();
    const forecast = await eventually(
      'forecast refitted from the stored history',
      async () => {
        const current = (await client.get<Agent>(MeshOsResources.agent, namespace, agentName)).status?.forecast;
        return current && current['trainedAt'] !== before ? current : undefined;
      },
      60_000,
      500,
    );
    expect(forecast['historyPoints']).toBeGreaterThanOrEqual(180);
  });
});
