import { describe, expect, it } from 'vitest';
import { badManifestCases, badUpdateCases, mergePatch, validAgent, validMesh, validProposal } from './testdata/manifests.js';
import type { Mesh } from './types.js';
import { validateResource, withDefaults } from './validate.js';

describe('validateResource', () => {
  it('accepts the minimal valid manifests', () => {
    expect(validateResource(validMesh('m'))).toEqual([]);
    expect(validateResource(validAgent('a', 'ns'))).toEqual([]);
    expect(validateResource(validProposal('p', 'ns'))).toEqual([]);
  });

  it('accepts a Mesh without spec, as the API server does after defaulting', () => {
    const mesh = { apiVersion: 'meshos.dev/v1alpha1', kind: 'Mesh', metadata: { name: 'bare' } };
    expect(validateResource(mesh)).toEqual([]);
  });

  it('rejects unknown kinds', () => {
    expect(validateResource({ kind: 'Pod' })).toEqual([{ path: 'kind', message: 'expected kind Mesh, Agent or Proposal' }]);
  });

  it.each(badManifestCases('bad', 'ns').map((c) => [c.name, c] as const))('reports %s', (_name, testCase) => {
    const issues = validateResource(testCase.manifest);
    expect(issues.map((i) => i.path), JSON.stringify(issues)).toContain(testCase.field);
  });

  it('reports CEL mirror failures with the rule message', () => {
    const mesh = mergePatch(validMesh('m'), { spec: { trust: { weights: { credentials: 40 } } } });
    expect(validateResource(mesh)).toEqual([
      {
        path: 'spec.trust.weights',
        message: 'spec.trust.weights: credentials+history+attestations+compliance+uptime must sum to 100',
      },
    ]);
  });

  it.each(badUpdateCases('p', 'ns').map((c) => [c.name, c] as const))('rejects %s', (_name, testCase) => {
    expect(validateResource(testCase.after)).toEqual([]);
    const issues = validateResource(testCase.after, testCase.before);
    expect(issues).toContainEqual({ path: testCase.field, message: testCase.expected[0] });
  });

  it('allows updates to mutable proposal fields', () => {
    const before = validProposal('p', 'ns');
    const after = mergePatch(before, { spec: { summary: 'More context for voters.', critical: true } });
    expect(validateResource(after, before)).toEqual([]);
  });
});

describe('withDefaults', () => {
  it('fills the defaults the API server applies', () => {
    const mesh = withDefaults({ apiVersion: 'meshos.dev/v1alpha1', kind: 'Mesh', metadata: { name: 'x' } } as unknown as Mesh);
    expect(mesh.spec.trust?.weights).toEqual({ credentials: 30, history: 25, attestations: 20, compliance: 15, uptime: 10 });
    expect(mesh.spec.scheduling?.schedulerName).toBe('meshos-scheduler');
    expect(mesh.spec.scheduling?.objectives).toEqual({ cost: 1, latency: 1, trust: 1, carbon: 1 });
    expect(mesh.spec.governance).toMatchObject({ humanWeight: 60, aiWeight: 40, approvalThreshold: 70, vetoThreshold: 80, votingPeriod: '72h' });
    expect(mesh.spec.healing).toMatchObject({ heartbeatTimeoutSeconds: 30, maxUnhealthyPercent: 30 });
  });

  it('does not modify its argument', () => {
    const agent = validAgent('a', 'ns');
    const copy = structuredClone(agent);
    withDefaults(agent);
    expect(agent).toEqual(copy);
  });
});
