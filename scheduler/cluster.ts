// From Kubernetes objects to the placement model: Node -> NodeModel (labels, taints,
// allocatable), Pod + owning Agent + Mesh -> PodDemand, ConfigMap -> latency matrix.
import type { Agent, Mesh } from '../crds/types.js';
import type { KubeObject } from '../operator/kube/object.js';
import { cpuMillis, parseQuantity } from './quantity.js';
import {
  DEFAULT_WEIGHTS,
  LABELS,
  parseLatencyMatrix,
  type LatencyMatrix,
  type NodeModel,
  type NodeSelectorTerm,
  type ObjectiveWeights,
  type PodDemand,
  type Resources,
  type Taint,
  type Toleration,
} from './model.js';

export const SCHEDULER_NAME = 'meshos-scheduler';
/** The scheduler's decision, copied onto the pod by the binding (kernel/drift reads it). */
export const SCHEDULED_NODE_ANNOTATION = 'meshos.dev/scheduled-node';
export const PLACEMENT_SCORE_ANNOTATION = 'meshos.dev/placement-score';
export const AGENT_LABEL = 'meshos.dev/agent';
/** ConfigMap (in the scheduler's namespace) whose `matrix` key holds region -> region -> ms as JSON. */
export const LATENCY_CONFIGMAP = 'meshos-latency';

export interface NodeObject extends KubeObject {
  spec?: { unschedulable?: boolean; taints?: Taint[] };
  status?: {
    allocatable?: Record<string, string>;
    conditions?: { type: string; status: string }[];
  };
}

export interface ContainerObject {
  name?: string;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
}

export interface PodObject extends KubeObject {
  spec?: {
    nodeName?: string;
    schedulerName?: string;
    priority?: number;
    nodeSelector?: Record<string, string>;
    tolerations?: Toleration[];
    affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } } };
    containers?: ContainerObject[];
    initContainers?: ContainerObject[];
    overhead?: Record<string, string>;
  };
  status?: { phase?: string; nominatedNodeName?: string; conditions?: { type: string; status: string; reason?: string }[] };
}

const num = (value: string | undefined): number | undefined => {
  if (value === undefined || value.trim() === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
};

function resourcesOf(map: Record<string, string | number> | undefined, field: string): Resources {
  return {
    cpu: map?.['cpu'] !== undefined ? cpuMillis(map['cpu'], `${field}.cpu`) : 0,
    memory: map?.['memory'] !== undefined ? parseQuantity(map['memory'], `${field}.memory`) : 0,
    pods: map?.['pods'] !== undefined ? parseQuantity(map['pods'], `${field}.pods`) : 0,
  };
}

/** What a pod asks for, as kube-scheduler computes it: sum of containers, at least each init container, plus overhead. */
export function podRequests(pod: PodObject): Resources {
  const sum: Resources = { cpu: 0, memory: 0, pods: 1 };
  for (const container of pod.spec?.containers ?? []) {
    const r = resourcesOf(container.resources?.requests, `pod ${pod.metadata.name ?? ''} container ${container.name ?? ''} requests`);
    sum.cpu += r.cpu;
    sum.memory += r.memory;
  }
  for (const container of pod.spec?.initContainers ?? []) {
    const r = resourcesOf(container.resources?.requests, `pod ${pod.metadata.name ?? ''} init container ${container.name ?? ''} requests`);
    sum.cpu = Math.max(sum.cpu, r.cpu);
    sum.memory = Math.max(sum.memory, r.memory);
  }
  const overhead = resourcesOf(pod.spec?.overhead, 'overhead');
  return { cpu: sum.cpu + overhead.cpu, memory: sum.memory + overhead.memory, pods: 1 };
}

/** A pod that holds node resources: bound and not finished. */
export const holdsResources = (pod: PodObject): boolean =>
  !!pod.spec?.nodeName && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';

export const isPendingFor = (pod: PodObject, schedulerName: string): boolean =>
  pod.spec?.schedulerName === schedulerName && !pod.spec.nodeName && !pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';

/** Ready and schedulable nodes only; the others take no new pods. */
export function isSchedulable(node: NodeObject): boolean {
  if (node.spec?.unschedulable === true) return false;
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * The model of a node. Missing or malformed attribute labels take neutral values (price 0,
 * carbon 0, trust 0) rather than failing: a node without a trust level is simply not trusted.
 */
export function nodeModel(node: NodeObject, used: Resources = { cpu: 0, memory: 0, pods: 0 }, groups: Iterable<string> = []): NodeModel {
  const labels = node.metadata.labels ?? {};
  const allocatable = resourcesOf(node.status?.allocatable, `node ${node.metadata.name ?? ''} allocatable`);
  return {
    name: node.metadata.name ?? '',
    labels,
    taints: node.spec?.taints ?? [],
    region: labels[LABELS.region] ?? '',
    zone: labels[LABELS.zone] ?? '',
    costPerHour: Math.max(0, num(labels[LABELS.costPerHour]) ?? 0),
    carbonIntensity: Math.max(0, num(labels[LABELS.carbonIntensity]) ?? 0),
    trustLevel: Math.min(100, Math.max(0, num(labels[LABELS.trustLevel]) ?? 0)),
    allocatable,
    free: { cpu: allocatable.cpu - used.cpu, memory: allocatable.memory - used.memory, pods: allocatable.pods - used.pods },
    groups: new Set(groups),
  };
}

/** The spread group of a pod: its Agent (namespace/name), when the Agent wants spread. */
export function agentKeyOf(pod: PodObject): string | undefined {
  const agent = pod.metadata.labels?.[AGENT_LABEL];
  return agent ? `${pod.metadata.namespace ?? ''}/${agent}` : undefined;
}

/** A pod's demand: its own spec (requests, tolerations, selectors, priority) plus what its Agent and Mesh ask. */
export function podDemand(pod: PodObject, agent?: Agent, mesh?: Mesh): PodDemand {
  const scheduling = agent?.spec.scheduling;
  const usersRegion = scheduling?.usersRegion ?? agent?.spec.region;
  const minTrusts = [scheduling?.minNodeTrust, mesh?.spec.scheduling?.minTrustScore].filter((v): v is number => v !== undefined);
  const nodeSelector = { ...(pod.spec?.nodeSelector ?? {}) };
  // An Agent's spec.region is where it must run.
  if (agent?.spec.region !== undefined) nodeSelector[LABELS.region] = agent.spec.region;
  const demand: PodDemand = {
    key: `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`,
    requests: podRequests(pod),
    tolerations: pod.spec?.tolerations ?? [],
    nodeSelector,
    requiredTerms: pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [],
    priority: pod.spec?.priority ?? 0,
  };
  if (usersRegion !== undefined) demand.usersRegion = usersRegion;
  if (agent?.spec.sla?.maxLatencyMs !== undefined) demand.maxLatencyMs = agent.spec.sla.maxLatencyMs;
  if (minTrusts.length) demand.minTrust = Math.max(...minTrusts);
  const group = agentKeyOf(pod);
  if (group !== undefined && agent && scheduling?.spread !== false) demand.spreadGroup = group;
  return demand;
}

export function weightsOf(mesh: Mesh | undefined): ObjectiveWeights {
  const objectives = mesh?.spec.scheduling?.objectives;
  return {
    cost: objectives?.cost ?? DEFAULT_WEIGHTS.cost,
    latency: objectives?.latency ?? DEFAULT_WEIGHTS.latency,
    trust: objectives?.trust ?? DEFAULT_WEIGHTS.trust,
    carbon: objectives?.carbon ?? DEFAULT_WEIGHTS.carbon,
  };
}

/** The latency matrix of the ConfigMap's `matrix` key (JSON); throws naming the ConfigMap and entry when malformed. */
export function latencyFromConfigMap(configMap: { metadata: { name?: string; namespace?: string }; data?: Record<string, string> } | undefined): LatencyMatrix {
  const text = configMap?.data?.['matrix'];
  if (text === undefined) return {};
  const where = `ConfigMap ${configMap?.metadata.namespace ?? ''}/${configMap?.metadata.name ?? ''} data.matrix`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return parseLatencyMatrix(parsed, where);
}
