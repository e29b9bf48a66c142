import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive, processRuns, spawnLogged, stopProcess, tailFile } from './processes.js';

describe('component processes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshos-processes-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('logs output to a file and stops on SIGTERM', async () => {
    const logPath = join(dir, 'polite.log');
    const { pid } = spawnLogged({ binary: process.execPath, args: ['-e', 'console.log("hello from the component"); setInterval(() => {}, 1000)'], logPath, detached: false });
    await expect.poll(async () => readFile(logPath, 'utf8')).toContain('hello from the component');
    expect(processRuns(pid, process.execPath)).toBe(true);
    expect(processRuns(pid, '/usr/bin/something-else')).toBe(false);
    expect(await stopProcess(pid, process.execPath, 5000)).toBe('stopped');
    expect(isProcessAlive(pid)).toBe(false);
    expect(await tailFile(logPath, 5)).toContain('hello from the component');
  });

  it('kills a process that ignores SIGTERM after the grace period', async () => {
    const logPath = join(dir, 'stubborn.log');
    const script = join(dir, 'stubborn.cjs');
    await writeFile(script, 'process.on("SIGTERM", () => console.log("ignored"));\nconsole.log("ready");\nsetInterval(() => {}, 1000);\n');
    const { pid } = spawnLogged({ binary: process.execPath, args: [script], logPath, detached: true });
    await expect.poll(async () => readFile(logPath, 'utf8')).toContain('ready');
    expect(await stopProcess(pid, process.execPath, 300)).toBe('killed');
    expect(isProcessAlive(pid)).toBe(false);
  });

  it('does not signal a pid that runs something else', async () => {
    expect(await stopProcess(process.pid, '/not/this/binary')).toBe('not-running');
    expect(isProcessAlive(process.pid)).toBe(true);
  });
});
