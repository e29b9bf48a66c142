// Builds the apiextensions.k8s.io/v1 CustomResourceDefinitions of Mesh OS from the TypeBox
// schemas. The operator installs these objects; generate.ts writes them as YAML.
import type { TObject } from '@sinclair/typebox';
import { toStructuralSchema, type JSONSchemaProps } from './openapi.js';
import { AgentSchema } from './schema/agent.js';
import { GROUP, VERSION } from './schema/common.js';
import { MeshSchema } from './schema/mesh.js';
import { ProposalSchema } from './schema/proposal.js';
import { AGENT_PLURAL, MESH_PLURAL, PROPOSAL_PLURAL, type MeshOSKind } from './types.js';

export interface PrinterColumn {
  name: string;
  type: 'integer' | 'number' | 'string' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

/** An apiextensions.k8s.io/v1 CustomResourceDefinition as plain JSON (wire field names). */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Cluster' | 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: {
        status: Record<string, never>;
        scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
      };
      additionalPrinterColumns: PrinterColumn[];
    }[];
  };
}

interface KindDefinition {
  kind: MeshOSKind;
  plural: string;
  shortName: string;
  scope: 'Cluster' | 'Namespaced';
  schema: TObject;
  columns: PrinterColumn[];
  scale?: CustomResourceDefinition['spec']['versions'][number]['subresources']['scale'];
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

const KINDS: readonly KindDefinition[] = [
  {
    kind: 'Mesh',
    plural: MESH_PLURAL,
    shortName: 'mesh',
    scope: 'Cluster',
    schema: MeshSchema,
    columns: [
      { name: 'DID', type: 'string', jsonPath: '.spec.did', description: 'Decentralised identifier of the mesh' },
      { name: 'Agents', type: 'integer', jsonPath: '.status.agents.total', description: 'Agents in the mesh' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.agents.ready', description: 'Agents that are Ready' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Summary of the conditions' },
      AGE,
    ],
  },
  {
    kind: 'Agent',
    plural: AGENT_PLURAL,
    shortName: 'ag',
    scope: 'Namespaced',
    schema: AgentSchema,
    columns: [
      { name: 'Mesh', type: 'string', jsonPath: '.spec.meshRef', description: 'Mesh the agent joined' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Lifecycle phase' },
      { name: 'Trust', type: 'number', jsonPath: '.status.trust.score', description: 'Trust score (0-100)' },
      { name: 'Replicas', type: 'string', jsonPath: '.status.replicaSummary', description: 'Ready/desired replicas' },
      { name: 'Node(s)', type: 'string', jsonPath: '.status.nodeSummary', description: 'Nodes the replicas run on' },
      { name: 'Region', type: 'string', jsonPath: '.spec.region', description: 'Required region', priority: 1 },
      AGE,
    ],
    scale: {
      specReplicasPath: '.spec.runtime.replicas',
      statusReplicasPath: '.status.replicas',
      labelSelectorPath: '.status.selector',
    },
  },
  {
    kind: 'Proposal',
    plural: PROPOSAL_PLURAL,
    shortName: 'prop',
    scope: 'Namespaced',
    schema: ProposalSchema,
    columns: [
      { name: 'Mesh', type: 'string', jsonPath: '.spec.meshRef', description: 'Mesh the proposal changes' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Lifecycle phase' },
      { name: 'Critical', type: 'boolean', jsonPath: '.spec.critical', description: 'Whether the change is critical' },
      { name: 'Proposer', type: 'string', jsonPath: '.spec.proposer.kind', description: 'human or ai' },
      { name: 'Title', type: 'string', jsonPath: '.spec.title', description: 'Title of the proposal', priority: 1 },
      AGE,
    ],
  },
];

/** The root schema of a kind: TypeMeta and ObjectMeta as the API server expects, then spec and status. */
function rootSchema(definition: KindDefinition): JSONSchemaProps {
  const converted = toStructuralSchema(definition.schema, '');
  const properties = converted.properties ?? {};
  const { spec, status } = properties;
  if (spec === undefined || status === undefined) {
    throw new Error(`${definition.kind}: schema must declare spec and status`);
  }
  return {
    type: 'object',
    ...(converted.description === undefined ? {} : { description: converted.description }),
    required: ['spec'],
    properties: {
      apiVersion: {
        type: 'string',
        description:
          'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
      },
      kind: {
        type: 'string',
        description:
          'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. In CamelCase.',
      },
      metadata: { type: 'object' },
      spec,
      status,
    },
  };
}

function toCustomResourceDefinition(definition: KindDefinition): CustomResourceDefinition {
  const singular = definition.kind.toLowerCase();
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${definition.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'meshos', 'app.kubernetes.io/component': 'crd' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        plural: definition.plural,
        singular,
        shortNames: [definition.shortName],
        categories: ['meshos'],
      },
      scope: definition.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: rootSchema(definition) },
          subresources: definition.scale === undefined ? { status: {} } : { status: {}, scale: definition.scale },
          additionalPrinterColumns: definition.columns,
        },
      ],
    },
  };
}

/**
 * The Mesh OS CustomResourceDefinitions (meshes, agents, proposals), freshly built from the
 * schemas. Plain JSON with wire field names (`x-kubernetes-validations`, ...): send it as
 * JSON or YAML, not through @kubernetes/client-node's typed serializer, which only knows
 * the camelCase model names and would drop the `x-kubernetes-*` keys.
 */
export function customResourceDefinitions(): CustomResourceDefinition[] {
  return KINDS.map(toCustomResourceDefinition);
}

/** Names of the CRDs (`meshes.meshos.dev`, ...), for waiting until they are Established. */
export function customResourceDefinitionNames(): string[] {
  return KINDS.map((k) => `${k.plural}.${GROUP}`);
}
