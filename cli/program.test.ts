import { describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import type { Command } from 'commander';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, createProgram, invokedName, isKubectlCompleter, runCli } from './program.js';

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

describe('every mesh command', () => {
  const paths: string[][] = [];
  const visit = (command: Command, path: string[]): void => {
    for (const child of command.commands) {
      if ((child as unknown as { _hidden?: boolean })._hidden) continue;
      paths.push([...path, child.name()]);
      visit(child, [...path, child.name()]);
    }
  };
  visit(createProgram(captureIo()), []);

  it('has --help with a description and an example', async () => {
    expect(paths.length).toBeGreaterThan(12);
    const missing: string[] = [];
    for (const path of paths) {
      const io = captureIo();
      expect(await runCli([...path, '--help'], io)).toBe(EXIT_OK);
      if (!/Examples?:\n {2}\S/.test(io.out())) missing.push(path.join(' '));
    }
    expect(missing, 'add .addHelpText(\'after\', \'\\nExample:\\n  mesh ...\') to these').toEqual([]);
  });

  it('names itself kubectl mesh when run as the kubectl plugin', () => {
    expect(invokedName('/usr/local/bin/kubectl-mesh')).toBe('kubectl mesh');
    expect(invokedName('/usr/local/lib/node_modules/meshos/dist/cli/main.js')).toBe('mesh');
  });
});

describe('kubectl plugin completion', () => {
  it('answers kubectl_complete-mesh in the Cobra protocol', async () => {
    const io = captureIo();
    expect(await runCli(['__complete', 'dev', 's'], io)).toBe(EXIT_OK);
    expect(io.out()).toBe('status\nstart\n:4\n');
    const files = captureIo();
    await runCli(['__complete', 'deploy', '-f', ''], files);
    expect(files.out()).toBe(':0\n'); // the shell completes file names
    expect(isKubectlCompleter('/usr/bin/kubectl_complete-mesh')).toBe(true);
    expect(isKubectlCompleter('/usr/bin/kubectl-mesh')).toBe(false);
  });
});
