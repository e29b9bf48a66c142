import { describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCli } from './program.js';

function captureIo(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (chunk: string | Uint8Array) => ((out += String(chunk)), true) },
    stderr: { write: (chunk: string | Uint8Array) => ((err += String(chunk)), true) },
    out: () => out,
    err: () => err,
  };
}

describe('mesh CLI', () => {
  it('prints help with exit 0', async () => {
    const io = captureIo();
    expect(await runCli(['--help'], io)).toBe(EXIT_OK);
    expect(io.out()).toContain('Usage: mesh');
    expect(io.out()).toContain('dev');
  });

  it('answers unknown commands and bad options with exit 2', async () => {
    expect(await runCli(['no-such-command'], captureIo())).toBe(EXIT_USAGE);
    const io = captureIo();
    expect(await runCli(['dev', 'up', '--nodes', 'many'], io)).toBe(EXIT_USAGE);
    expect(io.err()).toContain("option '--nodes <n>' argument 'many' is invalid");
  });

  it('reports a missing control plane from dev status with exit 1', async () => {
    const io = captureIo();
    expect(await runCli(['dev', 'status', '--data-dir', '/nonexistent/meshos-dev'], io)).toBe(EXIT_FAILURE);
    expect(io.out()).toContain('No control plane in /nonexistent/meshos-dev');
  });

  it('says so when dev down finds nothing to stop', async () => {
    const io = captureIo();
    expect(await runCli(['dev', 'down', '--data-dir', '/nonexistent/meshos-dev'], io)).toBe(EXIT_OK);
    expect(io.out()).toContain('No control plane was running');
  });
});
