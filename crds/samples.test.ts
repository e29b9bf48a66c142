import { readdirSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { loadSamples, SAMPLE_FILES, SAMPLE_MESH, SAMPLE_NAMESPACE, SAMPLES_DIR } from '../samples/index.js';
import { mergePatch } from './testdata/manifests.js';
import type { Agent, Mesh, Proposal } from './types.js';
import { RESOURCE_SCHEMAS, validateResource, withDefaults } from './validate.js';

const samples = loadSamples().map(({ file, index, manifest }) => ({ file, index, document: manifest }));
const ofKind = <T>(kind: string) => samples.filter((s) => s.document.kind === kind).map((s) => s.document as T);
const meshosSamples = samples.filter((s) => s.document.apiVersion === 'meshos.dev/v1alpha1');

describe('samples', () => {
  it('lists every sample file in apply order', () => {
    const onDisk = readdirSync(SAMPLES_DIR).filter((name) => name.endsWith('.yaml'));
    expect([...SAMPLE_FILES].sort()).toEqual(onDisk.sort());
    expect(SAMPLE_FILES.indexOf('namespace.yaml')).toBeLessThan(SAMPLE_FILES.indexOf('agents.yaml'));
  });

  it('has the expected documents', () => {
    expect(ofKind<Mesh>('Mesh').map((m) => m.metadata.name)).toEqual([SAMPLE_MESH]);
    expect(ofKind('Namespace')).toHaveLength(1);
    expect(ofKind<Proposal>('Proposal')).toHaveLength(1);
    expect(ofKind<Agent>('Agent').length).toBeGreaterThanOrEqual(12);
  });

  it.each(meshosSamples.map((s) => [`${s.file}#${s.index} ${String(s.document.kind)}`, s] as const))(
    '%s satisfies its schema and the CEL rules',
    (_label, sample) => {
      const schema = RESOURCE_SCHEMAS[sample.document.kind as keyof typeof RESOURCE_SCHEMAS];
      const defaulted = withDefaults(sample.document);
      expect([...Value.Errors(schema, defaulted)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
      expect(Value.Check(schema, defaulted)).toBe(true);
      expect(validateResource(sample.document)).toEqual([]);
    },
  );

  it('puts namespaced samples in meshos-demo and points them at the demo mesh', () => {
    const namespace = ofKind<{ metadata: { name: string } }>('Namespace')[0];
    expect(namespace?.metadata.name).toBe(SAMPLE_NAMESPACE);
    for (const resource of [...ofKind<Agent>('Agent'), ...ofKind<Proposal>('Proposal')]) {
      expect(resource.metadata.namespace).toBe(SAMPLE_NAMESPACE);
      expect(resource.spec.meshRef).toBe(SAMPLE_MESH);
    }
  });

  it('uses the default scheduler until the Mesh OS scheduler lands', () => {
    expect(ofKind<Mesh>('Mesh')[0]?.spec.scheduling?.schedulerName).toBe('default-scheduler');
  });

  it('has varied, realistic agents that run the pause image with small resources', () => {
    const agents = ofKind<Agent>('Agent');
    expect(new Set(agents.map((a) => a.metadata.name)).size).toBe(agents.length);
    expect(new Set(agents.map((a) => a.spec.region)).size).toBeGreaterThanOrEqual(5);
    expect(new Set(agents.flatMap((a) => a.spec.specializations ?? [])).size).toBeGreaterThanOrEqual(12);
    for (const agent of agents) {
      const { runtime } = agent.spec;
      expect(runtime.image).toBe('registry.k8s.io/pause:3.10');
      expect(runtime.replicas).toBeGreaterThanOrEqual(1);
      expect(runtime.replicas).toBeLessThanOrEqual(3);
      expect(runtime.resources?.requests).toBeDefined();
      expect(agent.spec.skills?.length).toBeGreaterThan(0);
      expect(agent.spec.sla?.maxLatencyMs).toBeGreaterThan(0);
      expect(agent.spec.pricing?.currency).toMatch(/^[A-Z]{3}$/);
    }
  });

  it('has a proposal whose patch, applied to the demo mesh, gives a valid mesh with new trust weights', () => {
    const mesh = ofKind<Mesh>('Mesh')[0];
    const proposal = ofKind<Proposal>('Proposal')[0];
    expect(mesh && proposal).toBeTruthy();
    if (!mesh || !proposal) return;
    const patched = mergePatch(mesh, proposal.spec.change.patch);
    expect(validateResource(patched)).toEqual([]);
    expect(patched.spec.trust?.weights).not.toEqual(mesh.spec.trust?.weights);
  });
});
