import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent, Mesh } from '../crds/types.js';
import type { KubeClient } from '../operator/kube/client.js';
import type { KubeObject } from '../operator/kube/object.js';
import { CoreResources, MeshOsResources } from '../operator/kube/resources.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { startTestOperator, type RunningOperator } from '../test/support/operator.js';
import { eventually } from '../test/support/wait.js';
import type { EncodedHistory } from './demand/history.js';
import { createForecastingModule, demandConfigMapName } from './module.js';

const RATE = 5; // requests per second on the route the Agent's selector picks
const OTHER_RATE = 100; // on a route the selector leaves out
const INTERVAL_SECONDS = 10;

/** The recorded samples of a stored history: [time ms, value] for every slot that has one. */
function storedSamples(data: Partial<EncodedHistory>): [number, number][] {
  const stepMs = Number(data.stepSeconds) * 1000;
  const startMs = Date.parse(data.start ?? '');
  const bytes = Buffer.from(data.values ?? '', 'base64');
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return [...floats].map((value, i): [number, number] => [startMs + i * stepMs, value]).filter(([, value]) => !Number.isNaN(value));
}

describe('demand scraped from the pods of an Agent', () => {
  let client: KubeClient;
  let namespace: string;
  let operator: RunningOperator | undefined;
  let metrics: Server;
  let port: number;
  let scrapes = 0;
  const startedMs = Date.now();
  const mesh = `fcs-${Date.now().toString(36)}`;
  const agentName = 'scraped';
  const podName = `${agentName}-metrics`;

  beforeAll(async () => {
    // The pod's metrics endpoint: a Prometheus text counter that grows at RATE/s on /api.
    metrics = createServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      scrapes++;
      const seconds = (Date.now() - startedMs) / 1000;
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(
        [
          '# HELP http_requests_total Requests served.',
          '# TYPE http_requests_total counter',
          `http_requests_total{route="/api",code="200"} ${Math.round(RATE * seconds * 1000) / 1000}`,
          `http_requests_total{route="/health",code="200"} ${Math.round(OTHER_RATE * seconds * 1000) / 1000}`,
          '# TYPE process_open_fds gauge',
          'process_open_fds 12',
          '',
        ].join('\n'),
      );
    });
    await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve));
    port = (metrics.address() as AddressInfo).port;

    client = await testClient();
    namespace = await createTestNamespace(client, 'scrape');
    await client.create(MeshOsResources.mesh, testMesh(mesh) satisfies Mesh);
    const agent: Agent = testAgent(namespace, agentName, mesh, 1);
    agent.spec.autoscaling = {
      enabled: true,
      predictive: false,
      source: 'Scrape',
      capacityPerReplica: 10,
      intervalSeconds: INTERVAL_SECONDS,
      metric: { name: 'http_requests_total', selector: { route: '/api' }, type: 'counter', port, path: '/metrics' },
    };
    await client.create(MeshOsResources.agent, agent);
    // A pod of the Agent as the operator finds them (its labels, Running, a pod IP); nothing binds it
    // (no scheduler has its name), so its status is the one set here: the pod IP is where the
    // metrics server above listens, as a pod network address is on a real cluster.
    await client.create(CoreResources.pod, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: podName, namespace, labels: { 'app.kubernetes.io/managed-by': 'meshos', 'meshos.dev/agent': agentName } },
      spec: { schedulerName: 'meshos-test-unscheduled', containers: [{ name: 'agent', image: 'registry.invalid/agent:1' }] },
    } as KubeObject);
    await client.patch(CoreResources.pod, namespace, podName, { status: { phase: 'Running', podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] } }, { subresource: 'status' });
  });

  afterAll(async () => {
    await operator?.stop();
    await client.delete(MeshOsResources.mesh, undefined, mesh).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
    await new Promise<void>((resolve) => metrics.close(() => resolve()));
  });

  async function start(persistIntervalMs: number): Promise<RunningOperator> {
    const forecasting = createForecastingModule({ persistIntervalMs, trainIntervalMs: 60_000, planIntervalMs: 600_000 });
    operator = await startTestOperator({ kernelModules: [forecasting.module], kernelIntervalMs: 500 });
    return operator;
  }

  async function stored(): Promise<[number, number][]> {
    const configMap = await client.get<KubeObject & { data?: Partial<EncodedHistory> }>(CoreResources.configMap, namespace, demandConfigMapName(agentName)).catch(() => undefined);
    return configMap?.data ? storedSamples(configMap.data) : [];
  }

  it('records the rate of the selected counter into the Agent demand history, written as the operator stops and kept across a restart', async () => {
    await start(500);
    // A counter needs two scrapes for a rate; persisted within a second after that.
    const first = await eventually('scraped demand persisted', async () => {
      const samples = await stored();
      return samples.length >= 2 ? samples : undefined;
    }, 120_000, 500);
    // Only the /api series counts (5/s), not /health (100/s): the selector is applied.
    for (const [, value] of first) {
      expect(value).toBeGreaterThan(RATE * 0.7);
      expect(value).toBeLessThan(RATE * 1.3);
    }

    await operator?.stop();
    operator = undefined;
    const beforeRestart = await stored();
    const lastBefore = Math.max(...beforeRestart.map(([time]) => time));
    // This term persists only as it ends (the interval is an hour): three scrapes (two rates)
    // later, stopping it must leave the newer samples stored.
    const scrapesBefore = scrapes;
    const restarted = await start(3_600_000);
    await eventually('two rates scraped after the restart', () => (scrapes >= scrapesBefore + 3 ? true : undefined), 120_000, 500);
    expect(await stored()).toEqual(beforeRestart);
    await restarted.stop();
    operator = undefined;
    const after = await stored();
    expect(after.some(([time]) => time > lastBefore)).toBe(true);
    // Everything stored before the restart is still there, and newer samples follow it.
    for (const [time, value] of beforeRestart) expect(after).toContainEqual([time, value]);
    for (const [time, value] of after.filter(([t]) => t > lastBefore)) {
      expect(time).toBeGreaterThan(lastBefore);
      expect(value).toBeGreaterThan(RATE * 0.7);
      expect(value).toBeLessThan(RATE * 1.3);
    }
  });
});
