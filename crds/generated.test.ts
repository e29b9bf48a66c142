import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { JSONSchemaProps } from './openapi.js';
import { crdDrift, customResourceDefinitions, GENERATED_DIR, GENERATED_HEADER, renderCrdFiles } from './generate.js';

describe('crds/generated', () => {
  it('matches the schemas (run `npm run gen:crds` after changing crds/schema)', () => {
    expect(crdDrift()).toEqual([]);
  });

  it.each(renderCrdFiles().map((file) => [file.name, file] as const))('%s is byte-for-byte current', (name, file) => {
    const onDisk = readFileSync(join(GENERATED_DIR, name), 'utf8');
    expect(onDisk.startsWith(`${GENERATED_HEADER}\n`)).toBe(true);
    expect(onDisk, `${name} is stale: run npm run gen:crds`).toBe(file.text);
  });

  it('parses back to the objects the operator installs', () => {
    const fromDisk = renderCrdFiles().map((file) => parse(readFileSync(join(GENERATED_DIR, file.name), 'utf8')) as unknown);
    expect(fromDisk).toEqual(customResourceDefinitions());
  });

  it('reports missing files', () => {
    expect(crdDrift('/nonexistent/meshos-crds').length).toBe(3);
  });
});

describe('customResourceDefinitions', () => {
  const byKind = new Map(customResourceDefinitions().map((crd) => [crd.spec.names.kind, crd]));
  const version = (kind: string) => {
    const v = byKind.get(kind)?.spec.versions[0];
    if (v === undefined) throw new Error(`no version for ${kind}`);
    return v;
  };
  const columns = (kind: string) => version(kind).additionalPrinterColumns.map((c) => [c.name, c.jsonPath]);

  it('declares the three kinds with short names and the meshos category', () => {
    expect([...byKind.keys()]).toEqual(['Mesh', 'Agent', 'Proposal']);
    expect(byKind.get('Mesh')?.spec.scope).toBe('Cluster');
    expect(byKind.get('Agent')?.spec.scope).toBe('Namespaced');
    expect(byKind.get('Proposal')?.spec.scope).toBe('Namespaced');
    expect([...byKind.values()].map((crd) => crd.spec.names.shortNames)).toEqual([['mesh'], ['ag'], ['prop']]);
    for (const crd of byKind.values()) {
      expect(crd.spec.names.categories).toEqual(['meshos']);
      expect(crd.spec.group).toBe('meshos.dev');
      expect(crd.spec.versions.map((v) => v.name)).toEqual(['v1alpha1']);
      expect(crd.spec.versions[0]?.subresources.status).toEqual({});
    }
  });

  it('has the agreed printer columns', () => {
    expect(columns('Agent')).toEqual([
      ['Mesh', '.spec.meshRef'],
      ['Phase', '.status.phase'],
      ['Trust', '.status.trust.score'],
      ['Replicas', '.status.replicaSummary'],
      ['Node(s)', '.status.nodeSummary'],
      ['Region', '.spec.region'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
    expect(columns('Mesh')).toEqual([
      ['DID', '.spec.did'],
      ['Agents', '.status.agents.total'],
      ['Ready', '.status.agents.ready'],
      ['Phase', '.status.phase'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
    expect(columns('Proposal')).toEqual([
      ['Mesh', '.spec.meshRef'],
      ['Phase', '.status.phase'],
      ['Critical', '.spec.critical'],
      ['Proposer', '.spec.proposer.kind'],
      ['Title', '.spec.title'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
  });

  it('gives Agent a scale subresource on spec.runtime.replicas', () => {
    const root = version('Agent').schema.openAPIV3Schema;
    expect(version('Agent').subresources.scale).toEqual({
      specReplicasPath: '.spec.runtime.replicas',
      statusReplicasPath: '.status.replicas',
      labelSelectorPath: '.status.selector',
    });
    expect(root.properties?.spec?.properties?.runtime?.properties?.replicas?.type).toBe('integer');
    expect(root.properties?.status?.properties?.replicas?.type).toBe('integer');
    expect(root.properties?.status?.properties?.selector?.type).toBe('string');
  });

  it('bounds every list and string a CEL rule reads, so the API server accepts the cost', () => {
    // Rules sit on scalars and small objects; the lists under them must be bounded.
    const unbounded: string[] = [];
    const walk = (node: JSONSchemaProps, path: string, underRule: boolean) => {
      const ruled = underRule || (node['x-kubernetes-validations']?.length ?? 0) > 0;
      if (ruled && node.type === 'array' && node.maxItems === undefined) unbounded.push(path);
      for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${key}`, ruled);
      if (node.items) walk(node.items, `${path}[*]`, ruled);
    };
    for (const crd of byKind.values()) walk(crd.spec.versions[0]?.schema.openAPIV3Schema ?? {}, crd.spec.names.kind, false);
    expect(unbounded).toEqual([]);
  });
});
