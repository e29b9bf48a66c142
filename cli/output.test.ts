import { describe, expect, it } from 'vitest';
import { age, colorEnabled, paint, renderTable, serialize } from './output.js';

describe('output', () => {
  it('colours only a terminal, never with NO_COLOR or TERM=dumb', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({}, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(paint('Ready', 'good', false)).toBe('Ready');
    expect(paint('Ready', 'good', true)).toBe('\x1b[32mReady\x1b[0m');
  });

  it('renders kubectl-style tables; wide columns only with -o wide; colour does not break alignment', () => {
    const rows = [{ name: 'a', phase: 'Ready', node: 'n1' }, { name: 'longer-name', phase: 'Degraded', node: 'n2' }];
    const columns = [
      { header: 'NAME', value: (r: (typeof rows)[number]) => r.name },
      { header: 'PHASE', value: (r: (typeof rows)[number]) => r.phase, colored: true },
      { header: 'NODE', value: (r: (typeof rows)[number]) => r.node, wide: true },
    ];
    expect(renderTable(rows, columns)).toBe('NAME         PHASE\na            Ready\nlonger-name  Degraded\n');
    expect(renderTable(rows, columns, { wide: true })).toBe('NAME         PHASE     NODE\na            Ready     n1\nlonger-name  Degraded  n2\n');
    const colored = renderTable(rows, columns, { wide: true, color: true });
    expect(colored).toContain('\x1b[32mReady\x1b[0m     n1');
    expect(colored).toContain('\x1b[31mDegraded\x1b[0m  n2');
  });

  it('serialises JSON and YAML and prints ages like kubectl', () => {
    expect(serialize({ a: [1] }, 'json')).toBe('{\n  "a": [\n    1\n  ]\n}\n');
    expect(serialize({ a: [1] }, 'yaml')).toBe('a:\n  - 1\n');
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(age('2026-01-01T11:59:15Z', now)).toBe('45s');
    expect(age('2026-01-01T11:00:00Z', now)).toBe('60m');
    expect(age('2026-01-01T06:00:00Z', now)).toBe('6h');
    expect(age('2025-12-20T12:00:00Z', now)).toBe('12d');
    expect(age(undefined, now)).toBe('<unknown>');
  });
});
