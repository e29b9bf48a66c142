import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../program.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } }, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'mesh-forecast-'));
function csv(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('mesh forecast', () => {
  // Hourly, daily cycle, no header, one row missing, rows out of order.
  const rows = Array.from({ length: 24 * 14 }, (_, h) => `${new Date(Date.UTC(2026, 0, 1) + h * 3_600_000).toISOString()},${(h % 24) * 2 + 5}`);
  rows.splice(100, 1);
  [rows[5], rows[6]] = [rows[6] ?? '', rows[5] ?? ''];
  const file = csv('daily.csv', rows.join('\n'));

  it('prints exactly model, forecast and upper for the H points after the last row', async () => {
    const { io, out } = capture();
    expect(await runCli(['forecast', '--input', file, '--horizon', '6', '--season', '24h', '--no-lstm', '--json'], io as never)).toBe(0);
    const result = JSON.parse(out.join('')) as { model: string; forecast: number[]; upper: number[] };
    expect(Object.keys(result)).toEqual(['model', 'forecast', 'upper']);
    expect(result.forecast).toHaveLength(6);
    expect(result.upper).toHaveLength(6);
    // The last row is hour 23 of a day; the next six are hours 0..5.
    result.forecast.forEach((f, i) => expect(f).toBeCloseTo(i * 2 + 5, 3));
  });

  it('also prints the same forecast with the shared -o json|yaml|table', async () => {
    const args = ['forecast', '--input', file, '--horizon', '3', '--season', '24h', '--no-lstm'];
    const exact = capture();
    expect(await runCli([...args, '--json'], exact.io as never)).toBe(0);
    const json = capture();
    expect(await runCli([...args, '-o', 'json'], json.io as never)).toBe(0);
    expect(JSON.parse(json.out.join(''))).toEqual(JSON.parse(exact.out.join('')));
    const table = capture();
    expect(await runCli([...args, '-o', 'table'], table.io as never)).toBe(0);
    expect(table.out.join('')).toMatch(/^model: .*\nstep: 3600 s, .*\nTIME\s+FORECAST\s+UPPER\(Q0\.9\)\n2026-01-15T00:00:00\.000Z\s+/);
    expect(await runCli([...args, '-o', 'xml'], capture().io as never)).toBe(2);
  });

  it('answers usage errors with exit code 2 and names the line of bad input', async () => {
    const bad = csv('bad.csv', 'timestamp,value\n2026-01-01T00:00:00Z,1\n2026-01-01T01:00:00Z,lots\n');
    const cases: [string[], RegExp][] = [
      [['forecast', '--horizon', '3'], /--input FILE.csv is required/],
      [['forecast', '--input', file], /--horizon H is required/],
      [['forecast', '--input', join(dir, 'missing.csv'), '--horizon', '3'], /cannot read --input .*ENOENT/],
      [['forecast', '--input', bad, '--horizon', '3'], /line 3: value "lots" is not a number/],
      [['forecast', '--input', file, '--horizon', 'soon'], /--horizon must be a number of steps/],
      [['forecast', '--input', file, '--horizon', '3', '--season', '9999'], /--season 9999 .* must be shorter than the series/],
      [['forecast', '--input', file, '--horizon', '3', '--quantile', '1.5'], /--quantile must be within/],
    ];
    for (const [args, message] of cases) {
      const { io, err } = capture();
      expect(await runCli(args, io as never)).toBe(2);
      expect(err.join('')).toMatch(message);
    }
  });
});
