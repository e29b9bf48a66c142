// Starting component processes with their output in log files, and stopping them by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';

export interface SpawnedProcess {
  pid: number;
  child: ChildProcess;
}

export interface SpawnOptions {
  binary: string;
  args: readonly string[];
  logPath: string;
  /**
   * Own process group, no tie to this process: the component outlives it (`mesh dev up`).
   * Otherwise it shares our process group, so Ctrl-C in a terminal reaches it too.
   */
  detached: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts a binary with stdout and stderr appended to logPath. */
export function spawnLogged(options: SpawnOptions): SpawnedProcess {
  const fd = openSync(options.logPath, 'a');
  try {
    writeSync(fd, `\n=== ${new Date().toISOString()} ${options.binary} ${options.args.join(' ')}\n`);
    const child = spawn(options.binary, options.args, {
      stdio: ['ignore', fd, fd],
      detached: options.detached,
      env: options.env ?? process.env,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    });
    if (child.pid === undefined) throw new Error(`Could not start ${options.binary}`);
    // Neither the handle nor the pipe keeps the event loop alive; the pid is what we track.
    child.unref();
    child.on('error', () => undefined);
    return { pid: child.pid, child };
  } finally {
    closeSync(fd);
  }
}

/** Alive and not a zombie (a zombie has exited but not been reaped yet). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name (which may itself contain spaces).
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/**
 * True when pid runs `binary`, so a recycled pid is never signalled. Where /proc is missing
 * the check is skipped.
 */
export function processRuns(pid: number, binary: string): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return argv0 === binary;
  } catch {
    return true;
  }
}

export type StopResult = 'stopped' | 'killed' | 'not-running';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await sleep(50);
  }
  return !isProcessAlive(pid);
}

/** SIGTERM, wait up to graceMs, then SIGKILL. Only signals pid if it still runs `binary`. */
export async function stopProcess(pid: number, binary: string, graceMs = 15_000): Promise<StopResult> {
  if (!processRuns(pid, binary)) return 'not-running';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'not-running';
  }
  if (await waitForExit(pid, graceMs)) return 'stopped';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Exited between the check and the kill.
  }
  if (!(await waitForExit(pid, 10_000))) throw new Error(`Process ${pid} (${binary}) survived SIGKILL`);
  return 'killed';
}

/** The last `lines` lines of a log file, for error messages. */
export async function tailFile(path: string, lines = 30): Promise<string> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8').split('\n').slice(-lines - 1).join('\n').trimEnd();
    } finally {
      await handle.close();
    }
  } catch {
    return '(no log)';
  }
}
