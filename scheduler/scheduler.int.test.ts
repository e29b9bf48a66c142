// meshos-scheduler against the real API server, with kwok nodes this file creates (so it
// controls their labels) and a node selector that keeps the shared test nodes out.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Agent } from '../crds/types.js';
import { createKwokNodes } from '../test/harness/nodes.js';
import { createKubectl, type Kubectl } from '../test/harness/kubectl.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { startTestOperator } from '../test/support/operator.js';
import { eventually } from '../test/support/wait.js';
import type { KubeClient } from '../operator/kube/client.js';
import { CoreResources, MeshOsResources, type ResourceType } from '../operator/kube/resources.js';
import { createLogger } from '../operator/log.js';
import { Registry } from 'prom-client';
import { SCHEDULED_NODE_ANNOTATION, podRequests, type NodeObject, type PodObject } from './cluster.js';
import { LABELS, latencyMs } from './model.js';
import { MeshScheduler, PDB } from './scheduler.js';
import { RESERVATION_TTL_MS, RESERVE_ANNOTATION, annotationSetAt } from './reservation.js';
import { createMigrationModule } from './migration.js';

const PRIORITY_CLASS: ResourceType = { group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses', kind: 'PriorityClass', namespaced: false };

let client: KubeClient;
let kubectl: Kubectl;
let namespace: string;
const namespaces: string[] = [];
const pools: string[] = [];

/** Each test (and each property run) gets its own namespace: pods left pending by one must not take another's nodes. */
async function freshNamespace(): Promise<string> {
  namespace = await createTestNamespace(client, 'sched');
  namespaces.push(namespace);
  return namespace;
}
const meshes: string[] = [];

interface NodeSpec {
  region: string;
  cost: number;
  carbon: number;
  trust: number;
  cpu?: string;
  taint?: boolean;
  /** Default `<region>-a|b|c` by position. */
  zone?: string;
}

/** Kwok nodes of a pool of our own, with the attribute labels. */
async function makePool(pool: string, specs: NodeSpec[]): Promise<string[]> {
  pools.push(pool);
  const names = await createKwokNodes(kubectl, specs.length, {
    namePrefix: `${pool}-`,
    cpu: specs[0]?.cpu ?? '4',
    memory: '16Gi',
    labels: (i) => {
      const spec = specs[i] as NodeSpec;
      return {
        'meshos.dev/test-pool': pool,
        [LABELS.region]: spec.region,
        [LABELS.zone]: spec.zone ?? `${spec.region}-${String.fromCharCode(97 + (i % 3))}`,
        [LABELS.costPerHour]: String(spec.cost),
        [LABELS.carbonIntensity]: String(spec.carbon),
        [LABELS.trustLevel]: String(spec.trust),
      };
    },
    waitTimeoutSeconds: 120,
  });
  // The node lifecycle controller taints new nodes not-ready until it sees them Ready.
  await eventually('nodes without lifecycle taints', async () => {
    const nodes = await client.list<NodeObject>(CoreResources.node, undefined, { labelSelector: `meshos.dev/test-pool=${pool}` });
    return nodes.items.every((n) => !(n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/')));
  }, 60_000, 250);
  for (const [i, name] of names.entries()) {
    if (specs[i]?.taint) await client.patch(CoreResources.node, undefined, name, { spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] } });
  }
  return names;
}

function startScheduler(pool: string, options: Partial<ConstructorParameters<typeof MeshScheduler>[0]> = {}): { scheduler: MeshScheduler; stop: () => Promise<void> } {
  const scheduler = new MeshScheduler({
    client,
    logger: createLogger({ level: 'warn' }),
    namespace,
    nodeSelector: `meshos.dev/test-pool=${pool}`,
    batchWindowMs: 50,
    retryUnschedulableMs: 1000,
    registry: new Registry(),
    ...options,
  });
  const stop = new AbortController();
  const running = scheduler.run(stop.signal);
  return {
    scheduler,
    stop: async () => {
      stop.abort();
      await running;
    },
  };
}

function podManifest(name: string, over: { agent?: string; cpu?: string; priorityClassName?: string; nodeSelector?: Record<string, string>; tolerate?: boolean; nodeName?: string; labels?: Record<string, string> } = {}): PodObject {
  const manifest: unknown = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { ...(over.agent ? { 'meshos.dev/agent': over.agent } : {}), ...(over.labels ?? {}) } },
    spec: {
      schedulerName: 'meshos-scheduler',
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: over.cpu ?? '500m', memory: '64Mi' } } }],
      ...(over.priorityClassName ? { priorityClassName: over.priorityClassName } : {}),
      ...(over.nodeSelector ? { nodeSelector: over.nodeSelector } : {}),
      ...(over.tolerate ? { tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }] } : {}),
      ...(over.nodeName ? { nodeName: over.nodeName } : {}),
    },
  };
  return manifest as PodObject;
}

async function podsOf(selector?: string): Promise<PodObject[]> {
  return (await client.list<PodObject>(CoreResources.pod, namespace, selector ? { labelSelector: selector } : {})).items;
}

async function agentWith(name: string, mesh: string, scheduling: NonNullable<Agent['spec']['scheduling']>, sla?: number, replicas = 1): Promise<Agent> {
  const agent = testAgent(namespace, name, mesh, replicas);
  agent.spec.scheduling = scheduling;
  if (sla !== undefined) agent.spec.sla = { maxLatencyMs: sla };
  agent.spec.runtime.resources = { requests: { cpu: '500m', memory: '64Mi' } };
  return client.create(MeshOsResources.agent, agent);
}

beforeAll(async () => {
  client = await testClient();
  kubectl = createKubectl(inject('kubectlPath'), inject('kubeconfigPath'));
});

afterAll(async () => {
  for (const name of namespaces) await deleteNamespace(client, name);
  for (const mesh of meshes) await client.delete(MeshOsResources.mesh, undefined, mesh).catch(() => undefined);
  for (const pool of pools) await kubectl(['delete', 'nodes', '-l', `meshos.dev/test-pool=${pool}`, '--wait=false']).catch(() => undefined);
});

describe('meshos-scheduler', () => {
  it("binds an Agent's pods (created by the operator from the Mesh's schedulerName) to the best nodes, spread, with Events saying why", async () => {
    await freshNamespace();
    const pool = `${namespace}-a`;
    const names = await makePool(pool, [
      { region: 'eu-west', cost: 0.2, carbon: 100, trust: 95 },
      { region: 'eu-west', cost: 0.25, carbon: 120, trust: 90 },
      { region: 'eu-west', cost: 0.22, carbon: 110, trust: 92 },
      { region: 'ap-south', cost: 0.1, carbon: 700, trust: 40 },
      { region: 'eu-west', cost: 1.6, carbon: 400, trust: 60, taint: true },
    ]);
    const meshName = `${namespace}-mesh`;
    meshes.push(meshName);
    await client.create(MeshOsResources.mesh, testMesh(meshName, 'meshos-scheduler'));
    const operator = await startTestOperator({ scheduler: { namespace, nodeSelector: `meshos.dev/test-pool=${pool}`, batchWindowMs: 50 } });
    try {
      await agentWith('translator', meshName, { usersRegion: 'eu-west', minNodeTrust: 50 }, 100, 3);
      const bound = await eventually('3 bound pods', async () => {
        const pods = (await podsOf('meshos.dev/agent=translator')).filter((p) => p.spec?.nodeName);
        return pods.length === 3 ? pods : undefined;
      }, 90_000);
      const nodes = bound.map((p) => p.spec?.nodeName);
      expect(new Set(nodes).size).toBe(3);
      expect(new Set(nodes)).toEqual(new Set(names.slice(0, 3)));
      expect(bound.every((p) => p.spec?.schedulerName === 'meshos-scheduler')).toBe(true);
      expect(bound.every((p) => p.metadata.annotations?.[SCHEDULED_NODE_ANNOTATION] === p.spec?.nodeName)).toBe(true);
      const events = await eventually('Scheduled events', async () => {
        const list = await client.list<{ metadata: { name?: string }; reason?: string; note?: string }>(CoreResources.event, namespace);
        const scheduled = list.items.filter((e) => e.reason === 'Scheduled');
        return scheduled.length >= 3 ? scheduled : undefined;
      });
      expect(events[0]?.note).toMatch(/Bound .* to .*: score 0\.\d+ .*cost .*latency .*trust .*carbon/);
      const metrics = await operator.manager.metrics.registry.getSingleMetricAsString('meshos_scheduler_bindings_total');
      expect(metrics).toMatch(/result="bound"} 3/);
    } finally {
      await operator.stop();
    }
  });

  it('never violates a hard constraint on random clusters (property test, bounded)', async () => {
    let run = 0;
    await freshNamespace();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ region: fc.constantFrom('eu-west', 'us-east', 'ap-south'), cost: fc.constantFrom(0.1, 0.4, 0.9), carbon: fc.integer({ min: 50, max: 700 }), trust: fc.integer({ min: 30, max: 100 }), taint: fc.boolean() }), { minLength: 2, maxLength: 4 }),
        fc.array(fc.record({ cpu: fc.constantFrom('250m', '1', '2'), agent: fc.constantFrom('a', 'b', 'c'), tolerate: fc.boolean() }), { minLength: 3, maxLength: 10 }),
        fc.record({ sla: fc.option(fc.constantFrom(50, 100), { nil: undefined }), trust: fc.option(fc.constantFrom(50, 80), { nil: undefined }), users: fc.constantFrom('eu-west', 'us-east', 'ap-south') }),
        async (nodeSpecs, podSpecs, constraint) => {
          run++;
          await freshNamespace();
          const pool = `${namespace}-p${run}`;
          const meshName = `${namespace}-pm${run}`;
          meshes.push(meshName);
          await client.create(MeshOsResources.mesh, testMesh(meshName, 'meshos-scheduler'));
          const nodeNames = await makePool(pool, nodeSpecs.map((s) => ({ ...s, cpu: '2' })));
          for (const agent of ['a', 'b', 'c']) {
            await agentWith(`${pool}-${agent}`, meshName, { usersRegion: constraint.users, ...(constraint.trust !== undefined ? { minNodeTrust: constraint.trust } : {}) }, constraint.sla);
          }
          const { scheduler, stop } = startScheduler(pool);
          try {
            await eventually('agents in cache', () => scheduler.agents.store.size >= 3);
            for (const [i, spec] of podSpecs.entries()) await client.create(CoreResources.pod, podManifest(`${pool}-${i}`, { agent: `${pool}-${spec.agent}`, cpu: spec.cpu, tolerate: spec.tolerate, labels: { pool } }));
            // Every pod is either bound or was found unschedulable.
            await eventually('every pod decided', async () => {
              const pods = await podsOf(`pool=${pool}`);
              return pods.every((p) => p.spec?.nodeName || p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'));
            }, 60_000, 250);
            const pods = await podsOf(`pool=${pool}`);
            const nodes = new Map((await client.list<NodeObject>(CoreResources.node, undefined, { labelSelector: `meshos.dev/test-pool=${pool}` })).items.map((n) => [n.metadata.name ?? '', n]));
            const used = new Map<string, number>();
            const spread = new Set<string>();
            for (const p of pods.filter((x) => x.spec?.nodeName)) {
              const nodeName = p.spec?.nodeName ?? '';
              expect(nodeNames).toContain(nodeName);
              const node = nodes.get(nodeName) as NodeObject;
              const labels = node.metadata.labels ?? {};
              const spec = podSpecs[Number(p.metadata.name?.split('-').pop())];
              if (node.spec?.taints?.length) expect(spec?.tolerate, `${p.metadata.name ?? ''} on tainted ${nodeName}`).toBe(true);
              if (constraint.trust !== undefined) expect(Number(labels[LABELS.trustLevel])).toBeGreaterThanOrEqual(constraint.trust);
              if (constraint.sla !== undefined) expect(latencyMs({}, constraint.users, labels[LABELS.region] ?? '')).toBeLessThanOrEqual(constraint.sla);
              used.set(nodeName, (used.get(nodeName) ?? 0) + podRequests(p).cpu);
              const group = `${p.metadata.labels?.['meshos.dev/agent'] ?? ''}@${nodeName}`;
              expect(spread.has(group), `two replicas of one Agent on ${nodeName}`).toBe(false);
              spread.add(group);
            }
            for (const [nodeName, cpu] of used) expect(cpu, `CPU requested on ${nodeName}`).toBeLessThanOrEqual(2000);
            // Zone spread: per Agent and region with two or more zones it may use, a zone past
            // ceil(replicas in the region / zones) only when no other zone of the region under
            // its cap has a node that could take the replica now.
            const staticOk = (index: number, node: NodeObject): boolean => {
              const labels = node.metadata.labels ?? {};
              if (node.spec?.taints?.length && !podSpecs[index]?.tolerate) return false;
              if (constraint.trust !== undefined && Number(labels[LABELS.trustLevel]) < constraint.trust) return false;
              return constraint.sla === undefined || latencyMs({}, constraint.users, labels[LABELS.region] ?? '') <= constraint.sla;
            };
            const bound = pods.filter((p) => p.spec?.nodeName);
            for (const agent of ['a', 'b', 'c']) {
              const members = bound.filter((p) => p.metadata.labels?.['meshos.dev/agent'] === `${pool}-${agent}`);
              const all = podSpecs.map((spec, i) => ({ spec, i })).filter(({ spec }) => spec.agent === agent);
              const zonesOf = new Map<string, Set<string>>();
              for (const node of nodes.values()) {
                const labels = node.metadata.labels ?? {};
                if (all.some(({ i }) => staticOk(i, node))) zonesOf.set(labels[LABELS.region] ?? '', (zonesOf.get(labels[LABELS.region] ?? '') ?? new Set()).add(labels[LABELS.zone] ?? ''));
              }
              const zoneOfNode = (name: string): string => nodes.get(name)?.metadata.labels?.[LABELS.zone] ?? '';
              const counts = new Map<string, number>();
              for (const p of members) counts.set(zoneOfNode(p.spec?.nodeName ?? ''), (counts.get(zoneOfNode(p.spec?.nodeName ?? '')) ?? 0) + 1);
              for (const zones of zonesOf.values()) {
                if (zones.size < 2) continue;
                const cap = Math.ceil([...zones].reduce((sum, z) => sum + (counts.get(z) ?? 0), 0) / zones.size);
                for (const p of members) {
                  const zone = zoneOfNode(p.spec?.nodeName ?? '');
                  if (!zones.has(zone) || (counts.get(zone) ?? 0) <= cap) continue;
                  const index = Number(p.metadata.name?.split('-').pop());
                  for (const [name, node] of nodes) {
                    const other = zoneOfNode(name);
                    if (other === zone || !zones.has(other) || (counts.get(other) ?? 0) >= cap || !staticOk(index, node)) continue;
                    const hasReplica = members.some((m) => m.spec?.nodeName === name);
                    const fits = (used.get(name) ?? 0) + podRequests(p).cpu <= 2000;
                    expect(hasReplica || !fits, `${p.metadata.name ?? ''} past the cap of zone ${zone} while ${name} (zone ${other}) could take it`).toBe(true);
                  }
                }
              }
            }
          } finally {
            await stop();
          }
        },
      ),
      { numRuns: 3, seed: 7 },
    );
  }, 600_000);

  it('re-queues a pod whose node vanished or filled up between the solve and the binding, never over-committing', async () => {
    await freshNamespace();
    const pool = `${namespace}-r`;
    await makePool(pool, [
      { region: 'eu-west', cost: 0.1, carbon: 100, trust: 95 },
      { region: 'eu-west', cost: 0.2, carbon: 100, trust: 95 },
      { region: 'eu-west', cost: 0.3, carbon: 100, trust: 95 },
    ]);
    const raced = new Map<string, string>(); // pod -> node taken from under it
    const { scheduler, stop } = startScheduler(pool, {
      beforeBind: async (pod, node) => {
        if (pod.endsWith('/vanish') && !raced.has('vanish')) {
          raced.set('vanish', node);
          await client.delete(CoreResources.node, undefined, node);
          await eventually('node gone from cache', () => !scheduler.nodes.store.get(node));
        }
        if (pod.endsWith('/fill') && !raced.has('fill')) {
          raced.set('fill', node);
          // Another scheduler (here: a direct nodeName) takes the rest of the node meanwhile.
          const live = scheduler.nodes.store.get(node);
          const free = live ? scheduler.nodeNow(live, pod).free.cpu : 0; // room as if this pod were not there
          await client.create(CoreResources.pod, podManifest('squatter', { cpu: `${free}m`, nodeName: node }));
          await eventually('squatter in cache', () => scheduler.pods.store.get(`${namespace}/squatter`)?.spec?.nodeName === node);
        }
      },
    });
    try {
      await client.create(CoreResources.pod, podManifest('vanish', { cpu: '1500m' }));
      const vanished = await eventually('vanish bound', async () => (await client.get<PodObject>(CoreResources.pod, namespace, 'vanish')).spec?.nodeName);
      expect(raced.get('vanish')).toBeDefined();
      expect(vanished).not.toBe(raced.get('vanish'));
      await client.create(CoreResources.pod, podManifest('fill', { cpu: '1500m' }));
      const filled = await eventually('fill bound', async () => (await client.get<PodObject>(CoreResources.pod, namespace, 'fill')).spec?.nodeName);
      expect(raced.get('fill')).toBeDefined();
      expect(filled).not.toBe(raced.get('fill'));
      // Nothing over-committed: every node's requests within its 4 CPUs.
      const used = new Map<string, number>();
      for (const p of await podsOf()) if (p.spec?.nodeName?.startsWith(pool)) used.set(p.spec.nodeName, (used.get(p.spec.nodeName) ?? 0) + podRequests(p).cpu);
      for (const [node, cpu] of used) expect(cpu, node).toBeLessThanOrEqual(4000);
      const requeued = (await scheduler.metrics?.podsBound.get())?.values.find((v) => v.labels.result === 'requeued')?.value;
      expect(requeued).toBe(2);
    } finally {
      await stop();
    }
  });

  it('preempts the fewest, lowest-priority pods, honouring PodDisruptionBudgets', async () => {
    await freshNamespace();
    const pool = `${namespace}-pre`;
    const [nodeA, nodeB] = await makePool(pool, [
      { region: 'eu-west', cost: 0.1, carbon: 100, trust: 95, cpu: '2' },
      { region: 'eu-west', cost: 0.1, carbon: 100, trust: 95, cpu: '2' },
    ]);
    for (const [name, value] of [[`${namespace}-low`, 10], [`${namespace}-mid`, 100], [`${namespace}-high`, 1000]] as const) {
      await client.create(PRIORITY_CLASS, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value } as never).catch(() => undefined);
    }
    // A: two low pods of 1 CPU; B: one mid pod of 2 CPU, protected by a PDB.
    const place = async (name: string, node: string, cpu: string, priority: string): Promise<void> => {
      const manifest = podManifest(name, { cpu, priorityClassName: `${namespace}-${priority}`, nodeName: node, labels: { role: name } });
      await client.create(CoreResources.pod, manifest);
    };
    await place('low-1', nodeA as string, '1', 'low');
    await place('low-2', nodeA as string, '1', 'low');
    await place('mid-1', nodeB as string, '2', 'mid');
    await client.create(PDB, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'keep-mid', namespace }, spec: { minAvailable: 1, selector: { matchLabels: { role: 'mid-1' } } } } as never);
    await eventually('PDB status computed', async () => (await client.get<{ metadata: object; status?: { observedGeneration?: number; currentHealthy?: number } }>(PDB, namespace, 'keep-mid')).status?.currentHealthy === 1, 60_000);
    const { scheduler, stop } = startScheduler(pool);
    try {
      await client.create(CoreResources.pod, podManifest('vip', { cpu: '2', priorityClassName: `${namespace}-high` }));
      // Without the PDB, B (one victim) would win; with it, the two low pods on A go.
      const node = await eventually('vip bound', async () => (await client.get<PodObject>(CoreResources.pod, namespace, 'vip')).spec?.nodeName, 90_000, 250);
      expect(node).toBe(nodeA);
      const left = (await podsOf()).filter((p) => ['low-1', 'low-2', 'mid-1'].includes(p.metadata.name ?? '') && !p.metadata.deletionTimestamp).map((p) => p.metadata.name);
      expect(left).toEqual(['mid-1']);
      expect((await scheduler.metrics?.preemptions.get())?.values[0]?.value).toBe(2);
    } finally {
      await stop();
    }
  });

  it('migrates a pod when a better node appears, within the rate limit, through the kernel loop', async () => {
    await freshNamespace();
    const pool = `${namespace}-mig`;
    const [cheap1, cheap2] = await makePool(pool, [
      { region: 'eu-west', cost: 0.1, carbon: 50, trust: 99, taint: true },
      { region: 'eu-west', cost: 0.1, carbon: 50, trust: 99, taint: true },
      { region: 'eu-west', cost: 1.2, carbon: 600, trust: 60 },
      { region: 'eu-west', cost: 1.2, carbon: 600, trust: 60 },
    ]);
    const meshName = `${namespace}-mig`;
    meshes.push(meshName);
    await client.create(MeshOsResources.mesh, testMesh(meshName, 'meshos-scheduler'));
    const ref: { manager?: { scheduler: MeshScheduler | undefined } } = {};
    const operator = await startTestOperator({
      scheduler: { namespace, nodeSelector: `meshos.dev/test-pool=${pool}`, batchWindowMs: 50 },
      kernelModules: [createMigrationModule({ scheduler: () => ref.manager?.scheduler, threshold: 0.05, maxMovesPerHour: 1, verifyWindowMs: 2000 })],
      kernelIntervalMs: 1000,
    });
    ref.manager = operator.manager;
    try {
      await agentWith('mover', meshName, { usersRegion: 'eu-west' }, undefined, 2);
      const before = await eventually('2 pods on the dear nodes', async () => {
        const pods = (await podsOf('meshos.dev/agent=mover')).filter((p) => p.spec?.nodeName && !p.metadata.deletionTimestamp);
        return pods.length === 2 ? pods : undefined;
      }, 90_000);
      expect(before.every((p) => p.spec?.nodeName !== cheap1 && p.spec?.nodeName !== cheap2)).toBe(true);
      // Two better nodes appear; the limit allows one move per hour.
      for (const node of [cheap1, cheap2]) await client.patch(CoreResources.node, undefined, node as string, { spec: { taints: [] } });
      const after = await eventually('one replica moved to a cheap node', async () => {
        const pods = (await podsOf('meshos.dev/agent=mover')).filter((p) => p.spec?.nodeName && !p.metadata.deletionTimestamp);
        return pods.length === 2 && pods.some((p) => p.spec?.nodeName === cheap1 || p.spec?.nodeName === cheap2) ? pods : undefined;
      }, 90_000, 250);
      expect(new Set(after.map((p) => p.spec?.nodeName)).size).toBe(2);
      const verified = await eventually('move verified by the loop', () =>
        operator.manager.decisions.query({ module: 'scheduler-migration', limit: 50 }).find((d) => d.outcome === 'verified'),
      30_000, 250);
      expect(verified.measured?.after).toBeLessThan(verified.measured?.before ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const executed = operator.manager.decisions.query({ module: 'scheduler-migration', limit: 50 }).filter((d) => d.outcome === 'executed');
      expect(executed).toHaveLength(1);
      const still = (await podsOf('meshos.dev/agent=mover')).filter((p) => p.spec?.nodeName === cheap1 || p.spec?.nodeName === cheap2);
      expect(still).toHaveLength(1);
    } finally {
      await operator.stop();
    }
  });

  it('reserves capacity for an Agent (annotation) that other pods cannot take and its scale-up lands on at once', async () => {
    await freshNamespace();
    const pool = `${namespace}-res`;
    const [nodeA, nodeB, nodeC] = await makePool(pool, [
      { region: 'eu-west', cost: 0.1, carbon: 50, trust: 99, cpu: '2' },
      { region: 'eu-west', cost: 0.2, carbon: 60, trust: 98, cpu: '2' },
      { region: 'eu-west', cost: 0.9, carbon: 600, trust: 60, cpu: '2' },
    ]);
    const meshName = `${namespace}-res`;
    meshes.push(meshName);
    await client.create(MeshOsResources.mesh, testMesh(meshName, 'meshos-scheduler'));
    for (const [name, cpu] of [['burst', '2'], ['other', '1']] as const) {
      const agent = testAgent(namespace, name, meshName, 2);
      agent.spec.scheduling = { usersRegion: 'eu-west' };
      agent.spec.runtime.resources = { requests: { cpu, memory: '64Mi' } };
      await client.create(MeshOsResources.agent, agent);
    }
    const { scheduler, stop } = startScheduler(pool);
    try {
      await eventually('agents in cache', () => scheduler.agents.store.get(`${namespace}/burst`));
      await client.patch(MeshOsResources.agent, namespace, 'burst', { metadata: { annotations: { 'meshos.dev/reserve-replicas': '2' } } });
      const holds = await eventually('2 holds', () => {
        const found = scheduler.listHolds().filter((h) => h.agent === `${namespace}/burst`);
        return found.length === 2 ? found : undefined;
      }, 30_000, 100);
      expect(new Set(holds.map((h) => h.node))).toEqual(new Set([nodeA, nodeB]));
      for (const i of [0, 1]) await client.create(CoreResources.pod, podManifest(`other-${i}`, { agent: 'other', cpu: '1' }));
      const others = await eventually('other pods decided', async () => {
        const pods = (await podsOf('meshos.dev/agent=other'));
        return pods.every((p) => p.spec?.nodeName || p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')) ? pods : undefined;
      }, 60_000, 250);
      expect(others.map((p) => p.spec?.nodeName).filter(Boolean)).toEqual([nodeC]);
      for (const i of [0, 1]) await client.create(CoreResources.pod, podManifest(`burst-${i}`, { agent: 'burst', cpu: '2' }));
      const bursts = await eventually('burst pods bound', async () => {
        const pods = (await podsOf('meshos.dev/agent=burst')).filter((p) => p.spec?.nodeName);
        return pods.length === 2 ? pods : undefined;
      }, 60_000, 250);
      expect(new Set(bursts.map((p) => p.spec?.nodeName))).toEqual(new Set([nodeA, nodeB]));
      expect(scheduler.listHolds().filter((h) => h.agent === `${namespace}/burst`)).toHaveLength(0);
    } finally {
      await stop();
    }
  });

  it("spreads an Agent's replicas over the zones of its region, and still schedules when only one zone has room", async () => {
    await freshNamespace();
    const pool = `${namespace}-z`;
    // Zone a has the two cheapest nodes: without the zone rule two replicas would share it.
    const [a1, a2, b1, c1] = await makePool(pool, [
      { region: 'eu-west', zone: 'eu-west-a', cost: 0.1, carbon: 100, trust: 95, cpu: '2' },
      { region: 'eu-west', zone: 'eu-west-a', cost: 0.1, carbon: 100, trust: 95, cpu: '2' },
      { region: 'eu-west', zone: 'eu-west-b', cost: 0.3, carbon: 100, trust: 95, cpu: '2' },
      { region: 'eu-west', zone: 'eu-west-c', cost: 0.5, carbon: 100, trust: 95, cpu: '2' },
    ]);
    const zoneOf = new Map([[a1, 'eu-west-a'], [a2, 'eu-west-a'], [b1, 'eu-west-b'], [c1, 'eu-west-c']]);
    const meshName = `${namespace}-z`;
    meshes.push(meshName);
    await client.create(MeshOsResources.mesh, testMesh(meshName, 'meshos-scheduler'));
    await agentWith('spread', meshName, { usersRegion: 'eu-west' }, undefined, 3);
    await agentWith('onezone', meshName, { usersRegion: 'eu-west' }, undefined, 2);
    const { scheduler, stop } = startScheduler(pool);
    try {
      await eventually('agents in cache', () => scheduler.agents.store.size >= 2);
      for (const i of [0, 1, 2]) await client.create(CoreResources.pod, podManifest(`spread-${i}`, { agent: 'spread', cpu: '500m' }));
      const spread = await eventually('3 spread replicas bound', async () => {
        const pods = (await podsOf('meshos.dev/agent=spread')).filter((p) => p.spec?.nodeName);
        return pods.length === 3 ? pods : undefined;
      }, 60_000, 250);
      expect(new Set(spread.map((p) => zoneOf.get(p.spec?.nodeName ?? '')))).toEqual(new Set(['eu-west-a', 'eu-west-b', 'eu-west-c']));
      // Fill zones b and c (another scheduler's pods, by nodeName): only zone a has room now.
      for (const [name, node] of [['fill-b', b1], ['fill-c', c1]] as const) await client.create(CoreResources.pod, podManifest(name, { cpu: '1500m', nodeName: node as string }));
      await eventually('fillers in cache', () => scheduler.pods.store.get(`${namespace}/fill-b`)?.spec?.nodeName !== undefined && scheduler.pods.store.get(`${namespace}/fill-c`)?.spec?.nodeName !== undefined);
      for (const i of [0, 1]) await client.create(CoreResources.pod, podManifest(`onezone-${i}`, { agent: 'onezone', cpu: '1' }));
      const oneZone = await eventually('both onezone replicas bound', async () => {
        const pods = (await podsOf('meshos.dev/agent=onezone')).filter((p) => p.spec?.nodeName);
        return pods.length === 2 ? pods : undefined;
      }, 60_000, 250);
      expect(new Set(oneZone.map((p) => p.spec?.nodeName))).toEqual(new Set([a1, a2]));
    } finally {
      await stop();
    }
  });

  it("rebuilds reservations after an operator restart, so a reserved Agent's scale-up lands on the held nodes at once", async () => {
    await freshNamespace();
    const pool = `${namespace}-rr`;
    const [nodeA, nodeB, nodeC] = await makePool(pool, [
      { region: 'eu-west', cost: 0.1, carbon: 50, trust: 99, cpu: '2' },
      { region: 'eu-west', cost: 0.2, carbon: 60, trust: 98, cpu: '2' },
      { region: 'eu-west', cost: 0.9, carbon: 600, trust: 60, cpu: '2' },
    ]);
    const meshName = `${namespace}-rr`;
    meshes.push(meshName);
    await client.create(MeshOsResources.mesh, testMesh(meshName, 'meshos-scheduler'));
    const burst = testAgent(namespace, 'burst', meshName, 0);
    burst.spec.scheduling = { usersRegion: 'eu-west' };
    burst.spec.runtime.resources = { requests: { cpu: '2', memory: '64Mi' } };
    await client.create(MeshOsResources.agent, burst);
    const schedulerOptions = { scheduler: { namespace, nodeSelector: `meshos.dev/test-pool=${pool}`, batchWindowMs: 50, retryUnschedulableMs: 1000 } };
    const reserved = (scheduler: MeshScheduler | undefined) => (scheduler?.listHolds() ?? []).filter((h) => h.agent === `${namespace}/burst` && h.reason === 'reservation');
    let operator = await startTestOperator(schedulerOptions);
    let before: ReturnType<typeof reserved>;
    try {
      await eventually('Agent in the scheduler cache', () => operator.manager.scheduler?.agents.store.get(`${namespace}/burst`));
      await client.patch(MeshOsResources.agent, namespace, 'burst', { metadata: { annotations: { 'meshos.dev/reserve-replicas': '2' } } });
      before = await eventually('2 holds', () => (reserved(operator.manager.scheduler).length === 2 ? reserved(operator.manager.scheduler) : undefined), 60_000, 100);
      expect(new Set(before.map((h) => h.node))).toEqual(new Set([nodeA, nodeB]));
    } finally {
      await operator.stop();
    }
    // A new operator process: the holds lived only in the old one's memory.
    operator = await startTestOperator(schedulerOptions);
    try {
      const after = await eventually('holds rebuilt', () => (reserved(operator.manager.scheduler).length === 2 ? reserved(operator.manager.scheduler) : undefined), 60_000, 100);
      expect(new Set(after.map((h) => h.node))).toEqual(new Set([nodeA, nodeB]));
      // The expiry of the original request (from managedFields, whose time moves when the same
      // field manager touches the Agent again), not 15 minutes from the restart.
      const live = await client.get<Agent>(MeshOsResources.agent, namespace, 'burst');
      const setAt = annotationSetAt(live, RESERVE_ANNOTATION) as number;
      for (const hold of after) {
        expect(hold.expiresAt % 1000).toBe(0); // from a timestamp of whole seconds, not Date.now()
        expect(Math.abs(hold.expiresAt - (setAt + RESERVATION_TTL_MS))).toBeLessThan(30_000);
      }
      // Another Agent's pods cannot take the held room...
      const other = testAgent(namespace, 'other', meshName, 2);
      other.spec.scheduling = { usersRegion: 'eu-west' };
      other.spec.runtime.resources = { requests: { cpu: '1', memory: '64Mi' } };
      await client.create(MeshOsResources.agent, other);
      const others = await eventually('other pods decided', async () => {
        const pods = await podsOf('meshos.dev/agent=other');
        return pods.length === 2 && pods.every((p) => p.spec?.nodeName || p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')) ? pods : undefined;
      }, 90_000, 250);
      expect(others.map((p) => p.spec?.nodeName).filter(Boolean)).toEqual([nodeC]);
      // ...and the reserved Agent's scale-up lands there at once, through the holds.
      await client.patch(MeshOsResources.agent, namespace, 'burst', { spec: { runtime: { replicas: 2 } } });
      const bursts = await eventually('burst replicas bound', async () => {
        const pods = (await podsOf('meshos.dev/agent=burst')).filter((p) => p.spec?.nodeName);
        return pods.length === 2 ? pods : undefined;
      }, 90_000, 250);
      expect(new Set(bursts.map((p) => p.spec?.nodeName))).toEqual(new Set([nodeA, nodeB]));
      const viaHolds = operator.manager.scheduler?.bindings.filter((b) => b.pod.startsWith(`${namespace}/burst`) && b.method.startsWith('held capacity (reservation'));
      expect(viaHolds).toHaveLength(2);
      expect(reserved(operator.manager.scheduler)).toHaveLength(0);
    } finally {
      await operator.stop();
    }
  });
});
