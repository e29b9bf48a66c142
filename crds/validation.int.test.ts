// The CRDs against a real kube-apiserver: bad manifests are rejected with messages that
// name the field and the rule, good ones (and every sample) are accepted, votes-relevant
// Proposal fields cannot change, `kubectl scale` and `kubectl explain` work.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadSamples, SAMPLE_FILES } from '../samples/index.js';
import { customResourceDefinitionNames } from './crd.js';
import {
  badManifestCases,
  badUpdateCases,
  mergePatch,
  validAgent,
  validMesh,
  validProposal,
  type Manifest,
} from './testdata/manifests.js';
import { DEFAULT_TRUST_WEIGHTS, type Mesh } from './types.js';

const kubeconfigPath = inject('kubeconfigPath');
const kubectlPath = inject('kubectlPath');

const RUN = `crdv-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
const NAMESPACE = RUN;
const RUN_LABEL = 'meshos.dev/test-run';

interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against the test cluster; never throws on a non-zero exit. */
function kubectl(args: readonly string[], stdin = ''): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlPath, ['--kubeconfig', kubeconfigPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

async function kubectlOk(args: readonly string[], stdin?: string): Promise<string> {
  const result = await kubectl(args, stdin);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Labels a manifest with this run's id so afterAll can find what the run created. */
function labelled(manifest: Manifest): Manifest {
  return mergePatch(manifest, { metadata: { labels: { [RUN_LABEL]: RUN } } });
}

/**
 * `kubectl apply -f -` (server-side validation, strict field validation). Documents go
 * as JSON: kubectl reads YAML 1.1, where a plain `yes` would arrive as a boolean.
 */
function apply(manifests: Manifest | Manifest[], ...extraArgs: string[]): Promise<KubectlResult> {
  const documents = (Array.isArray(manifests) ? manifests : [manifests]).map((m) => JSON.stringify(labelled(m)));
  return kubectl(['apply', '-f', '-', ...extraArgs], documents.join('\n---\n'));
}

async function applyOk(manifests: Manifest | Manifest[], ...extraArgs: string[]): Promise<string> {
  const result = await apply(manifests, ...extraArgs);
  expect(result.stderr, 'kubectl apply was rejected').toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

beforeAll(async () => {
  await kubectlOk(['wait', '--for', 'condition=established', '--timeout=60s', ...customResourceDefinitionNames().map((n) => `crd/${n}`)]);
  await kubectlOk(['create', 'namespace', NAMESPACE]);
  await kubectlOk(['label', 'namespace', NAMESPACE, `${RUN_LABEL}=${RUN}`]);
});

afterAll(async () => {
  // Meshes are cluster-scoped; everything else goes with the namespace.
  await kubectl(['delete', 'meshes.meshos.dev', '-l', `${RUN_LABEL}=${RUN}`, '--ignore-not-found', '--wait=false']);
  await kubectl(['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=false']);
});

describe('bad manifests are rejected by the API server', () => {
  const cases = badManifestCases(RUN, NAMESPACE);

  it('covers at least 30 rules across the three kinds', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    const kinds = new Set(cases.map((c) => c.manifest.kind));
    expect([...kinds].sort()).toEqual(['Agent', 'Mesh', 'Proposal']);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const result = await apply(testCase.manifest);
    expect(result.code, `accepted: ${result.stdout}`).not.toBe(0);
    for (const fragment of testCase.expected) expect(result.stderr).toContain(fragment);
  });
});

describe('good manifests are accepted', () => {
  it.each(SAMPLE_FILES)('samples/%s (server-side dry run)', async (file) => {
    const documents = loadSamples([file]).map((sample) => sample.manifest);
    // Namespaced samples go into this run's namespace; nothing is persisted.
    const placed = documents.map((doc) => {
      const metadata = doc.metadata as { namespace?: string } | undefined;
      return metadata?.namespace === undefined ? doc : mergePatch(doc, { metadata: { namespace: NAMESPACE } });
    });
    const stdout = await applyOk(placed, '--dry-run=server');
    expect(stdout.trim().split('\n')).toHaveLength(documents.length);
  });

  it('accepts minimal manifests of each kind and lists them with their printer columns', async () => {
    await applyOk([
      validMesh(`${RUN}-ok`),
      validAgent(`${RUN}-ok`, NAMESPACE),
      validProposal(`${RUN}-ok`, NAMESPACE),
    ]);
    const agents = await kubectlOk(['get', 'ag', '-n', NAMESPACE]);
    expect(agents.split('\n')[0]).toMatch(/^NAME\s+MESH\s+PHASE\s+TRUST\s+REPLICAS\s+NODE\(S\)\s+AGE/);
    const proposals = await kubectlOk(['get', 'prop', '-n', NAMESPACE]);
    expect(proposals.split('\n')[0]).toMatch(/^NAME\s+MESH\s+PHASE\s+CRITICAL\s+PROPOSER\s+AGE/);
    expect(proposals).toMatch(new RegExp(`${RUN}-ok\\s+demo\\s+false\\s+human`));
    const meshes = await kubectlOk(['get', 'mesh', `${RUN}-ok`]);
    expect(meshes.split('\n')[0]).toMatch(/^NAME\s+DID\s+AGENTS\s+READY\s+PHASE\s+AGE/);
    expect(meshes).toContain(`did:mesh:test:${RUN}-ok`);
    const category = await kubectlOk(['get', 'meshos', '-n', NAMESPACE, '-o', 'name']);
    expect(category).toContain(`agent.meshos.dev/${RUN}-ok`);
    expect(category).toContain(`proposal.meshos.dev/${RUN}-ok`);
  });

  it('fills the documented defaults into a Mesh without spec', async () => {
    const name = `${RUN}-bare`;
    await applyOk({ apiVersion: 'meshos.dev/v1alpha1', kind: 'Mesh', metadata: { name } });
    const mesh = JSON.parse(await kubectlOk(['get', 'mesh', name, '-o', 'json'])) as Mesh;
    expect(mesh.spec.trust?.weights).toEqual(DEFAULT_TRUST_WEIGHTS);
    expect(mesh.spec.scheduling?.schedulerName).toBe('meshos-scheduler');
    expect(mesh.spec.scheduling?.objectives).toEqual({ cost: 1, latency: 1, trust: 1, carbon: 1 });
    expect(mesh.spec.governance).toEqual({
      humanWeight: 60,
      aiWeight: 40,
      approvalThreshold: 70,
      vetoThreshold: 80,
      votingPeriod: '72h',
    });
    expect(mesh.spec.healing).toEqual({ heartbeatTimeoutSeconds: 30, maxUnhealthyPercent: 30, predictiveDrain: false });
  });
});

describe('Proposal fields that votes were cast on are immutable', () => {
  const name = `${RUN}-vote`;
  const cases = badUpdateCases(name, NAMESPACE);

  beforeAll(async () => {
    await applyOk(validProposal(name, NAMESPACE));
  });

  it.each(cases.map((c) => [c.name, c] as const))('rejects %s', async (_label, testCase) => {
    const result = await apply(testCase.after);
    expect(result.code, `accepted: ${result.stdout}`).not.toBe(0);
    for (const fragment of testCase.expected) expect(result.stderr).toContain(fragment);
  });

  it('still accepts changes to the summary and criticality', async () => {
    const before = validProposal(name, NAMESPACE);
    await applyOk(mergePatch(before, { spec: { summary: 'More context for voters.', critical: true } }));
    const critical = await kubectlOk(['get', 'proposal', name, '-n', NAMESPACE, '-o', 'jsonpath={.spec.critical}']);
    expect(critical).toBe('true');
  });
});

describe('kubectl integration', () => {
  it('scales an Agent through the scale subresource', async () => {
    const name = `${RUN}-scale`;
    await applyOk(mergePatch(validAgent(name, NAMESPACE), { spec: { runtime: { replicas: 1, maxReplicas: 4 } } }));
    const scaled = await kubectl(['scale', `agent/${name}`, '-n', NAMESPACE, '--replicas=3']);
    expect(scaled.stderr).toBe('');
    expect(scaled.code).toBe(0);
    const replicas = await kubectlOk(['get', 'agent', name, '-n', NAMESPACE, '-o', 'jsonpath={.spec.runtime.replicas}']);
    expect(replicas).toBe('3');
    // The CEL bound still applies when scaling.
    const tooMany = await kubectl(['scale', `agent/${name}`, '-n', NAMESPACE, '--replicas=9']);
    expect(tooMany.code).not.toBe(0);
    expect(tooMany.stderr).toContain('spec.runtime.replicas must be <= spec.runtime.maxReplicas');
  });

  it('explains agent.spec.sla with the schema descriptions', async () => {
    // The API server publishes a new CRD's OpenAPI a moment after it is Established.
    let explained = '';
    for (let attempt = 0; attempt < 30; attempt++) {
      const result = await kubectl(['explain', 'agent.spec.sla']);
      explained = result.stdout;
      if (result.code === 0 && explained.includes('maxLatencyMs')) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(explained).toContain('KIND:       Agent');
    expect(explained).toContain('Service level the agent commits to');
    expect(explained).toMatch(/maxLatencyMs\s+<integer>/);
    expect(explained).toContain('Maximum response latency, in milliseconds');
    expect(explained).toMatch(/uptimeTarget\s+<number>/);
    expect(explained).toContain('Availability target, in percent');
  });
});
