// The `mesh` binary as users run it (a child process, stdout piped or a pseudo-terminal) against
// the local control plane: output formats, exit codes, errors naming object and cause, deploy
// with progress and a timeout reason, and `mesh top` rendered in a PTY for a few frames.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Agent } from '../crds/types.js';
import type { KubeClient } from '../operator/kube/client.js';
import { MeshOsResources } from '../operator/kube/resources.js';
import { projectRoot } from '../test/harness/paths.js';
import { testAgent, testMesh } from '../test/support/fixtures.js';
import { createTestNamespace, deleteNamespace, testClient } from '../test/support/kube.js';
import { startTestOperator, type RunningOperator } from '../test/support/operator.js';

const root = projectRoot();
const MAIN = join(root, 'cli', 'main.ts');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `mesh` entry point with stdout and stderr piped. */
function mesh(args: readonly string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: root,
      env: { ...process.env, KUBECONFIG: inject('kubeconfigPath'), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

// Python's pty module gives the child a real terminal; it types `keys` after `afterSeconds` and
// reports the exit code and everything the terminal received (base64, so bytes survive).
const PTY_DRIVER = `
import base64, fcntl, json, os, pty, select, struct, sys, termios, time
args, keys, after, env = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.environ.update(env)
    os.execvp(args[0], args)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 140, 0, 0))
out = b''
def pump(until):
    global out
    while time.time() < until:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return False
            if not data:
                return False
            out += data
    return True
start = time.time()
while b'mesh top' not in out and time.time() < start + 90:
    if not pump(time.time() + 0.2):
        break
pump(time.time() + after)
os.write(fd, keys.encode())
deadline = time.time() + 20
code = None
while time.time() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        code = os.waitstatus_to_exitcode(status)
        break
    pump(time.time() + 0.2)
pump(time.time() + 0.3)
if code is None:
    os.kill(pid, 9)
print(json.dumps({'code': code, 'out': base64.b64encode(out).decode()}))
`;

async function inPty(args: readonly string[], keys: string, afterSeconds: number, env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const { stdout, stderr } = await new Promise<Result>((resolve, reject) => {
    const child = spawn('python3', ['-c', PTY_DRIVER, JSON.stringify([[process.execPath, '--import', 'tsx', MAIN, ...args], keys, afterSeconds, { TERM: 'xterm-256color', KUBECONFIG: inject('kubeconfigPath'), ...env }])], { cwd: root, env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NO_COLOR')) });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
  });
  const parsed = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { code: number | null; out: string } | undefined;
  if (!parsed?.out) throw new Error(`pty driver failed: ${stderr}`);
  return { code: parsed.code, out: Buffer.from(parsed.out, 'base64').toString('utf8') };
}

// eslint-disable-next-line no-control-regex -- looking for escape sequences is the point
const ANSI = /\x1b\[[0-9;]*m/;

describe('mesh, the binary, against the local control plane', () => {
  let client: KubeClient;
  let namespace: string;
  let dir: string;
  let operator: RunningOperator;
  const meshName = `cli-${Date.now().toString(36)}`;

  beforeAll(async () => {
    client = await testClient();
    namespace = await createTestNamespace(client, 'cli');
    dir = await mkdtemp(join(tmpdir(), 'meshos-cli-'));
    await client.create(MeshOsResources.mesh, testMesh(meshName));
    // Default lease timings: status calls a leader current for two lease durations (30 s), ample on a busy machine.
    operator = await startTestOperator({ leaderElection: true, leaseNamespace: namespace });
  });

  afterAll(async () => {
    await operator.stop();
    await client.delete(MeshOsResources.mesh, undefined, meshName).catch(() => undefined);
    await deleteNamespace(client, namespace);
    await client.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('deploys an Agent with server-side apply and waits for Ready, reporting progress on stderr', async () => {
    const file = join(dir, 'agent.yaml');
    const agent = testAgent(namespace, 'web', meshName, 2);
    delete (agent.metadata as { namespace?: string }).namespace; // -n fills it in, as kubectl does
    await writeFile(file, stringify(agent));
    const result = await mesh(['deploy', '-f', file, '-n', namespace, '--timeout', '90s', '-o', 'yaml']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('agents.meshos.dev/web serverside-applied');
    expect(result.stderr).toMatch(new RegExp(`Ready: Agent ${namespace}/web`));
    expect(result.stderr).not.toMatch(ANSI); // piped: no colour
    const printed = parse(result.stdout) as Agent;
    expect(printed).toMatchObject({ kind: 'Agent', metadata: { name: 'web', namespace } });
    const live = await client.get<Agent & { metadata: { managedFields?: { manager: string; operation: string }[] } }>(MeshOsResources.agent, namespace, 'web');
    expect(live.metadata.managedFields?.some((f) => f.manager === 'mesh-cli' && f.operation === 'Apply')).toBe(true);
  });

  it('says why when deploy times out: the Agent, its phase and its unscheduled pod', async () => {
    const stuckMesh = `${meshName}-stuck`;
    await client.create(MeshOsResources.mesh, testMesh(stuckMesh, 'no-such-scheduler'));
    try {
      const file = join(dir, 'stuck.yaml');
      await writeFile(file, stringify(testAgent(namespace, 'stuck', stuckMesh, 1)));
      const result = await mesh(['deploy', '-f', file, '--timeout', '20s']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Timed out after 20s waiting for Ready');
      expect(result.stderr).toMatch(new RegExp(`Agent ${namespace}/stuck \\(0/1 replicas ready\\): Progressing: .*pod stuck-[a-z0-9-]+ waiting for scheduler "no-such-scheduler"`));
    } finally {
      await client.delete(MeshOsResources.mesh, undefined, stuckMesh).catch(() => undefined);
    }
  });

  it('rejects bad manifests and flags with exit code 2, naming the document and the rule', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'apiVersion: meshos.dev/v1alpha1\nkind: Agent\nmetadata: {}\n');
    let result = await mesh(['deploy', '-f', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${bad} document 1: metadata.name is required (Agent)`);
    result = await mesh(['deploy', '-f', '-'], { stdin: 'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x}\n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stdin document 1: unsupported kind CronJob in batch/v1');
    result = await mesh(['status', '-o', 'xml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("argument 'xml' is invalid. Allowed choices are table, wide, json, yaml");
    result = await mesh(['log', '-n', 'Not_A_Namespace']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('-n/--namespace "Not_A_Namespace" is not a valid namespace name');
    result = await mesh(['no-such-command']);
    expect(result.code).toBe(2);
  });

  it('rejects a server-side validation failure with exit code 1, naming the object and the field', async () => {
    const file = join(dir, 'invalid.yaml');
    const agent = testAgent(namespace, 'invalid', meshName, 1);
    (agent.spec.runtime as { replicas: number }).replicas = -3;
    await writeFile(file, stringify(agent));
    const result = await mesh(['deploy', '-f', file, '--no-wait']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`mesh: Agent ${namespace}/invalid: .*spec.runtime.replicas.*\\(Invalid\\)`));
  });

  it('reports unreachable clusters, missing kubeconfigs and unknown contexts with exit code 1', async () => {
    const unreachable = join(dir, 'unreachable.kubeconfig');
    await writeFile(
      unreachable,
      stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' }),
    );
    let result = await mesh(['status', '--kubeconfig', unreachable]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach the Kubernetes API server');
    result = await mesh(['log', '--kubeconfig', join(dir, 'missing')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no such file');
    result = await mesh(['status', '--context', 'nope']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('has no context "nope"');
  });

  it('prints mesh status as a table, JSON and YAML; exit 0 when the mesh is healthy', async () => {
    const args = ['status', '--mesh', meshName, '--operator-namespace', namespace];
    const json = await mesh([...args, '-o', 'json']);
    const summary = JSON.parse(json.stdout) as { healthy: boolean; operator: { current: boolean }; meshes: { name: string; agents: { total: number; ready: number } }[]; nodes: { total: number } };
    expect(summary.operator.current).toBe(true);
    expect(summary.meshes).toEqual([expect.objectContaining({ name: meshName, agents: expect.objectContaining({ total: 1, ready: 1 }) as unknown })]);
    expect(json.code).toBe(summary.healthy ? 0 : 1);
    const yaml = await mesh([...args, '-o', 'yaml']);
    expect((parse(yaml.stdout) as { meshes: { name: string }[] }).meshes[0]?.name).toBe(meshName);
    const table = await mesh([...args, '-o', 'wide']);
    expect(table.stdout).toMatch(/MESH\s+PHASE\s+AGENTS\s+READY\s+DEGRADED\s+PROPOSALS\s+SCHEDULER\s+DID/);
    expect(table.stdout).toContain(`did:mesh:test:${meshName}`);
    expect(table.stdout).not.toMatch(ANSI);
    const problems = await mesh(['status', '--mesh', meshName, '--operator-namespace', 'no-operator-here']);
    expect(problems.code).toBe(1);
    expect(problems.stdout).toContain('operator: no leader');
  });

  it('prints one frame of mesh top when stdout is not a terminal', async () => {
    const result = await mesh(['top', '-n', namespace]);
    expect(result.code, result.stderr).toBe(0);
    for (const section of ['NODES', 'AGENTS', 'PLACEMENTS', 'INCIDENTS', 'PROPOSALS', 'DECISION LOG']) expect(result.stdout).toContain(section);
    expect(result.stdout).toMatch(new RegExp(`${namespace}\\s+web\\s+${meshName}\\s+Ready\\s+2/2`));
    expect(result.stdout).not.toMatch(ANSI);
  });

  it('runs mesh top full-screen in a terminal, refreshes, and quits on q restoring the screen', async () => {
    const { code, out } = await inPty(['top', '-n', namespace, '--interval', '100'], 'q', 3);
    expect(code).toBe(0);
    expect(out.startsWith('\x1b[?1049h\x1b[?25l')).toBe(true); // alternate screen, cursor hidden
    expect(out.trimEnd().endsWith('\x1b[?25h\x1b[?1049l')).toBe(true); // restored on the way out
    const frames = out.split('\x1b[H').filter((f) => f.includes('mesh top'));
    expect(frames.length).toBeGreaterThanOrEqual(3);
    expect(frames.at(-1)).toContain('web');
    expect(out).toMatch(ANSI); // a terminal gets colour
  });

  it('quits mesh top on Ctrl-C, and shows no colour with NO_COLOR', async () => {
    const { code, out } = await inPty(['top', '-n', namespace], '\x03', 2, { NO_COLOR: '1' });
    expect(code).toBe(0);
    expect(out).toContain('AGENTS');
    expect(out).not.toMatch(ANSI);
    expect(out.trimEnd().endsWith('\x1b[?25h\x1b[?1049l')).toBe(true);
  });

  it('completes commands, options and option values in bash', async () => {
    const script = (await mesh(['completion', 'bash'])).stdout;
    const complete = (words: string[]): Promise<Result> =>
      new Promise((resolve) => {
        const child = spawn('bash', ['-c', `eval "$(cat)"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _mesh_completions; echo "\${COMPREPLY[*]}"`], { stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.on('close', (code) => resolve({ code, stdout: stdout.trim(), stderr: '' }));
        child.stdin.end(script);
      });
    expect((await complete(['mesh', 'st'])).stdout).toBe('status');
    expect((await complete(['mesh', 'dev', 's'])).stdout.split(' ').sort()).toEqual(['start', 'status']);
    expect((await complete(['mesh', 'log', '-o', ''])).stdout).toBe('table wide json yaml');
    expect((await complete(['mesh', 'deploy', '--ti'])).stdout).toBe('--timeout');
    expect((await complete(['kubectl', 'mesh', 'to'])).stdout).toBe('top');
    expect((await mesh(['completion', 'zsh'])).stdout).toContain('bashcompinit');
    expect((await mesh(['completion', 'fish'])).code).toBe(2);
  });
});
