// Fake nodes that kwok keeps alive: heartbeats (Leases), Ready conditions, running pods.
import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import type { Kubectl } from './kubectl.js';

/** Node labels the Mesh OS scheduler reads. */
export const NODE_LABELS = {
  /** Region name, e.g. `eu-west`. */
  region: 'meshos.dev/region',
  /** Zone name, e.g. `eu-west-a`. */
  zone: 'meshos.dev/zone',
  /** Price of the node in US dollars per hour, as a decimal string (`0.12`). */
  cost: 'meshos.dev/cost',
  /** Carbon intensity of the node's grid in gCO2e/kWh, as an integer string (`80`). */
  carbon: 'meshos.dev/carbon',
  /** Trust level of the node's operator, 0..1 as a decimal string (`0.95`). */
  trust: 'meshos.dev/trust',
} as const;

const PROFILES = [
  { region: 'eu-west', zone: 'eu-west-a', cost: '0.12', carbon: '80', trust: '0.95' },
  { region: 'eu-west', zone: 'eu-west-b', cost: '0.10', carbon: '120', trust: '0.80' },
  { region: 'us-east', zone: 'us-east-a', cost: '0.08', carbon: '380', trust: '0.90' },
  { region: 'us-east', zone: 'us-east-b', cost: '0.06', carbon: '420', trust: '0.60' },
  { region: 'ap-south', zone: 'ap-south-a', cost: '0.07', carbon: '630', trust: '0.70' },
] as const;

/** Labels of the index-th default node: regions, zones, cost, carbon and trust cycle through a fixed set. */
export function defaultNodeLabels(index: number): Record<string, string> {
  const profile = PROFILES[index % PROFILES.length] ?? PROFILES[0];
  return {
    [NODE_LABELS.region]: profile.region,
    [NODE_LABELS.zone]: profile.zone,
    [NODE_LABELS.cost]: profile.cost,
    [NODE_LABELS.carbon]: profile.carbon,
    [NODE_LABELS.trust]: profile.trust,
    'topology.kubernetes.io/region': profile.region,
    'topology.kubernetes.io/zone': profile.zone,
  };
}

export interface KwokNodeOptions {
  /** Nodes are named `<namePrefix><index>`; default `kwok-node-`. */
  namePrefix?: string;
  /** Extra labels, fixed or per node index; merged over defaultNodeLabels(index). */
  labels?: Record<string, string> | ((index: number) => Record<string, string>);
  /** Allocatable (and capacity) per node; defaults 32 CPUs, 128Gi, 110 pods. */
  cpu?: string;
  memory?: string;
  pods?: string;
  /** Wait until every node reports Ready (kwok must run); default true. */
  waitReady?: boolean;
  waitTimeoutSeconds?: number;
}

/** The Node object for one kwok node. */
export function kwokNodeManifest(name: string, labels: Record<string, string>, resources: { cpu: string; memory: string; pods: string }): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        ...labels,
        type: 'kwok',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
      },
    },
    spec: { providerID: `kwok://${name}` },
    // kwok's node-initialize stage keeps allocatable/capacity that the node already has.
    status: { allocatable: { ...resources }, capacity: { ...resources } },
  };
}

function nodeNames(count: number, prefix: string): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}${index}`);
}

function manifests(count: number, options: KwokNodeOptions): V1Node[] {
  const prefix = options.namePrefix ?? 'kwok-node-';
  const resources = { cpu: options.cpu ?? '32', memory: options.memory ?? '128Gi', pods: options.pods ?? '110' };
  return nodeNames(count, prefix).map((name, index) => {
    const extra = typeof options.labels === 'function' ? options.labels(index) : (options.labels ?? {});
    return kwokNodeManifest(name, { ...defaultNodeLabels(index), ...extra }, resources);
  });
}

function isConflict(error: unknown): boolean {
  const candidate = error as { code?: unknown; statusCode?: unknown };
  return candidate.code === 409 || candidate.statusCode === 409;
}

/**
 * Creates (or updates) `count` kwok-managed nodes, idempotently, and by default waits until
 * they are Ready. Takes a Kubectl (server-side apply) or a client-node CoreV1Api (create,
 * existing nodes left as they are). Returns the node names.
 */
export async function createKwokNodes(target: Kubectl | CoreV1Api, count: number, options: KwokNodeOptions = {}): Promise<string[]> {
  const nodes = manifests(count, options);
  const names = nodes.map((node) => node.metadata?.name ?? '');
  if (count === 0) return names;
  const timeoutSeconds = options.waitTimeoutSeconds ?? 60;
  if (typeof target === 'function') {
    const list = { apiVersion: 'v1', kind: 'List', items: nodes };
    await target(['apply', '--server-side', '--field-manager=meshos-harness', '--force-conflicts', '-f', '-'], JSON.stringify(list));
    if (options.waitReady ?? true) {
      await target(['wait', '--for=condition=Ready', `--timeout=${timeoutSeconds}s`, ...names.map((name) => `node/${name}`)]);
    }
    return names;
  }
  for (const node of nodes) {
    try {
      await target.createNode({ body: node });
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }
  if (options.waitReady ?? true) {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (const name of names) {
      for (;;) {
        const node = await target.readNode({ name });
        if (node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true) break;
        if (Date.now() > deadline) throw new Error(`Node ${name} not Ready after ${timeoutSeconds} s (is kwok running?)`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }
  return names;
}
