// Generated placement instances with fixed seeds: a realistic mix of node types (four sizes
// in 13 zones of 6 regions with their own price, grid carbon and operator trust, a few tainted
// GPU nodes) and of Agents (pod sizes from 250m to 4 cores, users in every region, some with
// latency SLAs, trust floors or GPU needs, replicas spread over distinct nodes).
import { LABELS, type NodeModel, type PodDemand } from './model.js';
import { seededRandom } from '../operator/util/random.js';

export interface ZoneProfile {
  region: string;
  zone: string;
  /** Multiplier on the base price. */
  price: number;
  carbon: number;
  trust: number;
}

export const ZONES: readonly ZoneProfile[] = [
  { region: 'eu-west', zone: 'eu-west-a', price: 1.1, carbon: 250, trust: 95 },
  { region: 'eu-west', zone: 'eu-west-b', price: 1.15, carbon: 120, trust: 90 },
  { region: 'eu-central', zone: 'eu-central-a', price: 1.2, carbon: 350, trust: 97 },
  { region: 'eu-central', zone: 'eu-central-b', price: 1.05, carbon: 380, trust: 85 },
  { region: 'us-east', zone: 'us-east-a', price: 1.0, carbon: 400, trust: 92 },
  { region: 'us-east', zone: 'us-east-b', price: 0.85, carbon: 420, trust: 75 },
  { region: 'us-east', zone: 'us-east-c', price: 0.9, carbon: 390, trust: 88 },
  { region: 'us-west', zone: 'us-west-a', price: 1.05, carbon: 220, trust: 93 },
  { region: 'us-west', zone: 'us-west-b', price: 0.95, carbon: 240, trust: 80 },
  { region: 'ap-south', zone: 'ap-south-a', price: 0.7, carbon: 650, trust: 65 },
  { region: 'ap-northeast', zone: 'ap-northeast-a', price: 1.25, carbon: 480, trust: 96 },
  { region: 'ap-northeast', zone: 'ap-northeast-b', price: 0.8, carbon: 500, trust: 70 },
  { region: 'ap-south', zone: 'ap-south-b', price: 0.75, carbon: 600, trust: 72 },
];

export const REGIONS = [...new Set(ZONES.map((z) => z.region))];

const SIZES = [
  { name: 'c4', cpu: 4, memoryGi: 16, price: 0.2 },
  { name: 'c8', cpu: 8, memoryGi: 32, price: 0.4 },
  { name: 'c16', cpu: 16, memoryGi: 64, price: 0.8 },
  { name: 'c32', cpu: 32, memoryGi: 128, price: 1.6 },
] as const;

export const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' } as const;
export const ACCELERATOR_LABEL = 'meshos.dev/accelerator';
export const INSTANCE_LABEL = 'node.kubernetes.io/instance-type';

export interface GeneratedNode {
  name: string;
  labels: Record<string, string>;
  taints: { key: string; value: string; effect: string }[];
  cpu: string;
  memory: string;
  pods: string;
}

/** Nodes as Kubernetes would describe them (labels, taints, allocatable). */
export function generateNodes(count: number, seed: number): GeneratedNode[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => {
    const zone = ZONES[index % ZONES.length] as ZoneProfile;
    const size = SIZES[Math.floor(random() * SIZES.length)] as (typeof SIZES)[number];
    const gpu = index % 20 === 19;
    // Spot-like discounts on some nodes, in steps, so nodes still group into few types.
    const discount = random() < 0.25 ? 0.7 : 1;
    const price = size.price * zone.price * discount * (gpu ? 3 : 1);
    return {
      name: `node-${index}`,
      labels: {
        [LABELS.region]: zone.region,
        [LABELS.zone]: zone.zone,
        [LABELS.costPerHour]: price.toFixed(4),
        [LABELS.carbonIntensity]: String(zone.carbon),
        [LABELS.trustLevel]: String(zone.trust),
        [INSTANCE_LABEL]: size.name,
        ...(gpu ? { [ACCELERATOR_LABEL]: 'gpu' } : {}),
      },
      taints: gpu ? [{ ...GPU_TAINT }] : [],
      cpu: String(size.cpu),
      memory: `${size.memoryGi}Gi`,
      pods: '110',
    };
  });
}

export const nodeModelOf = (node: GeneratedNode): NodeModel => {
  const cpu = Number(node.cpu) * 1000;
  const memory = Number(node.memory.replace('Gi', '')) * 2 ** 30;
  const pods = Number(node.pods);
  return {
    name: node.name,
    labels: { ...node.labels, 'kubernetes.io/hostname': node.name },
    taints: node.taints,
    region: node.labels[LABELS.region] ?? '',
    zone: node.labels[LABELS.zone] ?? '',
    costPerHour: Number(node.labels[LABELS.costPerHour]),
    carbonIntensity: Number(node.labels[LABELS.carbonIntensity]),
    trustLevel: Number(node.labels[LABELS.trustLevel]),
    allocatable: { cpu, memory, pods },
    free: { cpu, memory, pods },
    groups: new Set(),
  };
};

const POD_SIZES = [
  { share: 0.5, cpu: '250m', memory: '512Mi', cpuMillis: 250, memoryBytes: 512 * 2 ** 20 },
  { share: 0.3, cpu: '1', memory: '2Gi', cpuMillis: 1000, memoryBytes: 2 * 2 ** 30 },
  { share: 0.15, cpu: '2', memory: '8Gi', cpuMillis: 2000, memoryBytes: 8 * 2 ** 30 },
  { share: 0.05, cpu: '4', memory: '16Gi', cpuMillis: 4000, memoryBytes: 16 * 2 ** 30 },
] as const;

export interface GeneratedAgent {
  name: string;
  replicas: number;
  cpu: string;
  memory: string;
  cpuMillis: number;
  memoryBytes: number;
  usersRegion: string;
  maxLatencyMs?: number;
  minTrust?: number;
  gpu: boolean;
}

/** Agents whose replicas add up to `pods`, each with one pod size and its own constraints. */
export function generateAgents(pods: number, nodes: number, seed: number): GeneratedAgent[] {
  const random = seededRandom(seed);
  const agents: GeneratedAgent[] = [];
  const maxReplicas = Math.max(1, Math.min(49, Math.floor(nodes / 8)));
  let left = pods;
  while (left > 0) {
    const gpu = random() < 0.03;
    const replicas = Math.min(left, 1 + Math.floor(random() * (gpu ? 3 : maxReplicas)));
    let pick = random();
    const size = POD_SIZES.find((s) => (pick -= s.share) < 0) ?? POD_SIZES[0];
    const agent: GeneratedAgent = {
      name: `agent-${agents.length}`,
      replicas,
      cpu: size.cpu,
      memory: size.memory,
      cpuMillis: size.cpuMillis,
      memoryBytes: size.memoryBytes,
      usersRegion: REGIONS[Math.floor(random() * REGIONS.length)] as string,
      gpu,
    };
    if (random() < 0.4) agent.maxLatencyMs = 150;
    if (random() < 0.3) agent.minTrust = 80;
    agents.push(agent);
    left -= replicas;
  }
  return agents;
}

export function podDemandsOf(agents: readonly GeneratedAgent[], namespace = 'bench'): PodDemand[] {
  return agents.flatMap((agent) =>
    Array.from({ length: agent.replicas }, (_, i): PodDemand => ({
      key: `${namespace}/${agent.name}-${i}`,
      requests: { cpu: agent.cpuMillis, memory: agent.memoryBytes, pods: 1 },
      tolerations: agent.gpu ? [{ key: GPU_TAINT.key, operator: 'Exists', effect: 'NoSchedule' }] : [],
      nodeSelector: agent.gpu ? { [ACCELERATOR_LABEL]: 'gpu' } : {},
      requiredTerms: [],
      usersRegion: agent.usersRegion,
      ...(agent.maxLatencyMs !== undefined ? { maxLatencyMs: agent.maxLatencyMs } : {}),
      ...(agent.minTrust !== undefined ? { minTrust: agent.minTrust } : {}),
      spreadGroup: `${namespace}/${agent.name}`,
      priority: 0,
    })),
  );
}

/** A whole instance: pods x nodes, both from the seed. */
export function generateInstance(pods: number, nodes: number, seed: number): { nodes: NodeModel[]; pods: PodDemand[]; agents: GeneratedAgent[]; generatedNodes: GeneratedNode[] } {
  const generatedNodes = generateNodes(nodes, seed);
  const agents = generateAgents(pods, nodes, seed + 1);
  // Interleave agents' replicas so arrival order is not grouped by agent, as with real rollouts.
  const demands = podDemandsOf(agents);
  const random = seededRandom(seed + 2);
  for (let i = demands.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [demands[i], demands[j]] = [demands[j] as PodDemand, demands[i] as PodDemand];
  }
  return { nodes: generatedNodes.map(nodeModelOf), pods: demands, agents, generatedNodes };
}
