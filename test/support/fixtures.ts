import type { Agent, Mesh, Proposal } from '../../crds/types.js';

/** A minimal valid Mesh; pods use the default scheduler so kwok nodes run them without the Mesh OS scheduler. */
export function testMesh(name: string, schedulerName = 'default-scheduler'): Mesh {
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Mesh',
    metadata: { name },
    spec: { did: `did:mesh:test:${name}`, scheduling: { schedulerName } },
  };
}

export function testAgent(namespace: string, name: string, meshRef: string, replicas = 1, labels: Record<string, string> = {}): Agent {
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Agent',
    metadata: { name, namespace, labels },
    spec: {
      meshRef,
      description: `Test agent ${name} that answers questions about climate models`,
      skills: [{ id: 'answer', name: 'Answer', tags: ['climate'] }],
      runtime: { image: 'registry.k8s.io/pause:3.10', replicas, resources: { requests: { cpu: '10m', memory: '16Mi' } } },
    },
  };
}

export function testProposal(namespace: string, name: string, meshRef: string, votingPeriod?: string): Proposal {
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Proposal',
    metadata: { name, namespace },
    spec: {
      meshRef,
      title: 'Weigh history more',
      proposer: { did: 'did:mesh:test:alice', kind: 'human' },
      change: { patch: { spec: { trust: { weights: { credentials: 25, history: 30, attestations: 20, compliance: 15, uptime: 10 } } } } },
      ...(votingPeriod ? { votingPeriod } : {}),
    },
  };
}
