// Small model objects for unit tests: a node and a pod with sensible defaults.
import { LABELS, type NodeModel, type PodDemand } from './model.js';

/** A 4-core node in eu-west-a; fields override. */
export function node(name: string, over: Partial<NodeModel> = {}): NodeModel {
  return {
    name,
    labels: { [LABELS.region]: over.region ?? 'eu-west', 'kubernetes.io/hostname': name },
    taints: [],
    region: 'eu-west',
    zone: 'eu-west-a',
    costPerHour: 0.4,
    carbonIntensity: 200,
    trustLevel: 90,
    allocatable: { cpu: 4000, memory: 8 * 2 ** 30, pods: 110 },
    free: { cpu: 4000, memory: 8 * 2 ** 30, pods: 110 },
    groups: new Set(),
    ...over,
  };
}

/** A 1-core pod with no constraints; fields override. */
export function pod(key: string, over: Partial<PodDemand> = {}): PodDemand {
  return { key, requests: { cpu: 1000, memory: 2 ** 30, pods: 1 }, tolerations: [], nodeSelector: {}, requiredTerms: [], priority: 0, ...over };
}

