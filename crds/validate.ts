// Client-side validation of Mesh OS resources: the TypeBox schema (with the API server's
// defaulting applied first), list uniqueness, and the TypeScript mirrors of the CEL rules.
// It lets tests, the CLI and samples fail fast; the API server stays the authority.
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AgentSchema } from './schema/agent.js';
import { deepEqual, mirroredRules } from './schema/common.js';
import { MeshSchema } from './schema/mesh.js';
import { ProposalSchema } from './schema/proposal.js';
import type { MeshOSKind } from './types.js';

/** One problem, on a field path as the API server prints it (`spec.skills[1].id`). */
export interface ValidationIssue {
  path: string;
  message: string;
}

export const RESOURCE_SCHEMAS: Readonly<Record<MeshOSKind, TSchema>> = {
  Mesh: MeshSchema,
  Agent: AgentSchema,
  Proposal: ProposalSchema,
};

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function schemaFor(document: unknown): TSchema | undefined {
  const kind = isObject(document) ? document.kind : undefined;
  return typeof kind === 'string' && kind in RESOURCE_SCHEMAS ? RESOURCE_SCHEMAS[kind as MeshOSKind] : undefined;
}

/** A copy of `document` with the schema defaults filled in, as the API server stores it. */
export function withDefaults<T>(document: T): T {
  const schema = schemaFor(document);
  if (schema === undefined) return structuredClone(document);
  return Value.Default(schema, structuredClone(document)) as T;
}

/** `/spec/skills/1/id` -> `spec.skills[1].id` */
function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : path === '' ? segment : `${path}.${segment}`), '');
}

/**
 * Validates a Mesh, Agent or Proposal. Pass `previous` for an update, so transition rules
 * (immutable fields) are checked too. Like the API server, the CEL mirrors only run when
 * the document satisfies the schema. Returns an empty list when the document is valid.
 */
export function validateResource(document: unknown, previous?: unknown): ValidationIssue[] {
  const schema = schemaFor(document);
  if (schema === undefined) {
    return [{ path: 'kind', message: 'expected kind Mesh, Agent or Proposal' }];
  }
  const current = Value.Default(schema, structuredClone(document));
  const issues: ValidationIssue[] = [...Value.Errors(schema, current)].map((error) => ({
    path: pointerToPath(error.path),
    message: error.message,
  }));
  if (issues.length > 0) return issues;
  const old = previous === undefined ? undefined : Value.Default(schema, structuredClone(previous));
  checkNode(schema, current, old, '', issues);
  return issues;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function checkNode(schema: TSchema, value: unknown, old: unknown, path: string, issues: ValidationIssue[]): void {
  if (value === undefined) return;
  for (const rule of mirroredRules(schema)) {
    if (rule.check === undefined || (rule.transition && old === undefined)) continue;
    // Like the API server, report on fieldPath (`.replicas`) when the rule names one.
    if (!rule.check(value, old)) issues.push({ path: `${path}${rule.fieldPath ?? ''}`, message: rule.message });
  }
  const node = schema as Json;
  if (Array.isArray(value)) {
    checkListType(node, value, path, issues);
    const items = node.items as TSchema | undefined;
    if (items !== undefined) value.forEach((item, i) => checkNode(items, item, undefined, `${path}[${i}]`, issues));
    return;
  }
  if (!isObject(value)) return;
  const oldObject = isObject(old) ? old : undefined;
  if (isObject(node.properties)) {
    for (const [key, child] of Object.entries(node.properties)) {
      checkNode(child as TSchema, value[key], oldObject?.[key], join(path, key), issues);
    }
  }
  const mapValues = isObject(node.patternProperties) ? Object.values(node.patternProperties)[0] : undefined;
  if (mapValues !== undefined) {
    for (const [key, child] of Object.entries(value)) {
      checkNode(mapValues as TSchema, child, oldObject?.[key], join(path, key), issues);
    }
  }
}

// The API server's `x-kubernetes-list-type` checks: sets and map keys must be unique.
function checkListType(node: Json, list: unknown[], path: string, issues: ValidationIssue[]): void {
  const listType = node['x-kubernetes-list-type'];
  const mapKeys = node['x-kubernetes-list-map-keys'];
  const keyOf = (item: unknown): unknown =>
    listType === 'map' && Array.isArray(mapKeys) && isObject(item) ? mapKeys.map((k) => item[String(k)]) : item;
  if (listType !== 'set' && listType !== 'map') return;
  list.forEach((item, i) => {
    const key = keyOf(item);
    if (list.slice(0, i).some((earlier) => deepEqual(keyOf(earlier), key))) {
      issues.push({ path: `${path}[${i}]`, message: `Duplicate value: ${JSON.stringify(key)}` });
    }
  });
}
