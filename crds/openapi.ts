// Converts TypeBox schemas (JSON Schema) into Kubernetes structural OpenAPI v3 schemas,
// the dialect CustomResourceDefinitions accept. Pure; unit-tested in openapi.test.ts.
import type { TSchema } from '@sinclair/typebox';

/** A CEL validation rule (`x-kubernetes-validations` entry). */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

/** apiextensions.k8s.io/v1 JSONSchemaProps, the subset Mesh OS emits. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  additionalProperties?: JSONSchemaProps;
  items?: JSONSchemaProps;
  anyOf?: JSONSchemaProps[];
  enum?: unknown[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  multipleOf?: number;
  nullable?: boolean;
  example?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

export class UnsupportedSchemaError extends Error {
  constructor(path: string, detail: string) {
    super(`${path || '<root>'}: ${detail}`);
    this.name = 'UnsupportedSchemaError';
  }
}

// Copied through unchanged (deep-cloned where they are objects).
const PASS_THROUGH = [
  'description',
  'required',
  'enum',
  'default',
  'format',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'multipleOf',
  'nullable',
  'example',
] as const;

// Dropped: identity and JSON Schema keywords with no OpenAPI v3 / structural meaning.
const DROPPED = new Set([
  '$id',
  '$schema',
  'title',
  'examples',
  // Handled after the other keywords:
  'const',
  'anyOf',
  'uniqueItems',
  'additionalProperties',
  'exclusiveMinimum',
  'exclusiveMaximum',
]);

const JSON_TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/**
 * Converts a TypeBox schema into a structural schema: drops `$id`, `additionalProperties:
 * false` and TypeBox's symbol keys; turns numeric `exclusiveMinimum`/`exclusiveMaximum`
 * (JSON Schema 2019) into OpenAPI v3's `minimum` + boolean; turns single-key
 * `patternProperties` (Type.Record) into `additionalProperties`; turns `const` and unions
 * of literals into `enum`; renders `x-kubernetes-int-or-string` as the canonical
 * `anyOf: [integer, string]`. Anything else it cannot express throws
 * UnsupportedSchemaError naming the path, rather than emitting a schema the API server
 * would reject or silently ignore.
 */
export function toStructuralSchema(schema: TSchema | JsonObject, path = ''): JSONSchemaProps {
  const source = schema as JsonObject;
  const out: JsonObject = {};

  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith('x-kubernetes-')) {
      out[key] = clone(value);
    } else if ((PASS_THROUGH as readonly string[]).includes(key)) {
      out[key] = clone(value);
    } else if (key === 'type') {
      if (typeof value !== 'string' || !JSON_TYPES.has(value)) {
        throw new UnsupportedSchemaError(path, `type ${JSON.stringify(value)} is not a structural type`);
      }
      out.type = value;
    } else if (key === 'properties') {
      if (!isObject(value)) throw new UnsupportedSchemaError(path, 'properties must be an object');
      const properties: Record<string, JSONSchemaProps> = {};
      for (const [name, child] of Object.entries(value)) {
        properties[name] = toStructuralSchema(child as JsonObject, joinPath(path, name));
      }
      if (Object.keys(properties).length > 0) out.properties = properties;
    } else if (key === 'items') {
      if (!isObject(value)) throw new UnsupportedSchemaError(path, 'items must be a single schema (no tuples)');
      out.items = toStructuralSchema(value, `${path}[*]`);
    } else if (key === 'patternProperties') {
      const entries = isObject(value) ? Object.entries(value) : [];
      const [only] = entries;
      if (entries.length !== 1 || only === undefined) {
        throw new UnsupportedSchemaError(path, 'patternProperties must have exactly one pattern (a Type.Record)');
      }
      out.additionalProperties = toStructuralSchema(only[1] as JsonObject, `${path}[*]`);
    } else if (!DROPPED.has(key)) {
      throw new UnsupportedSchemaError(path, `keyword ${key} is not supported in a structural schema`);
    }
  }

  for (const key of ['exclusiveMinimum', 'exclusiveMaximum'] as const) {
    if (key in source) convertExclusiveBound(out, key, source[key], path);
  }
  if (isObject(source.additionalProperties)) {
    if ('properties' in out) {
      throw new UnsupportedSchemaError(path, 'properties and additionalProperties cannot both be set');
    }
    out.additionalProperties = toStructuralSchema(source.additionalProperties, `${path}[*]`);
  }
  if ('const' in source) {
    out.enum = [clone(source.const)];
    out.type ??= typeOfLiteral(source.const, path);
  }
  if (Array.isArray(source.anyOf)) convertAnyOf(out, source.anyOf as unknown[], path);
  if (source.uniqueItems === true) {
    // The API server forbids uniqueItems (quadratic); a set list type says the same thing.
    out['x-kubernetes-list-type'] ??= 'set';
  }
  return canonicalOrder(out);
}

// Generated YAML reads best type-first; keys not listed keep their order at the end.
const KEY_ORDER = [
  'type',
  'description',
  'format',
  'enum',
  'default',
  'nullable',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'example',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'anyOf',
];

function canonicalOrder(schema: JsonObject): JsonObject {
  const rank = (key: string) => {
    const index = KEY_ORDER.indexOf(key);
    return index === -1 ? KEY_ORDER.length : index;
  };
  const keys = Object.keys(schema).sort((a, b) => rank(a) - rank(b));
  return Object.fromEntries(keys.map((key) => [key, schema[key]]));
}

function joinPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function typeOfLiteral(value: unknown, path: string): JSONSchemaProps['type'] {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    default:
      throw new UnsupportedSchemaError(path, `literal ${JSON.stringify(value)} has no structural type`);
  }
}

function convertExclusiveBound(out: JsonObject, key: 'exclusiveMinimum' | 'exclusiveMaximum', value: unknown, path: string): void {
  const bound = key === 'exclusiveMinimum' ? 'minimum' : 'maximum';
  if (typeof value === 'boolean') {
    out[key] = value;
    return;
  }
  if (typeof value !== 'number') throw new UnsupportedSchemaError(path, `${key} must be a number or boolean`);
  const existing = out[bound];
  // `minimum: 0, exclusiveMinimum: 50` means > 50: the tighter bound wins.
  const tighter =
    typeof existing !== 'number' || (bound === 'minimum' ? value >= existing : value <= existing);
  if (tighter) {
    out[bound] = value;
    out[key] = true;
  }
}

function convertAnyOf(out: JsonObject, members: unknown[], path: string): void {
  if (out['x-kubernetes-int-or-string'] === true) {
    // The canonical int-or-string shape; a pattern on the string member moves up, where
    // the API server applies it to string values only.
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    for (const member of members) {
      if (!isObject(member) || member.type !== 'string') continue;
      for (const key of ['pattern', 'maxLength', 'minLength'] as const) {
        if (member[key] !== undefined) out[key] ??= member[key];
      }
    }
    return;
  }
  if (members.every((m) => isObject(m) && 'const' in m)) {
    const values = members.map((m) => (m as JsonObject).const);
    const types = new Set(values.map((v) => typeOfLiteral(v, path)));
    if (types.size !== 1) throw new UnsupportedSchemaError(path, 'a union of literals must share one type');
    out.type ??= [...types][0];
    out.enum = values.map((v) => clone(v));
    return;
  }
  throw new UnsupportedSchemaError(
    path,
    'anyOf is only supported for x-kubernetes-int-or-string and unions of literals; use stringEnum() or a single type',
  );
}

/**
 * Lists nodes that break the structural-schema rules the API server enforces: every node
 * needs a type unless it is int-or-string or preserves unknown fields, and every property
 * needs a description (so `kubectl explain` is useful). Returns paths with the problem.
 */
export function structuralProblems(schema: JSONSchemaProps, path = ''): string[] {
  const problems: string[] = [];
  const typeless =
    schema.type === undefined &&
    schema['x-kubernetes-int-or-string'] !== true &&
    schema['x-kubernetes-preserve-unknown-fields'] !== true;
  if (typeless) problems.push(`${path || '<root>'}: no type`);
  if (schema.type === 'array' && schema.items === undefined) problems.push(`${path}: array without items`);
  if (schema.properties !== undefined && schema.additionalProperties !== undefined) {
    problems.push(`${path}: both properties and additionalProperties`);
  }
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const childPath = joinPath(path, name);
    if (!child.description?.trim()) problems.push(`${childPath}: no description`);
    problems.push(...structuralProblems(child, childPath));
  }
  if (schema.items) problems.push(...structuralProblems(schema.items, `${path}[*]`));
  if (schema.additionalProperties) problems.push(...structuralProblems(schema.additionalProperties, `${path}[*]`));
  return problems;
}
