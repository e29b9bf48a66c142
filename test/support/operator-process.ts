import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { eventually } from './wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface OperatorLogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/**
 * An operator run as its own OS process (as in production), so tests can SIGKILL it mid-work.
 * Its JSON log lines are parsed and kept for assertions.
 */
export class OperatorProcess {
  readonly logs: OperatorLogLine[] = [];
  readonly stderrText: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  port = 0;

  constructor(
    private readonly kubeconfigPath: string,
    readonly identity: string,
    private readonly extraArgs: readonly string[] = [],
  ) {}

  start(): void {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'operator/main.ts', '--kubeconfig', this.kubeconfigPath, '--identity', this.identity, '--health-bind-address', '127.0.0.1:0', ...this.extraArgs],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MESHOS_LOG_LEVEL: process.env['MESHOS_LOG_LEVEL'] ?? 'info' } },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    createInterface({ input: child.stderr }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as OperatorLogLine;
        this.logs.push(parsed);
        if (parsed.msg.startsWith('Serving health and metrics') && typeof parsed['port'] === 'number') this.port = parsed['port'];
      } catch {
        this.stderrText.push(line);
      }
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  hasLogged(message: string | RegExp): boolean {
    return this.logs.some((l) => (typeof message === 'string' ? l.msg.includes(message) : message.test(l.msg)));
  }

  async waitForLog(message: string | RegExp, timeoutMs = 60_000): Promise<void> {
    await eventually(`operator ${this.identity} to log ${String(message)}`, () => this.hasLogged(message) || this.failIfDead(), timeoutMs);
  }

  private failIfDead(): false {
    if (this.child && !this.running) throw new Error(`operator ${this.identity} exited: ${this.stderrText.slice(-5).join('\n')}`);
    return false;
  }

  async metrics(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return response.text();
  }

  /** The value of one sample, e.g. metricValue('meshos_leader_is_leader'). */
  async metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await this.metrics();
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const match = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const labelText = match[2] ?? '';
      if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) total += Number(match[3]);
    }
    return total;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    this.child?.kill(signal);
    return this.exited ?? Promise.resolve(null);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
