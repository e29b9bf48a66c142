// Chaos tests of the healing module on a control plane of its own (kcm, kube-scheduler, kwok
// renewing node Leases every second), with its own kwok nodes: kill one node, 10% of nodes,
// a whole zone; restart the operator leader mid-failover; restart kube-apiserver; flap a
// node's heartbeat around the timeout. Each checks: no Agent lost, no pod moved twice, no
// healthy node remediated, every Agent Ready again.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Agent, Mesh } from '../crds/types.js';
import { createKwokNodes, installCrds, startControlPlane, type ControlPlane } from '../test/harness/control-plane.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { eventually } from '../test/support/wait.js';
import { Informer } from '../operator/informer/informer.js';
import { KubeClient } from '../operator/kube/client.js';
import { loadClusterConnection, type ClusterConnection } from '../operator/kube/config.js';
import { CoreResources, MeshOsResources } from '../operator/kube/resources.js';
import { createLogger } from '../operator/log.js';
import { Manager } from '../operator/manager.js';
import { OperatorMetrics } from '../operator/metrics.js';
import type { Pod } from '../operator/controllers/workload.js';
import { createHealingModule, FAILED_NODE_TAINT, PARTITION_CONDITION, type HealingModule, type NodeObject } from './module.js';
import { INCIDENT_LABEL, incidentFromConfigMap } from './incident.js';
import { resumeHeartbeat, stopHeartbeat, type HeldLease } from './kwok-heartbeat.js';

const NS = 'chaos';
const ZONES = ['z-a', 'z-b', 'z-c', 'z-d'];
const NODES_PER_ZONE = 3;
const TIMEOUT_SECONDS = 6;

interface RunningManager {
  manager: Manager;
  healing: HealingModule;
  stop(): Promise<void>;
}

describe('healing under chaos', () => {
  let plane: ControlPlane;
  let dataDir: string;
  let client: KubeClient;
  let connection: ClusterConnection;
  let nodeNames: string[] = [];
  const operators: RunningManager[] = [];
  const watchers = new AbortController();
  let pods: Informer<Pod>;
  let nodes: Informer<NodeObject>;
  /** Nodes taken down on purpose; a Mesh OS taint on any other node is a false positive. */
  const killed = new Set<string>();
  /** Nodes down at any time in the current test: a late relist may report their pods' deletion after revival. */
  const downThisTest = new Set<string>();
  const wasDown = (node: string | undefined): boolean => node !== undefined && (killed.has(node) || downThisTest.has(node));
  const falselyTainted = new Set<string>();
  /** Pods deleted while their node was up: a healthy replica was moved. */
  const healthyPodsDeleted: string[] = [];

  const startOperator = (identity: string): RunningManager => {
    const stop = new AbortController();
    const healing = createHealingModule({ namespace: 'meshos-system', signal: stop.signal, rampIntervalMs: 500 });
    const manager = new Manager({
      connection,
      identity,
      logger: createLogger({ level: 'warn' }),
      metrics: new OperatorMetrics({ defaultMetrics: false }),
      leaseDurationMs: 6_000,
      renewDeadlineMs: 4_000,
      retryPeriodMs: 500,
      kernelModules: [healing],
    });
    const running = manager.run(stop.signal);
    const handle: RunningManager = {
      manager,
      healing,
      stop: async () => {
        stop.abort();
        await running;
        await healing.close();
        operators.splice(operators.indexOf(handle), 1);
      },
    };
    operators.push(handle);
    return handle;
  };

  const held = new Map<string, HeldLease>();
  const setKwokManaged = async (names: readonly string[], managed: boolean): Promise<void> => {
    for (const name of names) {
      if (managed) {
        const lease = held.get(name);
        if (lease) await resumeHeartbeat(client, lease);
        held.delete(name);
        killed.delete(name);
      } else {
        killed.add(name);
        downThisTest.add(name);
        held.set(name, await stopHeartbeat(client, name));
      }
    }
  };

  const agents = async (): Promise<Agent[]> => (await client.list<Agent>(MeshOsResources.agent, NS)).items;
  /** True when every Agent is Ready off the killed nodes; otherwise throws what is missing, so a timeout says why. */
  const allReady = async (): Promise<boolean> => {
    const list = await agents();
    const waiting = list.filter((a) => !(a.status?.phase === 'Ready' && (a.status.readyReplicas ?? 0) >= (a.spec.runtime.replicas ?? 1) && !(a.status.nodes ?? []).some((n) => killed.has(n))));
    if (list.length > 0 && waiting.length === 0) return true;
    const podStates = pods.store.list().map((p) => `${p.metadata.name}@${p.spec?.nodeName ?? '-'}:${p.status?.phase ?? '?'}${p.metadata.deletionTimestamp ? '(deleting)' : ''}`);
    throw new Error(
      `${waiting.length} of ${list.length} Agents not Ready off killed nodes [${[...killed].join(', ')}]: ` +
        waiting.map((a) => `${a.metadata.name} ${a.status?.phase ?? '-'} ${a.status?.readyReplicas ?? 0}/${a.spec.runtime.replicas ?? 1} on ${(a.status?.nodes ?? []).join('+')}`).join('; ') +
        `; pods ${podStates.join(', ')}`,
    );
  };
  const taintOf = (name: string) => nodes.store.get(name)?.spec?.taints?.find((t) => t.key === FAILED_NODE_TAINT);
  const podsOn = (names: readonly string[]): Pod[] => pods.store.list().filter((p) => names.includes(p.spec?.nodeName ?? '') && !p.metadata.deletionTimestamp);
  const incidents = async () =>
    (await client.list<{ metadata: { name?: string }; data?: Record<string, string> }>(CoreResources.configMap, 'meshos-system', { labelSelector: `${INCIDENT_LABEL}=true` })).items
      .map((cm) => incidentFromConfigMap(cm))
      .filter((i) => i !== undefined);

  /** Every Mesh OS taint on a node that was killed is gone, and all Agents are Ready. */
  const settle = async (revived: readonly string[]): Promise<void> => {
    await setKwokManaged(revived, true);
    await eventually('revived nodes untainted', () => revived.every((n) => taintOf(n) === undefined), 120_000, 250);
    await eventually('all Agents Ready', allReady, 120_000, 250);
  };

  const checkInvariants = async (expectedAgents: number): Promise<void> => {
    expect([...falselyTainted]).toEqual([]);
    expect(healthyPodsDeleted).toEqual([]);
    expect((await agents()).length).toBe(expectedAgents);
    // No pod moved twice: across all incidents, every moved pod uid appears once.
    const moved = (await incidents()).flatMap((i) => i.movedPods);
    expect(new Set(moved).size).toBe(moved.length);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'meshos-chaos-'));
    plane = await startControlPlane({
      dataDir,
      components: { controllerManager: true, scheduler: true, kwok: true },
      // Leases renewed every second (a quarter of 4 s), so a 6 s timeout is tight but fair.
      // kube-controller-manager's node lifecycle controller marks pods NotReady on a node it has
      // not heard from for 50 s; a kubelet would report them Ready again on return, kwok does not.
      // A long grace period keeps that simulation artefact out of tests that hold nodes down.
      extraArgs: { kwok: ['--node-lease-duration-seconds=4'], 'kube-controller-manager': ['--node-monitor-grace-period=10m'] },
    });
    await installCrds(plane.kubectl);
    nodeNames = await createKwokNodes(plane.kubectl, ZONES.length * NODES_PER_ZONE, {
      namePrefix: 'chaos-',
      labels: (i) => ({ 'topology.kubernetes.io/zone': ZONES[Math.floor(i / NODES_PER_ZONE)] ?? 'z-a' }),
      waitTimeoutSeconds: 120,
    });
    connection = await loadClusterConnection(plane.kubeconfigPath);
    client = new KubeClient(connection);
    await client.create(CoreResources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const mesh: Mesh = testMesh('chaos');
    mesh.spec.healing = { heartbeatTimeoutSeconds: TIMEOUT_SECONDS, maxUnhealthyPercent: 30 };
    await client.create(MeshOsResources.mesh, mesh);

    pods = new Informer<Pod>(client, CoreResources.pod, { namespace: NS });
    nodes = new Informer<NodeObject>(client, CoreResources.node);
    nodes.addHandlers({
      onUpdate: (_, node) => {
        const name = node.metadata.name ?? '';
        if (!killed.has(name) && node.spec?.taints?.some((t) => t.key === FAILED_NODE_TAINT)) falselyTainted.add(name);
      },
    });
    pods.addHandlers({
      onUpdate: (previous, pod) => {
        if (!previous.metadata.deletionTimestamp && pod.metadata.deletionTimestamp && !wasDown(pod.spec?.nodeName)) healthyPodsDeleted.push(`${pod.metadata.name ?? ''}@${pod.spec?.nodeName ?? ''}`);
      },
      onDelete: (pod) => {
        if (!pod.metadata.deletionTimestamp && pod.spec?.nodeName && !wasDown(pod.spec.nodeName)) healthyPodsDeleted.push(`${pod.metadata.name ?? ''}@${pod.spec.nodeName}`);
      },
    });
    void pods.run(watchers.signal);
    void nodes.run(watchers.signal);
    await Promise.all([pods.waitForSync(), nodes.waitForSync()]);

    startOperator('chaos-a');
    // Six Agents of two replicas (active-active) and two of one.
    for (let i = 0; i < 8; i++) await client.create(MeshOsResources.agent, testAgent(NS, `agent-${i}`, 'chaos', i < 6 ? 2 : 1));
    await eventually('all Agents Ready', allReady, 180_000, 250);
  }, 420_000);

  beforeEach(() => downThisTest.clear());

  afterAll(async () => {
    watchers.abort();
    for (const operator of [...operators]) await operator.stop();
    await client?.destroy();
    await plane?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }, 120_000);

  /** The busiest node, so a failure strands as many replicas as possible. */
  const busiest = (exclude: readonly string[] = []): string => {
    const counts = new Map<string, number>();
    for (const pod of pods.store.list()) if (pod.spec?.nodeName && !exclude.includes(pod.spec.nodeName)) counts.set(pod.spec.nodeName, (counts.get(pod.spec.nodeName) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? nodeNames[0] ?? '';
  };

  it('fails one node over: taint, pods moved once, postmortem, node untainted on return', async () => {
    const node = busiest();
    const stranded = podsOn([node]).map((p) => p.metadata.uid);
    expect(stranded.length).toBeGreaterThan(0);
    await setKwokManaged([node], false);
    await eventually('node tainted', () => taintOf(node)?.effect === 'NoExecute', 60_000, 100);
    await eventually('pods moved off the node', () => podsOn([node]).length === 0, 60_000, 100);
    await eventually('all Agents Ready elsewhere', allReady, 60_000, 250);
    const incident = await eventually('postmortem written', async () => (await incidents()).find((i) => i.node === node && i.status !== 'Open'), 30_000);
    expect(incident.cause).toContain('stopped heartbeating');
    expect(incident.timeline.map((e) => e.event)).toEqual(expect.arrayContaining(['last-heartbeat', 'detected', 'tainted', 'failover', 'agents-ready']));
    expect(incident.timeToRecoverSeconds).toBeGreaterThan(TIMEOUT_SECONDS);
    expect(incident.movedPods.sort()).toEqual(stranded.sort());
    await settle([node]);
    await checkInvariants(8);
  }, 300_000);

  it('fails 10% of the nodes over at once', async () => {
    const first = busiest();
    const down = [first, busiest([first])];
    await setKwokManaged(down, false);
    await eventually('nodes tainted', () => down.every((n) => taintOf(n)?.effect === 'NoExecute'), 60_000, 100);
    await eventually('all Agents Ready elsewhere', allReady, 90_000, 250);
    expect(podsOn(down)).toEqual([]);
    await settle(down);
    await checkInvariants(8);
  }, 300_000);

  it('suspects a partition when a whole zone fails: NoSchedule only, Mesh condition, clean recovery', async () => {
    const zone = nodeNames.slice(0, NODES_PER_ZONE); // z-a
    await setKwokManaged(zone, false);
    await eventually('Mesh reports the suspected partition', async () => {
      const mesh = await client.get<Mesh>(MeshOsResources.mesh, undefined, 'chaos');
      return mesh.status?.conditions?.find((c) => c.type === PARTITION_CONDITION)?.status === 'True';
    }, 60_000, 250);
    await eventually('zone tainted NoSchedule', () => zone.every((n) => taintOf(n)?.effect === 'NoSchedule'), 60_000, 100);
    // Agents with a replica elsewhere keep their pods in place (no mass eviction); single-replica
    // Agents stranded in the zone move so that they serve again.
    await eventually('every Agent serves somewhere', async () => (await agents()).every((a) => (a.status?.readyReplicas ?? 0) >= 1), 90_000, 250);
    await settle(zone);
    await eventually('partition condition cleared', async () => {
      const mesh = await client.get<Mesh>(MeshOsResources.mesh, undefined, 'chaos');
      return mesh.status?.conditions?.find((c) => c.type === PARTITION_CONDITION)?.status === 'False';
    }, 60_000, 250);
    await checkInvariants(8);
  }, 300_000);

  it('finishes a failover when the operator leader restarts in the middle of it', async () => {
    const standby = startOperator('chaos-b');
    const node = busiest();
    await setKwokManaged([node], false);
    await eventually('node tainted', () => taintOf(node) !== undefined, 60_000, 50);
    const leader = operators.find((o) => o.manager.isLeader());
    await leader?.stop();
    await eventually('standby leads', () => standby.manager.isLeader(), 60_000, 100);
    await eventually('all Agents Ready elsewhere', allReady, 150_000, 250);
    expect(podsOn([node])).toEqual([]);
    await settle([node]);
    await checkInvariants(8);
  }, 300_000);

  it('fails over across a kube-apiserver restart', async () => {
    const node = busiest();
    await setKwokManaged([node], false);
    await plane.restartApiServer();
    await eventually('all Agents Ready elsewhere', allReady, 120_000, 250);
    expect(podsOn([node])).toEqual([]);
    await settle([node]);
    await checkInvariants(8);
  }, 300_000);

  it('treats a heartbeat flapping around the timeout as one failure', async () => {
    const node = busiest();
    const before = (await incidents()).filter((i) => i.node === node).length;
    for (let flap = 0; flap < 3; flap++) {
      await setKwokManaged([node], false);
      await new Promise((resolve) => setTimeout(resolve, (TIMEOUT_SECONDS + 1.5) * 1000));
      await setKwokManaged([node], true);
      killed.add(node); // still counts as the failed node until it is untainted
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    killed.delete(node);
    await eventually('node untainted after it stayed stable', () => taintOf(node) === undefined, 180_000, 250);
    await eventually('all Agents Ready', allReady, 60_000, 250);
    const after = (await incidents()).filter((i) => i.node === node);
    expect(after.length - before).toBe(1);
    expect(after.at(-1)?.timeline.some((e) => e.event === 'failed-again')).toBe(true);
    await checkInvariants(8);
  }, 300_000);
});
