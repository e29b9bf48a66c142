// Discovery served by a real operator against the integration control plane: the index
// follows applied and deleted Agents, filters hold, Kubernetes auth decides who sees what,
// bad input answers INVALID_ARGUMENT, and grpcurl (built from its Go module) works through
// server reflection.
import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../crds/types.js';
import type { KubeClient } from '../operator/kube/client.js';
import { MeshOsResources, type ResourceType } from '../operator/kube/resources.js';
import { ensureBinaries } from '../test/harness/binaries.js';
import { ensurePki } from '../test/harness/pki.js';
import { runCli } from '../cli/program.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { startTestOperator, type RunningOperator } from '../test/support/operator.js';
import { eventually } from '../test/support/wait.js';
import { call, createDiscoveryClient } from './client.js';
import { kubernetesAuthenticator } from './server/auth.js';
import { startDiscoveryServer } from './server/server.js';
import { serverCredentials } from './service.js';
import { GetAgentRequest, SearchRequest, type AgentDiscoveryClient } from './generated/meshos/discovery/v1/discovery.js';

const run = promisify(execFile);
const ServiceAccounts: ResourceType = { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true };
const Roles: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true };
const RoleBindings: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true };
/** The bound; a busy shared machine gets some slack on top (see the report). */
const FRESHNESS_MS = 2_000;

type SearchInput = Partial<Omit<SearchRequest, 'filters'>> & { filters?: Partial<NonNullable<SearchRequest['filters']>> };

async function failure(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as grpc.ServiceError).code, details: (error as grpc.ServiceError).details };
  }
  throw new Error('expected the call to fail');
}

describe('discovery in the operator', () => {
  let client: KubeClient;
  let namespace: string;
  let operator: RunningOperator;
  let address: string;
  let reader: AgentDiscoveryClient;
  let readerToken: string;
  const mesh = `disc-${Date.now().toString(36)}`;

  const tokenFor = async (serviceAccount: string): Promise<string> => {
    const review = await client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
    });
    return review.status.token;
  };
  const search = (discovery: AgentDiscoveryClient, request: SearchInput) => call(discovery.search.bind(discovery), SearchRequest.fromPartial({ includeUnavailable: true, ...request, filters: { namespaces: [namespace], ...request.filters } }));
  const names = async (request: SearchInput): Promise<string[]> => (await search(reader, request)).results.map((result) => result.agent?.name ?? '');

  const agent = (name: string, description: string, spec: Partial<Agent['spec']> = {}): Agent => {
    const base = testAgent(namespace, name, mesh, 0);
    return { ...base, spec: { ...base.spec, description, ...spec } };
  };

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'disc');
    await client.create(MeshOsResources.mesh, testMesh(mesh));
    for (const name of ['reader', 'stranger']) await client.create(ServiceAccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
    await client.create(Roles, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'agent-reader', namespace },
      rules: [{ apiGroups: ['meshos.dev'], resources: ['agents'], verbs: ['get', 'list', 'watch'] }],
    });
    await client.create(RoleBindings, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader-reads-agents', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'agent-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
    });
    operator = await startTestOperator({ leaseNamespace: namespace, discovery: { host: '127.0.0.1', port: 0, auth: 'kubernetes' } });
    const { manager } = operator;
    address = (await eventually('discovery served', () => manager.discovery?.server.address, 120_000));
    readerToken = await tokenFor('reader');
    reader = createDiscoveryClient(address, { token: readerToken });
  }, 300_000);

  afterAll(async () => {
    reader?.close();
    await operator?.stop();
    await client.delete(MeshOsResources.mesh, undefined, mesh).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
  });

  it('finds an applied Agent within a second and forgets a deleted one', async () => {
    const created = Date.now();
    await client.create(MeshOsResources.agent, agent('glacier', 'Models glacier melt and sea level rise under climate change scenarios.'));
    await eventually('glacier searchable', async () => ((await names({ query: 'sea level rise' })).includes('glacier') ? true : undefined), FRESHNESS_MS, 20);
    const appeared = Date.now() - created;
    await client.delete(MeshOsResources.agent, namespace, 'glacier');
    const deleted = Date.now();
    await eventually('glacier forgotten', async () => ((await names({ query: 'sea level rise' })).includes('glacier') ? undefined : true), FRESHNESS_MS, 20);
    console.log(`discovery freshness: searchable ${appeared} ms after create, gone ${Date.now() - deleted} ms after delete`);
  });

  it('applies the filters, and excludes Agents that are not Ready unless asked', async () => {
    await client.create(MeshOsResources.agent, agent('green-audit', 'Audits environmental management systems for ISO 14001.', { certifications: ['ISO14001'], region: 'eu-west-1', sla: { maxLatencyMs: 300 }, capabilities: ['streaming'] }));
    await client.create(MeshOsResources.agent, agent('slow-audit', 'Audits environmental management systems, slowly.', { certifications: ['ISO14001'], sla: { maxLatencyMs: 2000 } }));
    await client.create(MeshOsResources.agent, agent('legal-review', 'Reviews legal documents and contracts.', { certifications: ['SOC2'], sla: { maxLatencyMs: 200 } }));
    await eventually('all three indexed', async () => ((await names({ query: 'audit legal' })).length >= 3 ? true : undefined));

    expect(await names({ query: 'environmental audit', filters: { certifications: ['ISO14001'], maxLatencyMs: 500 } })).toEqual(['green-audit']);
    expect((await names({ query: 'environmental audit', filters: { certifications: ['iso-14001'] } })).sort()).toEqual(['green-audit', 'slow-audit']);
    expect(await names({ query: 'audit', filters: { regions: ['eu-west-1'], capabilities: ['streaming'] } })).toEqual(['green-audit']);
    expect(await names({ query: 'audit', filters: { meshes: ['another-mesh'] } })).toEqual([]);

    // Trust comes from the operator's trust module: filter just above and at the score it wrote.
    const scored = await eventually('green-audit scored', async () => (await client.get<Agent>(MeshOsResources.agent, namespace, 'green-audit')).status?.trust?.score, 60_000);
    await eventually('score indexed', async () => ((await search(reader, { query: 'environmental audit' })).results.find((r) => r.agent?.name === 'green-audit')?.agent?.trustScore === scored ? true : undefined));
    expect(await names({ query: 'environmental audit', filters: { minTrustScore: scored, certifications: ['ISO14001'], maxLatencyMs: 500 } })).toEqual(['green-audit']);
    if (scored < 100) expect(await names({ query: 'environmental audit', filters: { minTrustScore: Math.min(100, scored + 0.5) } })).not.toContain('green-audit');

    // Compare with the phase the operator wrote, once the index has caught up with it.
    const phase = await eventually('phase indexed', async () => {
      const written = (await client.get<Agent>(MeshOsResources.agent, namespace, 'legal-review')).status?.phase;
      const indexed = (await call(reader.getAgent.bind(reader), GetAgentRequest.fromPartial({ namespace, name: 'legal-review' }))).phase;
      return written !== undefined && written === indexed ? written : undefined;
    });
    const strict = await names({ query: 'legal contracts', includeUnavailable: false });
    expect(strict.includes('legal-review'), `phase ${phase}`).toBe(phase === 'Ready');
  });

  it('authenticates with TokenReview and shows only namespaces the caller may list', async () => {
    await eventually('reader sees agents', async () => ((await names({ query: 'audit' })).length > 0 ? true : undefined));
    const stranger = createDiscoveryClient(address, { token: await tokenFor('stranger') });
    const anonymous = createDiscoveryClient(address);
    const forged = createDiscoveryClient(address, { token: 'not-a-real-token' });
    try {
      expect((await search(stranger, { query: 'audit' })).results).toEqual([]);
      const denied = await failure(call(stranger.getAgent.bind(stranger), GetAgentRequest.fromPartial({ namespace, name: 'green-audit' })));
      expect(denied.code).toBe(grpc.status.PERMISSION_DENIED);
      expect((await failure(search(anonymous, { query: 'audit' }))).code).toBe(grpc.status.UNAUTHENTICATED);
      expect((await failure(search(forged, { query: 'audit' }))).code).toBe(grpc.status.UNAUTHENTICATED);
      const card = JSON.parse((await call(reader.getAgentCard.bind(reader), { namespace, name: 'green-audit' })).json) as { name: string; capabilities: { streaming: boolean } };
      expect(card).toMatchObject({ name: 'green-audit', capabilities: { streaming: true } });
    } finally {
      stranger.close();
      anonymous.close();
      forged.close();
    }
  });

  it('authenticates mTLS client certificates (CN user, O groups) with SubjectAccessReview', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshos-discovery-mtls-'));
    const running = operator.manager.discovery;
    if (!running) throw new Error('discovery is not running');
    const { live, searchThread } = running;
    // The harness's PKI: a CA, a serving certificate for 127.0.0.1 and an admin client certificate (O=system:masters).
    const pki = await ensurePki(dir);
    const server = await startDiscoveryServer({
      live,
      rank: (query) => searchThread.rank(query),
      authenticator: kubernetesAuthenticator({ client }),
      credentials: serverCredentials({ certFile: pki.apiServerCert, keyFile: pki.apiServerKey, clientCaFile: pki.caCert }),
    });
    const [ca, cert, key] = await Promise.all([readFile(pki.caCert), readFile(pki.adminCert), readFile(pki.adminKey)]);
    const withCertificate = createDiscoveryClient(server.address, { credentials: grpc.credentials.createSsl(ca, key, cert) });
    const withoutCertificate = createDiscoveryClient(server.address, { credentials: grpc.credentials.createSsl(ca) });
    try {
      expect((await search(withCertificate, { query: 'environmental audit' })).results.map((r) => r.agent?.name)).toContain('green-audit');
      expect((await failure(search(withoutCertificate, { query: 'audit' }))).code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      withCertificate.close();
      withoutCertificate.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serves mesh discover', async () => {
    let out = '';
    let err = '';
    const io = { stdout: { write: (text: string) => ((out += text), true) }, stderr: { write: (text: string) => ((err += text), true) } };
    const args = ['discover', 'environmental audit', '--server', address, '--token', readerToken, '--cert', 'ISO14001', '--max-latency', '500', '--namespace', namespace, '--include-unavailable'];
    expect(await runCli([...args, '-o', 'json'], io), err).toBe(0);
    expect((JSON.parse(out) as { results: { agent: { name: string } }[] }).results.map((result) => result.agent.name)).toEqual(['green-audit']);
    out = '';
    expect(await runCli([...args, '-o', 'table'], io)).toBe(0);
    expect(out).toMatch(/^#\s+AGENT/);
    expect(out).toContain(`${namespace}/green-audit`);
    expect(await runCli(['discover', '', '--server', address, '--token', readerToken], io)).toBe(1);
    expect(err).toContain('INVALID_ARGUMENT: query:');
  });

  it('answers every bad input with INVALID_ARGUMENT naming the field', async () => {
    const cases: [SearchInput, string][] = [
      [{ query: '', filters: { namespaces: [] } }, 'query'],
      [{ query: 'audit', limit: 1000 }, 'limit'],
      [{ query: 'audit', pageToken: 'eyJ2IjoxLCJvIjo1LCJmIjoieCJ9' }, 'page_token'],
      [{ query: 'audit', filters: { minTrustScore: -1 } }, 'filters.min_trust_score'],
      [{ query: 'audit', filters: { regions: ['Not A Region'] } }, 'filters.regions[0]'],
    ];
    for (const [request, field] of cases) {
      const bad = await failure(call(reader.search.bind(reader), SearchRequest.fromPartial(request)));
      expect(bad.code, field).toBe(grpc.status.INVALID_ARGUMENT);
      expect(bad.details.startsWith(`${field}:`), bad.details).toBe(true);
    }
    const late = await failure(call(reader.search.bind(reader), SearchRequest.fromPartial({ query: 'audit' }), { deadlineMs: 0 }));
    expect(late.code).toBe(grpc.status.DEADLINE_EXCEEDED);
  });

  it('works with grpcurl through server reflection', async () => {
    const { grpcurl } = await ensureBinaries(['grpcurl']);
    const target = address;
    const services = (await run(grpcurl, ['-plaintext', target, 'list'])).stdout;
    expect(services).toContain('meshos.discovery.v1.AgentDiscovery');
    expect(services).toContain('grpc.health.v1.Health');
    const described = (await run(grpcurl, ['-plaintext', target, 'describe', 'meshos.discovery.v1.AgentDiscovery'])).stdout;
    expect(described).toMatch(/rpc Search \( \.meshos\.discovery\.v1\.SearchRequest \) returns \( \.meshos\.discovery\.v1\.SearchResponse \)/);
    const health = JSON.parse((await run(grpcurl, ['-plaintext', '-d', '{"service":"meshos.discovery.v1.AgentDiscovery"}', target, 'grpc.health.v1.Health/Check'])).stdout) as { status: string };
    expect(health.status).toBe('SERVING');
    const request = JSON.stringify({ query: 'environmental audit', filters: { certifications: ['ISO14001'], maxLatencyMs: 500, namespaces: [namespace] }, includeUnavailable: true });
    const found = JSON.parse((await run(grpcurl, ['-plaintext', '-H', `authorization: Bearer ${readerToken}`, '-d', request, target, 'meshos.discovery.v1.AgentDiscovery/Search'])).stdout) as { results: { agent: { name: string } }[] };
    expect(found.results.map((result) => result.agent.name)).toEqual(['green-audit']);
    const rejected = await run(grpcurl, ['-plaintext', '-H', `authorization: Bearer ${readerToken}`, '-d', '{"query":""}', target, 'meshos.discovery.v1.AgentDiscovery/Search']).then(
      () => '',
      (error: { stderr: string }) => error.stderr,
    );
    expect(rejected).toContain('InvalidArgument');
  }, 900_000);
});
