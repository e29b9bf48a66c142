import { createHash } from 'node:crypto';
import type { Agent, Mesh } from '../../crds/types.js';
import type { KubeObject, OwnerReference } from '../kube/object.js';

export const MANAGED_BY = 'meshos';
export const AGENT_LABEL = 'meshos.dev/agent';
export const MESH_LABEL = 'meshos.dev/mesh';
export const SPEC_HASH_ANNOTATION = 'meshos.dev/spec-hash';
export const DEFAULT_SCHEDULER = 'meshos-scheduler';
export const DEFAULT_PORT = 8080;
/** Selects every object the operator manages; informers on owned kinds watch only these. */
export const MANAGED_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY}`;

export interface Deployment extends KubeObject {
  spec?: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
    [field: string]: unknown;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface PodSpec {
  schedulerName?: string;
  containers: {
    name: string;
    image: string;
    command?: string[];
    args?: string[];
    ports?: { name: string; containerPort: number; protocol?: string }[];
    env?: { name: string; value: string }[];
    resources?: unknown;
  }[];
  [field: string]: unknown;
}

export interface Service extends KubeObject {
  spec?: {
    selector?: Record<string, string>;
    ports?: { name: string; port: number; targetPort: number | string; protocol?: string }[];
    type?: string;
    [field: string]: unknown;
  };
}

export interface Pod extends KubeObject {
  spec?: { nodeName?: string; schedulerName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

export function agentOwnerReference(agent: Agent): OwnerReference {
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Agent',
    name: agent.metadata.name ?? '',
    uid: agent.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Labels every workload object and pod of an Agent carries; the Agent's own labels come first. */
export function workloadLabels(agent: Agent): Record<string, string> {
  const name = agent.metadata.name ?? '';
  return {
    ...(agent.metadata.labels ?? {}),
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': 'agent',
    'app.kubernetes.io/part-of': 'meshos',
    'app.kubernetes.io/managed-by': MANAGED_BY,
    [AGENT_LABEL]: name,
    [MESH_LABEL]: agent.spec.meshRef,
  };
}

export const selectorLabels = (agent: Agent): Record<string, string> => ({ [AGENT_LABEL]: agent.metadata.name ?? '' });

export function schedulerNameFor(mesh: Mesh): string {
  return mesh.spec.scheduling?.schedulerName ?? DEFAULT_SCHEDULER;
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/**
 * The Deployment an Agent should own. Pure: the same Agent and Mesh give the same object,
 * and the spec hash annotation lets the controller tell "changed" from "defaulted by the API server".
 */
export function desiredDeployment(agent: Agent, mesh: Mesh): Deployment {
  const runtime = agent.spec.runtime;
  const labels = workloadLabels(agent);
  const port = runtime.port ?? DEFAULT_PORT;
  const container: PodSpec['containers'][number] = {
    name: 'agent',
    image: runtime.image,
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
  };
  if (runtime.command && runtime.command.length > 0) container.command = [...runtime.command];
  if (runtime.args && runtime.args.length > 0) container.args = [...runtime.args];
  if (runtime.env && runtime.env.length > 0) container.env = runtime.env.map(({ name, value }) => ({ name, value: value ?? '' }));
  if (runtime.resources) container.resources = runtime.resources;
  const spec: NonNullable<Deployment['spec']> = {
    replicas: runtime.replicas ?? 1,
    selector: { matchLabels: selectorLabels(agent) },
    template: {
      metadata: { labels },
      spec: { schedulerName: schedulerNameFor(mesh), containers: [container] },
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: agent.metadata.name ?? '',
      namespace: agent.metadata.namespace ?? 'default',
      labels,
      annotations: { [SPEC_HASH_ANNOTATION]: hashOf(spec) },
      ownerReferences: [agentOwnerReference(agent)],
    },
    spec,
  };
}

export function desiredService(agent: Agent): Service {
  const port = agent.spec.runtime.port ?? DEFAULT_PORT;
  // Headless: gRPC and A2A clients balance across replicas themselves (a ClusterIP would pin a
  // connection to one pod), and no cluster IP is spent per Agent.
  const spec: NonNullable<Service['spec']> = {
    type: 'ClusterIP',
    clusterIP: 'None',
    selector: selectorLabels(agent),
    ports: [{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }],
  };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: agent.metadata.name ?? '',
      namespace: agent.metadata.namespace ?? 'default',
      labels: workloadLabels(agent),
      annotations: { [SPEC_HASH_ANNOTATION]: hashOf(spec) },
      ownerReferences: [agentOwnerReference(agent)],
    },
    spec,
  };
}

/** True when the live object was made from another desired spec, or someone edited what we own. */
export function deploymentNeedsUpdate(live: Deployment, desired: Deployment): boolean {
  if (live.metadata.annotations?.[SPEC_HASH_ANNOTATION] !== desired.metadata.annotations?.[SPEC_HASH_ANNOTATION]) return true;
  if (live.spec?.replicas !== desired.spec?.replicas) return true;
  const liveTemplate = live.spec?.template.spec;
  const desiredTemplate = desired.spec?.template.spec;
  return (
    liveTemplate?.schedulerName !== desiredTemplate?.schedulerName ||
    liveTemplate?.containers[0]?.image !== desiredTemplate?.containers[0]?.image
  );
}

export function serviceNeedsUpdate(live: Service, desired: Service): boolean {
  return live.metadata.annotations?.[SPEC_HASH_ANNOTATION] !== desired.metadata.annotations?.[SPEC_HASH_ANNOTATION];
}

/** Is `object` controlled by this Agent (same uid), so the controller may change it? */
export function isOwnedBy(object: KubeObject, agent: Agent): boolean {
  return object.metadata.ownerReferences?.some((ref) => ref.controller === true && ref.uid === agent.metadata.uid) ?? false;
}
