// Builds the pinned control-plane binaries from their Go modules with the machine's Go and
// caches them outside the repo: `${MESHOS_CACHE_DIR:-~/.cache/meshos}/bin/<name>-<version>`.
import { spawn, execFile } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, open, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubernetesWrapperGoMod, parseGoMod, renderGoMod } from './gomod.js';
import { cacheDir as defaultCacheDir } from './paths.js';

const execFileAsync = promisify(execFile);

/** Every pinned version, in one place. Bump here; the cache key follows. */
export const VERSIONS = {
  kubernetes: 'v1.36.3',
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
  helm: 'v3.22.0',
  grpcurl: 'v1.9.3',
} as const;

/** The oldest Go that builds all of the above (their go.mod files say `go 1.26.0`). */
export const MIN_GO_VERSION = '1.26';

export const BINARY_NAMES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
  'helm',
  'grpcurl',
] as const;
export type BinaryName = (typeof BINARY_NAMES)[number];

type BuildGroup = keyof typeof VERSIONS;

interface Recipe {
  group: BuildGroup;
  /** Module whose commands are built. */
  module: string;
  /** Binary name -> Go package to build. */
  packages: Partial<Record<BinaryName, string>>;
  ldflags: readonly string[];
  /** The wrapper module's go.mod, given the required module's own go.mod. */
  wrapperGoMod: (moduleGoMod: string) => string;
  /** Extra files produced next to the binaries (kwok's stage definitions). */
  extras?: (moduleDir: string, cache: string) => Promise<void>;
  extraOutputs?: (cache: string) => string[];
}

function plainWrapper(group: BuildGroup, module: string): (moduleGoMod: string) => string {
  return (moduleGoMod) => {
    const go = parseGoMod(moduleGoMod).go;
    return renderGoMod({
      module: `meshos.dev/harness/${group}-build`,
      ...(go !== undefined ? { go } : {}),
      requires: [{ path: module, version: VERSIONS[group] }],
    });
  };
}

function kubernetesLdflags(version: string): string[] {
  const match = /^v(\d+)\.(\d+)\./.exec(version);
  const major = match?.[1] ?? '';
  const minor = match?.[2] ?? '';
  // What hack/lib/version.sh stamps, so `kubectl version` and /version report the release.
  return ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version'].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
}

/** kwok itself ships no stages; kwokctl feeds it these. The harness does the same. */
const KWOK_STAGE_FILES = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/node/chaos/node-not-ready.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
];

/** Stage definitions (node init, lease heartbeat, node-not-ready chaos, fast pods) for `kwok --config`. */
export function kwokStagesPath(cache: string = defaultCacheDir()): string {
  return join(cache, 'share', `kwok-${VERSIONS.kwok}`, 'stages.yaml');
}

const RECIPES: Record<BuildGroup, Recipe> = {
  kubernetes: {
    group: 'kubernetes',
    module: 'k8s.io/kubernetes',
    packages: {
      'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
      'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
      'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
      kubectl: 'k8s.io/kubernetes/cmd/kubectl',
    },
    ldflags: ['-s', '-w', ...kubernetesLdflags(VERSIONS.kubernetes)],
    wrapperGoMod: (moduleGoMod) => kubernetesWrapperGoMod(moduleGoMod, VERSIONS.kubernetes),
  },
  etcd: {
    group: 'etcd',
    module: 'go.etcd.io/etcd/server/v3',
    // The module root is etcd's own one-line main (`etcdmain.Main(os.Args)`); building it from
    // a wrapper that requires the module is the same as writing that main ourselves.
    packages: { etcd: 'go.etcd.io/etcd/server/v3' },
    ldflags: ['-s', '-w'],
    wrapperGoMod: plainWrapper('etcd', 'go.etcd.io/etcd/server/v3'),
  },
  kwok: {
    group: 'kwok',
    module: 'sigs.k8s.io/kwok',
    packages: { kwok: 'sigs.k8s.io/kwok/cmd/kwok' },
    ldflags: ['-s', '-w', `-X sigs.k8s.io/kwok/pkg/consts.Version=${VERSIONS.kwok.replace(/^v/, '')}`],
    wrapperGoMod: plainWrapper('kwok', 'sigs.k8s.io/kwok'),
    extras: async (moduleDir, cache) => {
      const documents = await Promise.all(KWOK_STAGE_FILES.map((file) => readFile(join(moduleDir, file), 'utf8')));
      await writeFileAtomic(kwokStagesPath(cache), documents.map((doc) => doc.trimEnd()).join('\n---\n') + '\n');
    },
    extraOutputs: (cache) => [kwokStagesPath(cache)],
  },
  helm: {
    group: 'helm',
    module: 'helm.sh/helm/v3',
    packages: { helm: 'helm.sh/helm/v3/cmd/helm' },
    ldflags: ['-s', '-w', `-X helm.sh/helm/v3/internal/version.version=${VERSIONS.helm}`],
    wrapperGoMod: plainWrapper('helm', 'helm.sh/helm/v3'),
  },
  // The gRPC client the discovery tests call the service with through reflection.
  grpcurl: {
    group: 'grpcurl',
    module: 'github.com/fullstorydev/grpcurl',
    packages: { grpcurl: 'github.com/fullstorydev/grpcurl/cmd/grpcurl' },
    ldflags: ['-s', '-w', `-X main.version=${VERSIONS.grpcurl}`],
    wrapperGoMod: plainWrapper('grpcurl', 'github.com/fullstorydev/grpcurl'),
  },
};

function recipeOf(name: BinaryName): Recipe {
  for (const recipe of Object.values(RECIPES)) if (recipe.packages[name] !== undefined) return recipe;
  throw new Error(`No build recipe for ${name}`);
}

/** The pinned version a binary is built at. */
export function binaryVersion(name: BinaryName): string {
  return VERSIONS[recipeOf(name).group];
}

/** Where the cached binary lives (whether or not it has been built yet). */
export function binaryPath(name: BinaryName, cache: string = defaultCacheDir()): string {
  return join(cache, 'bin', `${name}-${binaryVersion(name)}`);
}

export interface BinaryProgress {
  /** `cached`, `waiting` (another process holds the build lock), `building`, `still-building`, `built`, or `output` (a line of go's output, only with MESHOS_VERBOSE). */
  kind: 'cached' | 'waiting' | 'building' | 'still-building' | 'built' | 'output';
  names: BinaryName[];
  /** Seconds since the build of these binaries started. */
  seconds?: number;
  /** One human-readable line. */
  message: string;
}

export interface EnsureBinariesOptions {
  onProgress?: (event: BinaryProgress) => void;
  /** Defaults to `${MESHOS_CACHE_DIR:-~/.cache/meshos}`. */
  cacheDir?: string;
  /** Stream go's output through onProgress. Defaults to `MESHOS_VERBOSE` being set. */
  verbose?: boolean;
  /** Environment for `go`; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Thrown when something must be built and `go` is missing or too old. */
export class GoToolchainError extends Error {
  override name = 'GoToolchainError';
}

/** The message shown when `go` is not on PATH. */
export function missingGoMessage(names: readonly string[], cache: string): string {
  return (
    `go (the Go toolchain, ${MIN_GO_VERSION} or newer) is required to build ${names.join(', ')}: ` +
    `Mesh OS builds its pinned Kubernetes, etcd, kwok and helm binaries from their Go modules ` +
    `and caches them in ${join(cache, 'bin')}. Install Go from https://go.dev/dl/ ` +
    `(or your distribution's golang package if it is ${MIN_GO_VERSION}+) and make sure \`go\` is on PATH.`
  );
}

/** `go1.26.8` -> [1, 26, 8]; undefined for devel or unparsable versions. */
export function parseGoVersion(goVersion: string): [number, number, number] | undefined {
  const match = /^go(\d+)\.(\d+)(?:\.(\d+))?/.exec(goVersion.trim());
  if (match === null) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? '0')];
}

/**
 * Checks that Go can build the pinned modules. Go 1.21+ downloads a newer toolchain on its
 * own (GOTOOLCHAIN=auto) when a go.mod asks for one, so only older or pinned-local ones fail.
 */
export function checkGoVersion(goVersion: string, goToolchain: string, names: readonly string[]): string | undefined {
  const parsed = parseGoVersion(goVersion);
  if (parsed === undefined) return undefined; // devel builds: let go decide
  const [wantMajor, wantMinor] = MIN_GO_VERSION.split('.').map(Number) as [number, number];
  const [major, minor] = parsed;
  const newEnough = major > wantMajor || (major === wantMajor && minor >= wantMinor);
  if (newEnough) return undefined;
  const canSwitch = major > 1 || (major === 1 && minor >= 21);
  if (canSwitch && !goToolchain.startsWith('local')) return undefined;
  return (
    `go ${MIN_GO_VERSION} or newer is required to build ${names.join(', ')}; found ${goVersion.trim()}` +
    (canSwitch ? ` with GOTOOLCHAIN=${goToolchain} (unset it to let go fetch a newer toolchain)` : '') +
    '. Install a newer Go from https://go.dev/dl/.'
  );
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock file holding the builder's pid, so two processes never build the same group at once. */
async function withBuildLock<T>(lockPath: string, onWait: (holder: number) => void, body: () => Promise<T>): Promise<T> {
  let reported = false;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
      if (Number.isNaN(holder) || !isAlive(holder)) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (!reported) onWait(holder);
      reported = true;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  try {
    return await body();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

interface GoEnvironment {
  env: NodeJS.ProcessEnv;
  goVersion: string;
}

async function resolveGo(names: readonly string[], cache: string, baseEnv: NodeJS.ProcessEnv): Promise<GoEnvironment> {
  // A go.work elsewhere on the machine must not leak into the wrapper modules.
  const env: NodeJS.ProcessEnv = { ...baseEnv, GOWORK: 'off', GO111MODULE: 'on' };
  let output: string;
  try {
    ({ stdout: output } = await execFileAsync('go', ['env', 'GOVERSION', 'GOTOOLCHAIN'], { env }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new GoToolchainError(missingGoMessage(names, cache));
    throw new GoToolchainError(`\`go env\` failed: ${(error as Error).message}`);
  }
  const [goVersion = '', goToolchain = 'auto'] = output.split('\n');
  const problem = checkGoVersion(goVersion, goToolchain, names);
  if (problem !== undefined) throw new GoToolchainError(problem);
  return { env, goVersion: goVersion.trim() };
}

interface DownloadedModule {
  Dir?: string;
  GoMod?: string;
  Error?: string;
}

async function downloadModule(module: string, version: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ dir: string; goMod: string }> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('go', ['mod', 'download', '-json', `${module}@${version}`], {
      cwd,
      env,
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`go mod download ${module}@${version} failed: ${failed.stderr ?? ''}${failed.stdout ?? failed.message}`);
  }
  const parsed = JSON.parse(stdout) as DownloadedModule;
  if (parsed.Error !== undefined || parsed.Dir === undefined || parsed.GoMod === undefined) {
    throw new Error(`go mod download ${module}@${version} failed: ${parsed.Error ?? 'no Dir/GoMod in its output'}`);
  }
  return { dir: parsed.Dir, goMod: parsed.GoMod };
}

/** Runs go, keeping the last lines of its output for error messages and streaming them if verbose. */
function runGo(args: string[], cwd: string, env: NodeJS.ProcessEnv, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const collect = (chunk: Buffer, buffer: { text: string }): void => {
      buffer.text += chunk.toString('utf8');
      const lines = buffer.text.split('\n');
      buffer.text = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 60) tail.shift();
        onLine(line);
      }
    };
    const out = { text: '' };
    const err = { text: '' };
    child.stdout.on('data', (chunk: Buffer) => collect(chunk, out));
    child.stderr.on('data', (chunk: Buffer) => collect(chunk, err));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const rest of [out.text, err.text]) if (rest !== '') tail.push(rest);
      if (code === 0) resolve();
      else reject(new Error(`go ${args.join(' ')} failed (${signal ?? `exit ${String(code)}`}) in ${cwd}:\n${tail.join('\n')}`));
    });
  });
}

async function buildGroup(
  recipe: Recipe,
  names: BinaryName[],
  cache: string,
  go: GoEnvironment,
  verbose: boolean,
  report: (event: BinaryProgress) => void,
): Promise<void> {
  const version = VERSIONS[recipe.group];
  const started = Date.now();
  const elapsed = (): number => Math.round((Date.now() - started) / 1000);
  for (const name of names) {
    report({ kind: 'building', names: [name], seconds: 0, message: `${name} ${version}: building with ${go.goVersion} (first time only; this can take many minutes)` });
  }
  const heartbeat = setInterval(() => {
    report({ kind: 'still-building', names, seconds: elapsed(), message: `${names.join(', ')} ${version}: still building (${elapsed()} s)` });
  }, 30_000);
  heartbeat.unref();
  try {
    const wrapperDir = join(cache, 'src', `${recipe.group}-${version}`);
    await mkdir(wrapperDir, { recursive: true });
    // Outside any module, so an older wrapper go.mod cannot interfere with the download.
    const downloaded = await downloadModule(recipe.module, version, join(cache, 'src'), go.env);
    const moduleGoMod = await readFile(downloaded.goMod, 'utf8');
    await writeFile(join(wrapperDir, 'go.mod'), recipe.wrapperGoMod(moduleGoMod));

    const binDir = join(cache, 'bin');
    await mkdir(binDir, { recursive: true });
    // Build into a temporary directory beside the cache, then rename: a half-written binary
    // never appears under its final name.
    const temporaryDir = await mkdtemp(join(binDir, `.build-${recipe.group}-`));
    try {
      const packages = names.map((name) => recipe.packages[name] as string);
      const output = names.length === 1 ? join(temporaryDir, names[0] as string) : `${temporaryDir}/`;
      const args = ['build', '-mod=mod', ...(verbose ? ['-v'] : []), `-ldflags=${recipe.ldflags.join(' ')}`, '-o', output, ...packages];
      await runGo(args, wrapperDir, go.env, (line) => {
        if (verbose && line.trim() !== '') report({ kind: 'output', names, message: `[go ${recipe.group}] ${line}` });
      });
      if (recipe.extras !== undefined) await recipe.extras(downloaded.dir, cache);
      for (const name of names) {
        const built = join(temporaryDir, names.length === 1 ? name : lastPathElement(recipe.packages[name] as string));
        await rename(built, binaryPath(name, cache));
        report({ kind: 'built', names: [name], seconds: elapsed(), message: `${name} ${version}: built in ${elapsed()} s` });
      }
    } finally {
      await rm(temporaryDir, { recursive: true, force: true });
    }
  } finally {
    clearInterval(heartbeat);
  }
}

function lastPathElement(importPath: string): string {
  return importPath.split('/').pop() ?? importPath;
}

/**
 * Makes sure the named binaries exist in the cache, building missing ones with `go`, and
 * returns their absolute paths. Binaries of one release (the four Kubernetes commands) are
 * built in one `go build` so they share work. Concurrent callers wait for each other.
 */
export async function ensureBinaries<N extends BinaryName>(
  names: readonly N[],
  options: EnsureBinariesOptions = {},
): Promise<Record<N, string>> {
  const cache = options.cacheDir ?? defaultCacheDir();
  const report = options.onProgress ?? ((): void => undefined);
  const env = options.env ?? process.env;
  const verbose = options.verbose ?? (env['MESHOS_VERBOSE'] !== undefined && env['MESHOS_VERBOSE'] !== '');
  const paths = {} as Record<N, string>;
  const unique = [...new Set(names)];

  const isPresent = async (name: BinaryName): Promise<boolean> => {
    const extras = recipeOf(name).extraOutputs?.(cache) ?? [];
    return (await isExecutable(binaryPath(name, cache))) && (await Promise.all(extras.map(exists))).every(Boolean);
  };

  const missingByGroup = new Map<Recipe, BinaryName[]>();
  for (const name of unique) {
    paths[name] = binaryPath(name, cache);
    if (await isPresent(name)) {
      report({ kind: 'cached', names: [name], message: `${name} ${binaryVersion(name)}: cached (${paths[name]})` });
    } else {
      const recipe = recipeOf(name);
      missingByGroup.set(recipe, [...(missingByGroup.get(recipe) ?? []), name]);
    }
  }
  if (missingByGroup.size === 0) return paths;

  const allMissing = [...missingByGroup.values()].flat();
  const go = await resolveGo(allMissing, cache, env);
  await mkdir(join(cache, 'bin'), { recursive: true });
  for (const [recipe, groupNames] of missingByGroup) {
    const version = VERSIONS[recipe.group];
    const lockPath = join(cache, 'bin', `.${recipe.group}-${version}.lock`);
    await withBuildLock(
      lockPath,
      (holder) => report({ kind: 'waiting', names: groupNames, message: `${groupNames.join(', ')} ${version}: waiting for the build in process ${holder}` }),
      async () => {
        // Another process may have finished the build while we waited for the lock.
        const stillMissing: BinaryName[] = [];
        for (const name of groupNames) {
          if (await isPresent(name)) report({ kind: 'cached', names: [name], message: `${name} ${version}: cached (${binaryPath(name, cache)})` });
          else stillMissing.push(name);
        }
        // Temporary build directories of an earlier build of this group that was killed.
        for (const entry of await readdir(join(cache, 'bin'))) {
          if (entry.startsWith(`.build-${recipe.group}-`)) await rm(join(cache, 'bin', entry), { recursive: true, force: true });
        }
        if (stillMissing.length > 0) await buildGroup(recipe, stillMissing, cache, go, verbose, report);
      },
    );
  }
  return paths;
}

/** A progress printer for scripts: one line per event on stderr. */
export function printBinaryProgress(event: BinaryProgress): void {
  process.stderr.write(`${event.message}\n`);
}
