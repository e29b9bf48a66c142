import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TRUST_WEIGHTS, type Agent, type Mesh } from '../../crds/types.js';
import { Informer } from '../../operator/informer/informer.js';
import type { KubeClient } from '../../operator/kube/client.js';
import { MeshOsResources } from '../../operator/kube/resources.js';
import { testAgent, testMesh } from '../../test/support/fixtures.js';
import { createTestNamespace, deleteNamespace, testClient } from '../../test/support/kube.js';
import { eventually } from '../../test/support/wait.js';
import { TRUST_FIELD_MANAGER, TrustRecomputer } from './recompute.js';
import { TRUST_COMPONENTS, TRUST_EVIDENCE_ANNOTATION, trustScore, weightsVersion, type TrustComponents, type TrustWeights } from './score.js';
import { signAttestation } from './attestations.js';

const REGISTRAR = 'did:mesh:acme:registrar';
let certifiedComponents: TrustComponents;
const NEW_WEIGHTS: TrustWeights = { credentials: 5, history: 50, attestations: 20, compliance: 15, uptime: 10 };

describe('trust recomputation against a real API server', () => {
  let client: KubeClient;
  let namespace: string;
  let meshes: Informer<Mesh>;
  let agents: Informer<Agent>;
  let recomputer: TrustRecomputer;
  const stop = new AbortController();
  const running: Promise<void>[] = [];
  const meshName = `trust-${Date.now().toString(36)}`;

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'trust');
    // The registrar's signed attestations verify the certified agent's two certifications.
    const registrar = generateKeyPairSync('ed25519');
    const mesh = testMesh(meshName);
    mesh.spec.trust = { attestationIssuers: [{ did: REGISTRAR, publicKey: registrar.publicKey.export({ type: 'spki', format: 'pem' }).toString() }] };
    await client.create(MeshOsResources.mesh, mesh);
    const certified = testAgent(namespace, 'certified', meshName);
    certified.spec.certifications = ['ISO-27001', 'SOC2-Type2'];
    const at = new Date().toISOString();
    const attestations = ['ISO-27001', 'SOC2-Type2'].map((certification) => {
      const statement = { issuer: REGISTRAR, subject: `${namespace}/certified`, positive: true, weight: 1, at, certification };
      return { ...statement, signature: signAttestation(statement, registrar.privateKey) };
    });
    // A self-asserted claim and a forged attestation must not count.
    const forged = { issuer: REGISTRAR, subject: `${namespace}/certified`, positive: true, weight: 1, at, certification: 'PCI-DSS', signature: attestations[0]?.signature };
    certified.metadata.annotations = { [TRUST_EVIDENCE_ANNOTATION]: JSON.stringify({ verifiedCertifications: ['PCI-DSS'], attestations: [...attestations, forged] }) };
    await client.create(MeshOsResources.agent, certified);
    await client.create(MeshOsResources.agent, testAgent(namespace, 'plain', meshName));

    meshes = new Informer<Mesh>(client, MeshOsResources.mesh);
    agents = new Informer<Agent>(client, MeshOsResources.agent, { namespace });
    running.push(meshes.run(stop.signal), agents.run(stop.signal));
    await Promise.all([meshes.waitForSync(), agents.waitForSync()]);
    await eventually('both agents cached', () => agents.store.size === 2);
    recomputer = new TrustRecomputer({ client, meshes, agents });
  });

  afterAll(async () => {
    stop.abort();
    await Promise.allSettled(running);
    await client.delete(MeshOsResources.mesh, undefined, meshName).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
  });

  const getAgent = (name: string) => client.get<Agent>(MeshOsResources.agent, namespace, name);
  const getMesh = () => client.get<Mesh>(MeshOsResources.mesh, undefined, meshName);

  it('writes status.trust with components and weights version, owned by meshos-trust', async () => {
    const results = await Promise.all([recomputer.recompute(`${namespace}/certified`), recomputer.recompute(`${namespace}/plain`)]);
    expect(results.map((r) => r.written)).toEqual([true, true]);

    const version = weightsVersion({ ...DEFAULT_TRUST_WEIGHTS });
    const [certified, plain] = await Promise.all([getAgent('certified'), getAgent('plain')]);
    for (const agent of [certified, plain]) {
      expect(agent.status?.trust?.weightsVersion).toBe(version);
      expect(Object.keys(agent.status?.trust?.components ?? {}).sort()).toEqual([...TRUST_COMPONENTS].sort());
      expect(agent.status?.trust?.updatedAt).toBeDefined();
      const managed = (agent.metadata as { managedFields?: { manager?: string; subresource?: string }[] }).managedFields;
      expect(managed?.some((f) => f.manager === TRUST_FIELD_MANAGER && f.subresource === 'status')).toBe(true);
    }
    // Two certifications verified by signed attestations: credentials 75; none: 0.
    expect(certified.status?.trust?.components?.['credentials']).toBe(75);
    expect(certified.status?.trust?.components?.['attestations']).toBeGreaterThan(50);
    expect(plain.status?.trust?.components?.['credentials']).toBe(0);
    certifiedComponents = certified.status?.trust?.components as TrustComponents;
    expect(certified.status?.trust?.score).toBe(trustScore(certifiedComponents, { ...DEFAULT_TRUST_WEIGHTS }));
    expect(plain.status?.trust?.score).toBe(42.5); // (0*30 + 50*25 + 50*20 + 100*15 + 50*10) / 100

    const mesh = await getMesh();
    expect(mesh.status?.trust).toEqual({ weights: { ...DEFAULT_TRUST_WEIGHTS }, weightsVersion: version });

    await eventually('agent caches hold the written scores', () => agents.store.list().every((a) => a.status?.trust?.score !== undefined));
    expect((await recomputer.recompute(`${namespace}/certified`)).written).toBe(false);
  });

  it('blends a weights change over the transition period instead of jumping', async () => {
    const oldScore = trustScore(certifiedComponents, { ...DEFAULT_TRUST_WEIGHTS });
    const newScore = trustScore(certifiedComponents, NEW_WEIGHTS);
    expect(newScore).toBeLessThan(oldScore);
    await client.patch(MeshOsResources.mesh, undefined, meshName, { spec: { trust: { weights: NEW_WEIGHTS, transitionPeriod: '6s' } } });
    await eventually('mesh cache sees the new weights', () => meshes.store.get(meshName)?.spec.trust?.weights?.credentials === NEW_WEIGHTS.credentials);

    const observed: number[] = [];
    let sawTransitionState = false;
    const finalVersion = weightsVersion(NEW_WEIGHTS);
    const final = await eventually(
      'score settles on the new weights',
      async () => {
        const result = await recomputer.recompute(`${namespace}/certified`);
        const agent = await getAgent('certified');
        const score = agent.status?.trust?.score;
        if (score !== undefined) observed.push(score);
        if (result.requeueAfterMs !== undefined) {
          expect(result.requeueAfterMs).toBeGreaterThan(0);
          expect(result.requeueAfterMs).toBeLessThanOrEqual(6_000);
        }
        const meshTrust = (await getMesh()).status?.trust;
        if (meshTrust?.['previousWeights'] !== undefined) sawTransitionState = true;
        return agent.status?.trust?.weightsVersion === finalVersion && meshTrust?.['previousWeights'] === undefined ? agent : undefined;
      },
      20_000,
      400,
    );

    expect(sawTransitionState).toBe(true);
    expect(final.status?.trust?.score).toBe(newScore);
    const intermediate = observed.filter((score) => score < oldScore && score > newScore);
    expect(intermediate.length).toBeGreaterThan(0);
    // Never a jump: the score only moves down, in steps well under the full change.
    for (let i = 1; i < observed.length; i++) {
      const step = (observed[i - 1] ?? 0) - (observed[i] ?? 0);
      expect(step).toBeGreaterThanOrEqual(0);
      expect(step).toBeLessThan(oldScore - newScore);
    }
    expect((await getMesh()).status?.trust).toEqual({ weights: NEW_WEIGHTS, weightsVersion: finalVersion });
  });
});
