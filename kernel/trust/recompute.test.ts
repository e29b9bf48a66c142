import { describe, expect, it } from 'vitest';
import type { Agent, Mesh } from '../../crds/types.js';
import { Informer } from '../../operator/informer/informer.js';
import type { KubeClient } from '../../operator/kube/client.js';
import { MeshOsResources, type ResourceType } from '../../operator/kube/resources.js';
import type { ModuleContext } from '../contract.js';
import { kernelModules } from '../registry.js';
import { NAME, RECOMPUTE_TRUST, createTrustModule } from './index.js';
import { TRUST_FIELD_MANAGER, TrustRecomputer, recomputeAll } from './recompute.js';
import { TRUST_EVIDENCE_ANNOTATION, weightsVersion } from './score.js';

const T0 = new Date('2026-06-01T00:00:00Z');

interface PatchCall {
  type: ResourceType;
  name: string;
  body: { status: Record<string, unknown> };
  options: { fieldManager?: string; subresource?: string };
}

/** Records patches and applies their status to the informer caches, as the watch would. */
function fakeCluster(lagging = false) {
  const calls: PatchCall[] = [];
  const client = {
    patch: (type: ResourceType, namespace: string | undefined, name: string, body: PatchCall['body'], options: PatchCall['options']) => {
      calls.push({ type, name, body, options });
      const informer = type.kind === 'Mesh' ? meshes : agents;
      const key = namespace ? `${namespace}/${name}` : name;
      const current = informer.store.get(key);
      if (current && !lagging) informer.store.upsert({ ...current, status: { ...current.status, ...body.status } } as never);
      return Promise.resolve(current);
    },
  } as unknown as KubeClient;
  const meshes = new Informer<Mesh>(client, MeshOsResources.mesh);
  const agents = new Informer<Agent>(client, MeshOsResources.agent);
  return { client, meshes, agents, calls };
}

function mesh(weights?: Mesh['spec']['trust']): Mesh {
  return { apiVersion: 'meshos.dev/v1alpha1', kind: 'Mesh', metadata: { name: 'm', uid: 'u1' }, spec: { did: 'did:mesh:t:m', ...(weights ? { trust: weights } : {}) } };
}

function agent(name: string, certifications: string[], meshRef = 'm'): Agent {
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Agent',
    metadata: { name, namespace: 'ns', annotations: { [TRUST_EVIDENCE_ANNOTATION]: JSON.stringify({ verifiedCertifications: certifications }) } },
    spec: { meshRef, description: 'Test agent', certifications, runtime: { image: 'x' } },
  };
}

describe('recomputeAll', () => {
  it('scores only the agents of the mesh and flags those whose status differs', () => {
    const agents = [agent('a', ['ISO-27001']), agent('b', []), agent('c', [], 'other')];
    const { plan, agents: scored } = recomputeAll(agents, mesh(), T0);
    expect(scored.map((s) => s.key)).toEqual(['ns/a', 'ns/b']);
    expect(scored[0]?.status.score).toBeGreaterThan(scored[1]?.status.score ?? Infinity);
    expect(scored.every((s) => s.changed)).toBe(true);
    expect(plan.version).toBe(weightsVersion({ credentials: 30, history: 25, attestations: 20, compliance: 15, uptime: 10 }));

    const settled = agents.map((a, i) => (i < 2 ? { ...a, status: { trust: scored[i]?.status } } : a)) as Agent[];
    expect(recomputeAll(settled, mesh(), new Date(T0.getTime() + 1000)).agents.some((s) => s.changed)).toBe(false);
  });

  it('recomputes 10,000 agents quickly', () => {
    const agents = Array.from({ length: 10_000 }, (_, i) => agent(`a${i}`, i % 3 ? ['SOC2-Type2'] : []));
    const started = performance.now();
    expect(recomputeAll(agents, mesh(), T0).agents).toHaveLength(10_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('TrustRecomputer', () => {
  it('records the mesh weights, writes the agent status with its field manager, and skips unchanged scores', async () => {
    const cluster = fakeCluster();
    cluster.meshes.store.upsert(mesh());
    cluster.agents.store.upsert(agent('a', ['ISO-27001']));
    const recomputer = new TrustRecomputer({ ...cluster, now: () => T0 });

    const first = await recomputer.recompute('ns/a');
    expect(first.written).toBe(true);
    expect(cluster.calls.map((c) => [c.type.kind, c.name, c.options.subresource, c.options.fieldManager])).toEqual([
      ['Mesh', 'm', 'status', TRUST_FIELD_MANAGER],
      ['Agent', 'a', 'status', TRUST_FIELD_MANAGER],
    ]);
    expect(Object.keys(cluster.calls[1]?.body.status['trust'] as object).sort()).toEqual(['components', 'score', 'updatedAt', 'weightsVersion']);

    const second = await recomputer.recompute('ns/a');
    expect(second.written).toBe(false);
    expect(cluster.calls).toHaveLength(2);
    expect(await recomputer.recompute('ns/missing')).toEqual({ key: 'ns/missing', written: false });
  });

  it('starts one transition even when the cache lags behind its own write, and asks to be requeued', async () => {
    const cluster = fakeCluster(true);
    cluster.meshes.store.upsert({
      ...mesh({ weights: { credentials: 10, history: 45, attestations: 20, compliance: 15, uptime: 10 }, transitionPeriod: '100s' }),
      status: { trust: { weights: { credentials: 30, history: 25, attestations: 20, compliance: 15, uptime: 10 } } },
    });
    for (const name of ['a', 'b', 'c']) cluster.agents.store.upsert(agent(name, ['ISO-27001']));
    let now = T0.getTime();
    const recomputer = new TrustRecomputer({ ...cluster, now: () => new Date(now) });
    const results = await Promise.all(['ns/a', 'ns/b', 'ns/c'].map((key) => recomputer.recompute(key)));
    now += 50_000;
    await recomputer.recompute('ns/a');
    const meshWrites = cluster.calls.filter((c) => c.type.kind === 'Mesh');
    expect(meshWrites).toHaveLength(1);
    expect(results.map((r) => r.requeueAfterMs)).toEqual([5_000, 5_000, 5_000]);
  });
});

describe('trust kernel module', () => {
  it('is registered and proposes a zero-risk recompute for a mesh with stale scores, which execute clears', async () => {
    expect(kernelModules.has(NAME)).toBe(true);
    const cluster = fakeCluster();
    cluster.meshes.store.upsert(mesh());
    cluster.agents.store.upsert(agent('a', []));
    const module = createTrustModule();
    const context = {
      client: cluster.client,
      logger: { info: () => undefined, debug: () => undefined },
      informers: { meshes: cluster.meshes, agents: cluster.agents, proposals: new Informer(cluster.client, MeshOsResources.proposal) },
      now: () => T0,
      requestAnalysis: () => undefined,
    } as unknown as ModuleContext;
    expect(module.observes).toEqual(['Mesh', 'Agent']);
    expect(module.actions).toEqual([RECOMPUTE_TRUST]);
    const proposals = await module.analyse(context);
    expect(proposals).toHaveLength(1);
    expect(proposals[0]).toMatchObject({ kind: RECOMPUTE_TRUST, risk: 0, verifyWindowMs: 0, target: { kind: 'Mesh', name: 'm', mesh: 'm' } });
    const result = await module.execute({ ...proposals[0]!, id: '1', proposedAt: T0.toISOString() }, context);
    expect(result.message).toContain('updated 1');
    expect(await module.analyse(context)).toEqual([]);
  });
});
