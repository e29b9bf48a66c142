import { describe, expect, it } from 'vitest';
import { crdReference, protoReference, staleDocs } from './generate.js';

describe('docs/generate.ts', () => {
  it('keeps the generated reference pages and the chart CRDs current (npm run gen:docs)', () => {
    expect(staleDocs()).toEqual([]);
  });

  it('documents every CRD field with its validation', () => {
    const text = crdReference();
    for (const kind of ['## Mesh', '## Agent', '## Proposal']) expect(text).toContain(kind);
    expect(text).toMatch(/\| `spec\.meshRef` \| string \| yes \|/);
    expect(text).toContain('`status.conditions[].lastTransitionTime`');
  });

  it('reads services, streaming methods, messages and enums from a .proto file', () => {
    const text = protoReference(
      'syntax = "proto3";\npackage a.v1;\n// Finds agents.\nservice Finder {\n  // Streams matches.\n  rpc Watch(Query) returns (stream Match);\n}\nmessage Query {\n  // Words to look for.\n  string text = 1;\n  repeated string tags = 2;\n}\nenum Kind {\n  KIND_UNSPECIFIED = 0;\n}\n',
      'x.proto',
    );
    expect(text).toContain('### service `a.v1.Finder`');
    expect(text).toContain('| `Watch` | `Query` | stream `Match` | Streams matches. |');
    expect(text).toContain('| `text` | `string` | 1 | Words to look for. |');
    expect(text).toContain('| `tags` | `repeated string` | 2 |  |');
    expect(text).toContain('| `KIND_UNSPECIFIED` | enum value | 0 |  |');
  });
});
