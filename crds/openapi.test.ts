import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { customResourceDefinitions } from './crd.js';
import { structuralProblems, toStructuralSchema, UnsupportedSchemaError } from './openapi.js';
import { freeObject, intOrString, jsonObject, obj, stringEnum, withRules } from './schema/common.js';

describe('toStructuralSchema', () => {
  it('drops $id, additionalProperties: false and TypeBox symbols', () => {
    const schema = Type.Object({ name: Type.String({ description: 'n' }) }, { $id: 'Thing', additionalProperties: false });
    const out = toStructuralSchema(schema);
    expect(out).toEqual({ type: 'object', required: ['name'], properties: { name: { type: 'string', description: 'n' } } });
    expect(Object.getOwnPropertySymbols(out)).toEqual([]);
    expect(Object.getOwnPropertySymbols(out.properties?.name ?? {})).toEqual([]);
  });

  it('keeps validation keywords and x-kubernetes extensions', () => {
    const schema = Type.Array(Type.String({ minLength: 1, maxLength: 5, pattern: '^[a-z]+$', format: 'hostname' }), {
      description: 'list',
      minItems: 1,
      maxItems: 3,
      'x-kubernetes-list-type': 'set',
    });
    expect(toStructuralSchema(schema)).toEqual({
      type: 'array',
      description: 'list',
      minItems: 1,
      maxItems: 3,
      'x-kubernetes-list-type': 'set',
      items: { type: 'string', format: 'hostname', minLength: 1, maxLength: 5, pattern: '^[a-z]+$' },
    });
  });

  it('turns numeric exclusive bounds into OpenAPI v3 booleans', () => {
    expect(toStructuralSchema(Type.Number({ exclusiveMinimum: 50, maximum: 100 }))).toEqual({
      type: 'number',
      minimum: 50,
      exclusiveMinimum: true,
      maximum: 100,
    });
    expect(toStructuralSchema(Type.Integer({ exclusiveMaximum: 10 }))).toEqual({
      type: 'integer',
      maximum: 10,
      exclusiveMaximum: true,
    });
  });

  it('keeps the tighter bound when minimum and exclusiveMinimum are both given', () => {
    expect(toStructuralSchema(Type.Number({ minimum: 60, exclusiveMinimum: 50 }))).toEqual({ type: 'number', minimum: 60 });
    expect(toStructuralSchema(Type.Number({ minimum: 0, exclusiveMinimum: 50 }))).toEqual({
      type: 'number',
      minimum: 50,
      exclusiveMinimum: true,
    });
  });

  it('renders string enums as {type: string, enum}', () => {
    expect(toStructuralSchema(stringEnum('mode', ['A', 'B']))).toEqual({ type: 'string', description: 'mode', enum: ['A', 'B'] });
  });

  it('renders unions of literals and single literals as enums', () => {
    expect(toStructuralSchema(Type.Union([Type.Literal('x'), Type.Literal('y')]))).toEqual({ type: 'string', enum: ['x', 'y'] });
    expect(toStructuralSchema(Type.Literal(true))).toEqual({ type: 'boolean', enum: [true] });
  });

  it('turns a Type.Record into additionalProperties', () => {
    expect(toStructuralSchema(Type.Record(Type.String(), Type.Number({ minimum: 0 }), { description: 'm' }))).toEqual({
      type: 'object',
      description: 'm',
      additionalProperties: { type: 'number', minimum: 0 },
    });
  });

  it('renders int-or-string in the canonical form with the pattern at the top', () => {
    expect(toStructuralSchema(intOrString('q', { pattern: '^[0-9]+m?$' }))).toEqual({
      description: 'q',
      pattern: '^[0-9]+m?$',
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-int-or-string': true,
    });
  });

  it('keeps preserve-unknown-fields objects, including typeless additionalProperties', () => {
    expect(toStructuralSchema(freeObject('free'))).toEqual({
      type: 'object',
      description: 'free',
      'x-kubernetes-preserve-unknown-fields': true,
    });
    expect(toStructuralSchema(jsonObject('patch', 'value', { maxProperties: 4 }))).toEqual({
      type: 'object',
      description: 'patch',
      maxProperties: 4,
      additionalProperties: { description: 'value', 'x-kubernetes-preserve-unknown-fields': true },
      'x-kubernetes-preserve-unknown-fields': true,
    });
  });

  it('emits CEL rules without their TypeScript mirrors', () => {
    const schema = withRules(obj('o', { a: Type.Optional(Type.Integer({ description: 'a' })) }), [
      { rule: 'self.a > 0', message: 'a must be positive', fieldPath: '.a', check: (self) => (self.a ?? 1) > 0 },
    ]);
    const out = toStructuralSchema(schema);
    expect(out['x-kubernetes-validations']).toEqual([{ rule: 'self.a > 0', message: 'a must be positive', fieldPath: '.a' }]);
    expect(Object.getOwnPropertySymbols(out)).toEqual([]);
  });

  it('keeps defaults, deep-copied', () => {
    const defaults = { a: 1 };
    const out = toStructuralSchema(Type.Object({}, { default: defaults }));
    expect(out.default).toEqual({ a: 1 });
    expect(out.default).not.toBe(defaults);
  });

  it('maps uniqueItems to a set list type', () => {
    expect(toStructuralSchema(Type.Array(Type.String(), { uniqueItems: true }))).toEqual({
      type: 'array',
      'x-kubernetes-list-type': 'set',
      items: { type: 'string' },
    });
  });

  it('rejects what a structural schema cannot express, naming the path', () => {
    const union = Type.Object({ value: Type.Union([Type.String(), Type.Number()]) });
    expect(() => toStructuralSchema(union)).toThrow(UnsupportedSchemaError);
    expect(() => toStructuralSchema(union)).toThrow(/^value: anyOf/);
    expect(() => toStructuralSchema(Type.Object({ n: Type.Null() }))).toThrow(/n: type "null"/);
    expect(() => toStructuralSchema(Type.Object({ t: Type.Tuple([Type.String()]) }))).toThrow(/t: /);
    expect(() => toStructuralSchema(Type.Intersect([Type.Object({}), Type.Object({})]))).toThrow(/allOf/);
  });
});

describe('structuralProblems', () => {
  it('finds typeless nodes and fields without descriptions', () => {
    expect(
      structuralProblems({ type: 'object', properties: { a: { type: 'string' }, b: { description: 'b' } } }),
    ).toEqual(['a: no description', 'b: no type']);
  });

  it.each(customResourceDefinitions().map((crd) => [crd.metadata.name, crd] as const))(
    '%s is structural and every field is described',
    (_name, crd) => {
      const version = crd.spec.versions[0];
      expect(version).toBeDefined();
      const root = version?.schema.openAPIV3Schema ?? {};
      // metadata is the one field the API server describes itself.
      const problems = structuralProblems(root).filter((p) => p !== 'metadata: no description');
      expect(problems).toEqual([]);
    },
  );
});
