// What can be checked of the container image without a container engine: the Dockerfile's shape
// (multi-stage, non-root, the entry command), and that its build steps, run on a clean copy of the
// build context, produce what the run stage copies and a dist/ whose entry points work, including
// the installed `mesh` binary as a kubectl plugin.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../test/harness/paths.js';

const root = projectRoot();

interface Stage {
  name: string | undefined;
  from: string;
  instructions: { op: string; args: string }[];
}

/** Splits a Dockerfile into stages of instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of logical) {
    const [op = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op.toUpperCase() === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args);
      stages.push({ from: match?.[1] ?? '', name: match?.[2], instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

function run(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Files of the Docker build context: tracked and untracked-not-ignored files minus .dockerignore. */
async function buildContext(): Promise<string[]> {
  const listed = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root });
  const patterns = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const ignored = (file: string): boolean =>
    patterns.some((p) => {
      if (p.startsWith('**/*')) return file.endsWith(p.slice(4));
      return file === p || file.startsWith(`${p}/`);
    });
  return listed.stdout.split('\n').filter((f) => f !== '' && !ignored(f) && existsSync(join(root, f)));
}

describe('Dockerfile and the installable build', () => {
  const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  const runStage = dockerfile.at(-1);
  let copy: string;

  beforeAll(async () => {
    copy = await mkdtemp(join(tmpdir(), 'meshos-image-'));
  });
  afterAll(async () => {
    await rm(copy, { recursive: true, force: true });
  });

  it('is multi-stage and runs as a non-root user with node as the entry command', () => {
    expect(dockerfile.length).toBeGreaterThanOrEqual(2);
    expect(runStage?.from).toMatch(/distroless|slim|alpine/);
    const user = runStage?.instructions.filter((i) => i.op === 'USER').at(-1)?.args ?? '';
    expect(user).not.toBe('');
    expect(user.split(':')[0]).not.toMatch(/^(0|root)$/);
    expect(runStage?.instructions.some((i) => i.op === 'CMD' && i.args.includes('dist/operator/main.js'))).toBe(true);
    // The run stage installs nothing: it only copies from the build stage.
    expect(runStage?.instructions.filter((i) => i.op === 'RUN')).toEqual([]);
  });

  it('builds from a clean copy of the build context; the run stage finds what it copies; the entry points run', async () => {
    const files = await buildContext();
    expect(files).toContain('package.json');
    expect(files.some((f) => f.startsWith('node_modules/'))).toBe(false);
    for (const file of files) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(root, file), join(copy, file));
    }
    // npm ci is not allowed here; the installed dependencies stand in for it.
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const build = await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: copy });
    expect(build.code, build.stdout + build.stderr).toBe(0);
    const assets = await run(process.execPath, ['dist/cli/build-assets.js'], { cwd: copy });
    expect(assets.code, assets.stderr).toBe(0);

    const copies = runStage?.instructions.filter((i) => i.op === 'COPY' && i.args.includes('--from=build')) ?? [];
    expect(copies.length).toBeGreaterThan(0);
    for (const instruction of copies) {
      const source = instruction.args.split(/\s+/).filter((a) => !a.startsWith('--')).at(0) ?? '';
      expect(existsSync(join(copy, source.replace(/^\/src\/?/, ''))), `COPY ${source}`).toBe(true);
    }
    expect(existsSync(join(copy, 'dist', 'samples', 'agents.yaml'))).toBe(true);
    expect(existsSync(join(copy, 'dist', 'kernel', 'memory', 'proto', 'meshos', 'memory', 'v1', 'memory.proto'))).toBe(true);

    const operatorHelp = await run(process.execPath, ['dist/operator/main.js', '--help'], { cwd: copy });
    expect(operatorHelp.code, operatorHelp.stderr).toBe(0);
    expect(operatorHelp.stdout).toContain('--otlp-endpoint');

    // The package's bin, as npm links it, and as a kubectl plugin on the PATH.
    const bin = join(copy, 'bin');
    mkdirSync(bin);
    symlinkSync(join(copy, 'dist', 'cli', 'main.js'), join(bin, 'kubectl-mesh'));
    symlinkSync(join(copy, 'dist', 'cli', 'main.js'), join(bin, 'mesh'));
    symlinkSync(join(copy, 'dist', 'cli', 'main.js'), join(bin, 'kubectl_complete-mesh'));
    const env = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, NO_COLOR: '1' };
    const version = await run(join(bin, 'mesh'), ['--version'], { cwd: tmpdir(), env });
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
    const plugin = await run(inject('kubectlPath'), ['mesh', 'status', '--kubeconfig', inject('kubeconfigPath'), '-o', 'json'], { cwd: tmpdir(), env });
    expect([0, 1]).toContain(plugin.code);
    expect((JSON.parse(plugin.stdout) as { nodes: { total: number } }).nodes.total).toBeGreaterThan(0);
    const help = await run(inject('kubectlPath'), ['mesh', '--help'], { cwd: tmpdir(), env });
    expect(help.stdout).toContain('Usage: kubectl mesh');
    // kubectl's own completion asks kubectl_complete-mesh (kubectl 1.26+).
    const completion = await run(inject('kubectlPath'), ['__complete', 'mesh', 'st'], { cwd: tmpdir(), env });
    expect(completion.stdout.trim().split('\n')).toEqual(['status', ':4']);
  }, 300_000);
});
