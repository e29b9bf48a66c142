// Building blocks shared by the three Mesh OS schemas. Every helper takes a description
// first, so a field without one does not compile and `kubectl explain` always has text.
import {
  FormatRegistry,
  Kind,
  Type,
  TypeRegistry,
  type ArrayOptions,
  type IntegerOptions,
  type NumberOptions,
  type ObjectOptions,
  type SchemaOptions,
  type Static,
  type StringOptions,
  type TArray,
  type TBoolean,
  type TInteger,
  type TNumber,
  type TObject,
  type TOptionalWithFlag,
  type TProperties,
  type TRecord,
  type TSchema,
  type TString,
  type TUnion,
  type TUnsafe,
} from '@sinclair/typebox';

export const GROUP = 'meshos.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

// ---------------------------------------------------------------------------------------
// Patterns (RE2-compatible so the API server and JavaScript agree)
// ---------------------------------------------------------------------------------------

/** A DNS-1123 subdomain, the rule for object names such as a Mesh's. */
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** A DNS-1123 label, the rule for single-segment names (regions, ports). */
export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** A Go `time.ParseDuration` string without sign: `72h`, `90m`, `1h30m`, `1.5h`. */
export const GO_DURATION = '^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$';
/** A mesh DID: `did:mesh:<segment>(:<segment>)+`, segments lower-case alphanumerics and `-`. */
export const MESH_DID = '^did:mesh:[a-z0-9-]+(:[a-z0-9-]+)+$';
/** Any W3C DID: `did:<method>:<method-specific-id>`. */
export const DID = '^did:[a-z0-9]+:([A-Za-z0-9._%-]*:)*[A-Za-z0-9._%-]+$';
/** An EVM account address. */
export const EVM_ADDRESS = '^0x[0-9a-fA-F]{40}$';
/** A voter identity: an EVM address or a DID. */
export const VOTER_ID = '^(0x[0-9a-fA-F]{40}|did:[a-z0-9]+:([A-Za-z0-9._%-]*:)*[A-Za-z0-9._%-]+)$';
/** A wall-clock time of day, 24-hour `HH:MM`. */
export const TIME_OF_DAY = '^([01][0-9]|2[0-3]):[0-5][0-9]$';
/** An IANA time zone name such as `Europe/Paris` or `UTC`. */
export const IANA_TIME_ZONE = '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$';
/** An ISO 4217 currency code. */
export const CURRENCY_CODE = '^[A-Z]{3}$';
/** An http(s) URL. */
export const HTTP_URL = '^https?://[^\\s]+$';
/** A resource quantity as in core/v1 (`100m`, `128Mi`, `1.5`). */
export const QUANTITY =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
/** An environment variable name as core/v1 accepts it. */
export const ENV_VAR_NAME = '^[-._a-zA-Z][-._a-zA-Z0-9]*$';
/** A condition type as in metav1.Condition (`Ready`, `example.com/Synced`). */
export const CONDITION_TYPE =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$';
/** A CamelCase condition reason; empty is allowed so a fresh condition can omit it. */
export const CONDITION_REASON = '^([A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?)?$';

// ---------------------------------------------------------------------------------------
// Custom kinds, so enums and free-form objects are plain OpenAPI yet Value.Check-able
// ---------------------------------------------------------------------------------------

const STRING_ENUM_KIND = 'MeshOS/StringEnum';
const FREE_OBJECT_KIND = 'MeshOS/FreeObject';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

if (!TypeRegistry.Has(STRING_ENUM_KIND)) {
  TypeRegistry.Set<{ enum: readonly string[] }>(
    STRING_ENUM_KIND,
    (schema, value) => typeof value === 'string' && schema.enum.includes(value),
  );
}
if (!TypeRegistry.Has(FREE_OBJECT_KIND)) {
  TypeRegistry.Set<{ maxProperties?: number }>(
    FREE_OBJECT_KIND,
    (schema, value) =>
      isPlainObject(value) && (schema.maxProperties === undefined || Object.keys(value).length <= schema.maxProperties),
  );
}

// RFC 3339 as the API server's `date-time` format accepts it.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (value) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)));
}

// ---------------------------------------------------------------------------------------
// CEL rules, each with an optional TypeScript mirror used by validateResource()
// ---------------------------------------------------------------------------------------

/** Where the TypeScript mirrors of a node's CEL rules hang; a symbol, so openapi.ts drops it. */
export const CelMirror: unique symbol = Symbol.for('meshos.dev/cel-mirror');

/** One `x-kubernetes-validations` entry plus, where cheap, the same rule in TypeScript. */
export interface CelRule<T> {
  /** The CEL expression; `self` is the node the rule is attached to. */
  rule: string;
  /** Shown to the user on failure; names the field and the rule. */
  message: string;
  /** Relative path (`.replicas`) the API server reports the error on, when not the node. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  /**
   * The rule in TypeScript: returns true when `self` passes. Transition rules (those that
   * read `oldSelf`) are only evaluated on updates where the old value exists.
   */
  check?: (self: T, oldSelf: T | undefined) => boolean;
}

export interface MirroredRule {
  rule: string;
  message: string;
  fieldPath: string | undefined;
  transition: boolean;
  check: ((self: unknown, oldSelf: unknown) => boolean) | undefined;
}

/** Attaches CEL rules to a schema node, keeping the TypeScript mirrors out of the OpenAPI. */
export function withRules<S extends TSchema>(schema: S, rules: readonly CelRule<Static<S>>[]): S {
  const validations = rules.map((r) => ({
    rule: r.rule,
    message: r.message,
    ...(r.fieldPath === undefined ? {} : { fieldPath: r.fieldPath }),
    ...(r.reason === undefined ? {} : { reason: r.reason }),
  }));
  const mirrors: MirroredRule[] = rules.map((r) => ({
    rule: r.rule,
    message: r.message,
    fieldPath: r.fieldPath,
    transition: /\boldSelf\b/.test(r.rule),
    check: r.check,
  }));
  const existing = (schema as { 'x-kubernetes-validations'?: unknown[] })['x-kubernetes-validations'] ?? [];
  const previousMirrors = (schema as unknown as { [CelMirror]?: MirroredRule[] })[CelMirror] ?? [];
  return {
    ...schema,
    'x-kubernetes-validations': [...existing, ...validations],
    [CelMirror]: [...previousMirrors, ...mirrors],
  };
}

/** Reads the TypeScript mirrors attached by withRules(). */
export function mirroredRules(schema: unknown): readonly MirroredRule[] {
  if (!isPlainObject(schema)) return [];
  return (schema as { [CelMirror]?: MirroredRule[] })[CelMirror] ?? [];
}

/** The transition rule that makes a field immutable once created. */
export function immutable<T>(field: string, why: string): CelRule<T> {
  return {
    rule: 'self == oldSelf',
    message: `${field} is immutable: ${why}`,
    check: (self, oldSelf) => oldSelf === undefined || deepEqual(self, oldSelf),
  };
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

const DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** Parses a Go duration (`1h30m`) into milliseconds; undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (!new RegExp(GO_DURATION).test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)/g)) {
    const [, amount, unit] = match;
    total += Number(amount) * (DURATION_UNITS_MS[unit ?? ''] ?? Number.NaN);
  }
  return total;
}

// ---------------------------------------------------------------------------------------
// Field constructors: description first, always
// ---------------------------------------------------------------------------------------

export function str(description: string, options: StringOptions = {}): TString {
  return Type.String({ ...options, description });
}

export function int(description: string, options: IntegerOptions = {}): TInteger {
  return Type.Integer({ ...options, description });
}

export function num(description: string, options: NumberOptions = {}): TNumber {
  return Type.Number({ ...options, description });
}

export function bool(description: string, options: SchemaOptions = {}): TBoolean {
  return Type.Boolean({ ...options, description });
}

/** A closed object: unknown fields fail Value.Check, as `kubectl apply --validate=strict` does. */
export function obj<T extends TProperties>(description: string, properties: T, options: ObjectOptions = {}): TObject<T> {
  return Type.Object(properties, { additionalProperties: false, ...options, description });
}

export function list<T extends TSchema>(description: string, items: T, options: ArrayOptions = {}): TArray<T> {
  return Type.Array(items, { ...options, description });
}

/** A list of unique strings (`x-kubernetes-list-type: set`). */
export function stringSet(
  description: string,
  item: { maxLength: number; pattern?: string; minLength?: number },
  options: ArrayOptions = {},
): TArray<TString> {
  return Type.Array(Type.String(item), { ...options, description, 'x-kubernetes-list-type': 'set' });
}

/** A list of objects keyed by `key`, unique on it (`x-kubernetes-list-type: map`). */
export function keyedList<T extends TSchema>(
  description: string,
  key: string,
  items: T,
  options: ArrayOptions = {},
): TArray<T> {
  return Type.Array(items, {
    ...options,
    description,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': [key],
  });
}

/** A string-keyed map (`additionalProperties` in OpenAPI). */
export function stringMap<T extends TSchema>(
  description: string,
  values: T,
  options: ObjectOptions = {},
): TRecord<TString, T> {
  return Type.Record(Type.String(), values, { ...options, description });
}

/** A string enum rendered as `{type: string, enum: [...]}`, which structural schemas require. */
export function stringEnum<const V extends readonly [string, ...string[]]>(
  description: string,
  values: V,
  options: SchemaOptions = {},
): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ ...options, [Kind]: STRING_ENUM_KIND, type: 'string', enum: [...values], description });
}

/** An object whose content the API server keeps as is (`x-kubernetes-preserve-unknown-fields`). */
export function freeObject(description: string, options: SchemaOptions = {}): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({
    ...options,
    [Kind]: FREE_OBJECT_KIND,
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    description,
  });
}

/**
 * An object of arbitrary JSON values under any keys. Unlike freeObject(), its keys are
 * declared (`additionalProperties`), so CEL equality (`self == oldSelf`) compares all of them.
 */
export function jsonObject(
  description: string,
  valueDescription: string,
  options: { maxProperties?: number } = {},
): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({
    ...options,
    [Kind]: FREE_OBJECT_KIND,
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    additionalProperties: { 'x-kubernetes-preserve-unknown-fields': true, description: valueDescription },
    description,
  });
}

/** An integer or a string (core/v1 quantities): `x-kubernetes-int-or-string`. */
export function intOrString(
  description: string,
  options: { pattern?: string; maxLength?: number } = {},
): TUnion<[TInteger, TString]> {
  return Type.Union([Type.Integer(), Type.String(options)], {
    description,
    'x-kubernetes-int-or-string': true,
  });
}

export function duration(description: string, options: SchemaOptions = {}): TString {
  return Type.String({ ...options, pattern: GO_DURATION, maxLength: 32, description });
}

export function dateTime(description: string): TString {
  return Type.String({ format: 'date-time', description });
}

/** Marks an object property optional. */
export function optional<T extends TSchema>(schema: T): TOptionalWithFlag<T, true> {
  return Type.Optional(schema);
}
