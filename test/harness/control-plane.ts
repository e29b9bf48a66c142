// A local Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver and optionally
// kube-controller-manager, kube-scheduler and kwok, as plain processes with logs in dataDir.
// The same code serves `mesh dev up` (detached, survives the CLI) and the tests' global setup.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { binaryPath, ensureBinaries, kwokStagesPath, VERSIONS, type BinaryName } from './binaries.js';
import { get, waitUntil } from './health.js';
import { createKubectl, type Kubectl } from './kubectl.js';
import { ensurePki, pkiPaths, writeAdminKubeconfig, type PkiPaths } from './pki.js';
import { freePorts, isPortFree } from './ports.js';
import { isProcessAlive, processRuns, spawnLogged, stopProcess, tailFile, type StopResult } from './processes.js';
import {
  COMPONENT_NAMES,
  readState,
  withComponent,
  writeState,
  type ComponentName,
  type ComponentState,
  type ControlPlanePorts,
  type ControlPlaneState,
} from './state.js';

export { createKwokNodes, defaultNodeLabels, kwokNodeManifest, NODE_LABELS, type KwokNodeOptions } from './nodes.js';
export { installCrds, CrdsMissingError } from './crds.js';
export type { Kubectl } from './kubectl.js';
export type { ComponentName, ControlPlanePorts, ControlPlaneState } from './state.js';

/** Service CIDR; 10.0.0.1 (the `kubernetes` Service) is in the serving certificate. */
// A /16: every Agent owns a ClusterIP Service, and a /24 runs out after 254 Agents.
export const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/16';
/** Pod IPs kwok hands out; kept apart from the service range. */
export const POD_CIDR = '10.244.0.0/16';
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** kwok manages only nodes with this annotation, so real or foreign nodes are left alone. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const KWOK_NODE_ANNOTATION_VALUE = 'fake';
/** kwok renews node Leases every quarter of this (10 s), like a kubelet. */
export const KWOK_NODE_LEASE_SECONDS = 40;

export interface ControlPlaneComponents {
  controllerManager?: boolean;
  scheduler?: boolean;
  kwok?: boolean;
}

export interface StartControlPlaneOptions {
  dataDir: string;
  /** Fixed ports; the rest are picked free (a stopped control plane's previous ports first). */
  ports?: Partial<ControlPlanePorts>;
  /** etcd and kube-apiserver always run; these are optional. */
  components: ControlPlaneComponents;
  onProgress?: (message: string) => void;
  /** Components outlive this process (`mesh dev up`). Default false: they die with it. */
  detached?: boolean;
  /** kube-apiserver `--etcd-compaction-interval` (its default, 5m, when unset). */
  etcdCompactionInterval?: string;
  /** Per-component readiness timeout; default 120 s. */
  readyTimeoutMs?: number;
  /** Where binaries are cached; default `${MESHOS_CACHE_DIR:-~/.cache/meshos}`. */
  cacheDir?: string;
  /** Extra flags appended per component (later flags win). */
  extraArgs?: Partial<Record<ComponentName, string[]>>;
}

export interface StoppedComponent {
  name: ComponentName;
  pid: number;
  result: StopResult;
}

export interface ControlPlane {
  readonly dataDir: string;
  /** Admin kubeconfig (user meshos-admin in system:masters, context meshos-dev). */
  readonly kubeconfigPath: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  readonly apiServerPort: number;
  readonly kubectlPath: string;
  /** kubectl bound to the admin kubeconfig; resolves with stdout. */
  readonly kubectl: Kubectl;
  /** Current pid of each running component. */
  readonly pids: Partial<Record<ComponentName, number>>;
  readonly versions: ControlPlaneState['versions'];
  /** SIGTERM in reverse start order, SIGKILL after a grace period; no process is left. */
  stop(): Promise<StoppedComponent[]>;
  /** Stops and restarts kube-apiserver alone, on the same port and etcd; resolves once it is ready again. */
  restartApiServer(): Promise<void>;
}

/** Everything the component flags are made from. */
export interface ComponentArgsContext {
  dataDir: string;
  ports: ControlPlanePorts;
  pki: PkiPaths;
  kubeconfigPath: string;
  kwokStagesPath: string;
  etcdCompactionInterval?: string;
}

/** The exact command-line flags of each component. */
export function componentArgs(name: ComponentName, ctx: ComponentArgsContext): string[] {
  const { ports, pki } = ctx;
  switch (name) {
    case 'etcd': {
      const client = `http://127.0.0.1:${ports.etcdClient}`;
      const peer = `http://127.0.0.1:${ports.etcdPeer}`;
      return [
        '--name=meshos',
        `--data-dir=${join(ctx.dataDir, 'etcd')}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=meshos=${peer}`,
        '--initial-cluster-state=new',
        // Tests and local development do not need durability across power loss.
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ];
    }
    case 'kube-apiserver':
      return [
        `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.apiServer}`,
        `--cert-dir=${join(ctx.dataDir, 'pki', 'apiserver-generated')}`,
        `--tls-cert-file=${pki.apiServerCert}`,
        `--tls-private-key-file=${pki.apiServerKey}`,
        `--client-ca-file=${pki.caCert}`,
        '--authorization-mode=Node,RBAC',
        `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
        `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
        `--service-account-key-file=${pki.serviceAccountPublicKey}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        // Pods on kwok nodes have no kubelet to mount tokens; do not require them.
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        '--watch-cache=true',
        // Close open watches after 2 s on SIGTERM; otherwise shutdown waits 60 s for them to end.
        '--shutdown-watch-termination-grace-period=2s',
        '--profiling=false',
        ...(ctx.etcdCompactionInterval !== undefined ? [`--etcd-compaction-interval=${ctx.etcdCompactionInterval}`] : []),
      ];
    case 'kube-controller-manager':
      return [
        `--kubeconfig=${ctx.kubeconfigPath}`,
        `--authentication-kubeconfig=${ctx.kubeconfigPath}`,
        `--authorization-kubeconfig=${ctx.kubeconfigPath}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.controllerManager ?? 0}`,
        '--leader-elect=false',
        '--use-service-account-credentials=false',
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.caCert}`,
        `--cluster-signing-cert-file=${pki.caCert}`,
        `--cluster-signing-key-file=${pki.caKey}`,
        // No cloud and no CNI: node IPAM, routes, load balancers and cloud node lifecycle have nothing to do.
        '--controllers=*,-node-ipam-controller,-node-route-controller,-service-lb-controller,-cloud-node-lifecycle-controller',
        '--profiling=false',
      ];
    case 'kube-scheduler':
      return [
        `--kubeconfig=${ctx.kubeconfigPath}`,
        `--authentication-kubeconfig=${ctx.kubeconfigPath}`,
        `--authorization-kubeconfig=${ctx.kubeconfigPath}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.scheduler ?? 0}`,
        '--leader-elect=false',
        '--profiling=false',
      ];
    case 'kwok':
      return [
        `--kubeconfig=${ctx.kubeconfigPath}`,
        `--config=${ctx.kwokStagesPath}`,
        '--manage-all-nodes=false',
        `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=${KWOK_NODE_ANNOTATION_VALUE}`,
        `--node-lease-duration-seconds=${KWOK_NODE_LEASE_SECONDS}`,
        `--cidr=${POD_CIDR}`,
        // No --server-address and no --node-port: kwok's own HTTP server (logs/exec) stays off.
      ];
  }
}

const BINARY_OF: Record<ComponentName, BinaryName> = {
  etcd: 'etcd',
  'kube-apiserver': 'kube-apiserver',
  'kube-controller-manager': 'kube-controller-manager',
  'kube-scheduler': 'kube-scheduler',
  kwok: 'kwok',
};

function logPathOf(dataDir: string, name: ComponentName): string {
  return join(dataDir, 'logs', `${name}.log`);
}

async function withLogTail(error: unknown, logPath: string): Promise<Error> {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${message}\n--- last lines of ${logPath} ---\n${await tailFile(logPath)}`);
}

function componentAbort(pid: number): () => string | undefined {
  return () => (isProcessAlive(pid) ? undefined : `process ${pid} exited`);
}

/** Polls one component until it answers its health endpoint. */
async function waitForComponent(name: ComponentName, state: ControlPlaneState, pid: number, pki: PkiPaths, timeoutMs: number): Promise<void> {
  const tlsAdmin = async (): Promise<{ ca: Buffer; cert: Buffer; key: Buffer }> => ({
    ca: await readFile(pki.caCert),
    cert: await readFile(pki.adminCert),
    key: await readFile(pki.adminKey),
  });
  const wait = { timeoutMs, abort: componentAbort(pid) };
  switch (name) {
    case 'etcd':
      return waitUntil('etcd', async () => (await get(`http://127.0.0.1:${state.ports.etcdClient}/health`)).body.includes('"health":"true"'), wait);
    case 'kube-apiserver': {
      const tls = await tlsAdmin();
      return waitUntil('kube-apiserver /readyz', async () => (await get(`${state.server}/readyz`, tls)).status === 200, wait);
    }
    case 'kube-controller-manager':
    case 'kube-scheduler': {
      const port = name === 'kube-scheduler' ? state.ports.scheduler : state.ports.controllerManager;
      // Their serving certificates are self-signed in memory; only reachability matters here.
      return waitUntil(`${name} /healthz`, async () => (await get(`https://127.0.0.1:${port ?? 0}/healthz`, { rejectUnauthorized: false })).status === 200, wait);
    }
    case 'kwok':
      // kwok has no health endpoint with its server off; a crash on bad flags happens at once.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      if (!isProcessAlive(pid)) throw new Error(`kwok: process ${pid} exited`);
      return;
  }
}

async function choosePorts(wanted: Partial<ControlPlanePorts>, previous: ControlPlanePorts | undefined, components: ControlPlaneComponents): Promise<ControlPlanePorts> {
  const keys: (keyof ControlPlanePorts)[] = ['etcdClient', 'etcdPeer', 'apiServer'];
  if (components.controllerManager === true) keys.push('controllerManager');
  if (components.scheduler === true) keys.push('scheduler');
  const chosen: Partial<ControlPlanePorts> = {};
  for (const key of keys) {
    const fixed = wanted[key];
    if (fixed !== undefined) {
      chosen[key] = fixed;
      continue;
    }
    // Reuse the previous port when free, so an old kubeconfig keeps working after a restart.
    const before = previous?.[key];
    if (before !== undefined && !Object.values(chosen).includes(before) && (await isPortFree(before))) chosen[key] = before;
  }
  const open = keys.filter((key) => chosen[key] === undefined);
  const fresh = await freePorts(open.length + Object.keys(chosen).length);
  const taken = new Set(Object.values(chosen));
  const available = fresh.filter((port) => !taken.has(port));
  for (const key of open) {
    const port = available.shift();
    if (port === undefined) throw new Error('Could not find enough free ports on 127.0.0.1');
    chosen[key] = port;
  }
  return chosen as ControlPlanePorts;
}

/** Running components in a state, by pid and executable. */
function liveComponents(state: ControlPlaneState): ComponentState[] {
  return state.components.filter((component) => processRuns(component.pid, component.binary));
}

class ControlPlaneHandle implements ControlPlane {
  readonly kubectl: Kubectl;
  private exitHook: (() => void) | undefined;

  constructor(
    private state: ControlPlaneState,
    private readonly pki: PkiPaths,
    private readonly options: { owned: boolean; readyTimeoutMs: number; onProgress: (message: string) => void },
  ) {
    this.kubectl = createKubectl(state.kubectlPath, state.kubeconfigPath);
    if (options.owned && !state.detached) {
      // Last resort when the owner exits without stop(): no component may outlive it.
      this.exitHook = () => {
        for (const component of this.state.components) {
          if (processRuns(component.pid, component.binary)) {
            try {
              process.kill(component.pid, 'SIGKILL');
            } catch {
              // Already gone.
            }
          }
        }
      };
      process.on('exit', this.exitHook);
    }
  }

  get dataDir(): string {
    return this.state.dataDir;
  }
  get kubeconfigPath(): string {
    return this.state.kubeconfigPath;
  }
  get server(): string {
    return this.state.server;
  }
  get apiServerPort(): number {
    return this.state.ports.apiServer;
  }
  get kubectlPath(): string {
    return this.state.kubectlPath;
  }
  get versions(): ControlPlaneState['versions'] {
    return this.state.versions;
  }
  get pids(): Partial<Record<ComponentName, number>> {
    return Object.fromEntries(this.state.components.map((component) => [component.name, component.pid]));
  }

  /** The newest state: another process (a test worker) may have restarted a component. */
  private async currentState(): Promise<ControlPlaneState> {
    const fromDisk = await readState(this.state.dataDir).catch(() => undefined);
    if (fromDisk !== undefined && fromDisk.createdAt === this.state.createdAt) this.state = fromDisk;
    return this.state;
  }

  async stop(): Promise<StoppedComponent[]> {
    const state = await this.currentState();
    const stopped = await stopComponents(state, this.options.onProgress);
    this.state = { ...state, running: false };
    await writeState(this.state);
    if (this.exitHook !== undefined) process.off('exit', this.exitHook);
    this.exitHook = undefined;
    return stopped;
  }

  /** Starts one component and waits for it; used while the control plane comes up. */
  async launch(name: ComponentName, binary: string, args: string[]): Promise<void> {
    this.state = await startComponent(this.state, name, binary, args, this.state.detached, this.pki, this.options.readyTimeoutMs, this.options.onProgress);
  }

  async restartApiServer(): Promise<void> {
    const state = await this.currentState();
    const apiServer = state.components.find((component) => component.name === 'kube-apiserver');
    if (apiServer === undefined) throw new Error('No kube-apiserver in this control plane');
    this.options.onProgress(`Stopping kube-apiserver (pid ${apiServer.pid})`);
    await stopProcess(apiServer.pid, apiServer.binary, 30_000);
    // A handle that does not own the control plane (a test worker) must not take the new
    // process down with it when it exits.
    const detached = state.detached || !this.options.owned;
    this.state = await startComponent(state, 'kube-apiserver', apiServer.binary, apiServer.args, detached, this.pki, this.options.readyTimeoutMs, this.options.onProgress);
  }
}

async function startComponent(
  state: ControlPlaneState,
  name: ComponentName,
  binary: string,
  args: string[],
  detached: boolean,
  pki: PkiPaths,
  readyTimeoutMs: number,
  onProgress: (message: string) => void,
): Promise<ControlPlaneState> {
  const logPath = logPathOf(state.dataDir, name);
  const started = Date.now();
  onProgress(`Starting ${name} (log: ${logPath})`);
  const { pid } = spawnLogged({ binary, args, logPath, detached });
  const next = withComponent(state, { name, pid, binary, args, logPath, startedAt: new Date().toISOString() });
  // Record the pid before waiting, so a failed start can still be cleaned up from the file.
  await writeState(next);
  try {
    await waitForComponent(name, next, pid, pki, readyTimeoutMs);
  } catch (error) {
    throw await withLogTail(error, logPath);
  }
  onProgress(`Started ${name} (pid ${pid}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return next;
}

async function stopComponents(state: ControlPlaneState, onProgress: (message: string) => void): Promise<StoppedComponent[]> {
  const stopped: StoppedComponent[] = [];
  for (const component of [...state.components].reverse()) {
    const result = await stopProcess(component.pid, component.binary, component.name === 'etcd' ? 30_000 : 15_000);
    if (result !== 'not-running') onProgress(`Stopped ${component.name} (pid ${component.pid}${result === 'killed' ? ', killed after the grace period' : ''})`);
    stopped.push({ name: component.name, pid: component.pid, result });
  }
  return stopped;
}

/**
 * Starts a fresh control plane in dataDir (keeping etcd data and certificates that are
 * already there). Builds missing binaries first. Fails if one already runs in dataDir.
 */
export async function startControlPlane(options: StartControlPlaneOptions): Promise<ControlPlane> {
  const dataDir = resolve(options.dataDir);
  const onProgress = options.onProgress ?? ((): void => undefined);
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const detached = options.detached ?? false;
  const components = options.components;

  const previous = await readState(dataDir).catch(() => undefined);
  if (previous !== undefined) {
    const live = liveComponents(previous);
    if (live.length > 0) {
      throw new Error(
        `A control plane already runs in ${dataDir} (${live.map((c) => `${c.name} pid ${c.pid}`).join(', ')}): reuse it (reuseControlPlane) or stop it first (mesh dev down)`,
      );
    }
  }

  const wanted: ComponentName[] = ['etcd', 'kube-apiserver'];
  if (components.controllerManager === true) wanted.push('kube-controller-manager');
  if (components.scheduler === true) wanted.push('kube-scheduler');
  if (components.kwok === true) wanted.push('kwok');
  const binaries = await ensureBinaries([...wanted.map((name) => BINARY_OF[name]), 'kubectl'], {
    onProgress: (event) => onProgress(event.message),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
  });

  await mkdir(join(dataDir, 'logs'), { recursive: true });
  await mkdir(join(dataDir, 'etcd'), { recursive: true, mode: 0o700 });
  const pki = await ensurePki(join(dataDir, 'pki'));
  const ports = await choosePorts(options.ports ?? {}, previous?.ports, components);
  const server = `https://127.0.0.1:${ports.apiServer}`;
  const kubeconfigPath = await writeAdminKubeconfig(pki, server, join(dataDir, 'kubeconfig'));
  const now = new Date().toISOString();
  const state: ControlPlaneState = {
    version: 1,
    dataDir,
    kubeconfigPath,
    kubectlPath: binaries.kubectl,
    server,
    ports,
    versions: { kubernetes: VERSIONS.kubernetes, etcd: VERSIONS.etcd, kwok: VERSIONS.kwok },
    ownerPid: process.pid,
    detached,
    running: true,
    createdAt: now,
    updatedAt: now,
    components: [],
  };
  await writeState(state);
  const handle = new ControlPlaneHandle(state, pki, { owned: true, readyTimeoutMs, onProgress });

  const ctx: ComponentArgsContext = {
    dataDir,
    ports,
    pki,
    kubeconfigPath,
    kwokStagesPath: kwokStagesPath(options.cacheDir),
    ...(options.etcdCompactionInterval !== undefined ? { etcdCompactionInterval: options.etcdCompactionInterval } : {}),
  };
  try {
    for (const name of wanted) {
      const args = [...componentArgs(name, ctx), ...(options.extraArgs?.[name] ?? [])];
      await handle.launch(name, binaries[BINARY_OF[name]], args);
    }
  } catch (error) {
    onProgress('Start failed; stopping what was started');
    await handle.stop().catch(() => undefined);
    throw error;
  }
  return handle;
}

/**
 * A handle on the control plane recorded in dataDir/state.json, if all its processes are
 * alive and the API server is ready; otherwise undefined. The handle does not own the
 * processes: they keep running when this process exits, until stop() is called.
 */
export async function reuseControlPlane(dataDir: string, options: { onProgress?: (message: string) => void; readyTimeoutMs?: number } = {}): Promise<ControlPlane | undefined> {
  const state = await readState(resolve(dataDir)).catch(() => undefined);
  if (state?.running !== true || state.components.length === 0) return undefined;
  if (liveComponents(state).length !== state.components.length) return undefined;
  const pki = pkiPaths(join(state.dataDir, 'pki'));
  try {
    const tls = { ca: await readFile(pki.caCert), cert: await readFile(pki.adminCert), key: await readFile(pki.adminKey) };
    if ((await get(`${state.server}/readyz`, tls)).status !== 200) return undefined;
  } catch {
    return undefined;
  }
  return new ControlPlaneHandle(state, pki, {
    owned: false,
    readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
    onProgress: options.onProgress ?? ((): void => undefined),
  });
}

export interface ComponentStatus {
  name: ComponentName;
  pid: number;
  alive: boolean;
  logPath: string;
}

export interface ControlPlaneStatus {
  state: ControlPlaneState | undefined;
  components: ComponentStatus[];
  apiServerReady: boolean;
}

/** What runs in dataDir, for `mesh dev status`. */
export async function controlPlaneStatus(dataDir: string): Promise<ControlPlaneStatus> {
  const state = await readState(resolve(dataDir));
  if (state === undefined) return { state, components: [], apiServerReady: false };
  const components = state.components.map((component) => ({
    name: component.name,
    pid: component.pid,
    alive: processRuns(component.pid, component.binary),
    logPath: component.logPath,
  }));
  let apiServerReady = false;
  try {
    const pki = pkiPaths(join(state.dataDir, 'pki'));
    const tls = { ca: await readFile(pki.caCert), cert: await readFile(pki.adminCert), key: await readFile(pki.adminKey) };
    apiServerReady = (await get(`${state.server}/readyz`, tls)).status === 200;
  } catch {
    apiServerReady = false;
  }
  return { state, components, apiServerReady };
}

/**
 * Stops whatever state.json in dataDir records (also half-started or half-dead control
 * planes) and marks it stopped. Returns one entry per recorded component.
 */
export async function stopControlPlane(dataDir: string, onProgress: (message: string) => void = () => undefined): Promise<StoppedComponent[]> {
  const state = await readState(resolve(dataDir));
  if (state === undefined) return [];
  const stopped = await stopComponents(state, onProgress);
  await writeState({ ...state, running: false });
  return stopped;
}

/** Every component name, in start order. */
export const CONTROL_PLANE_COMPONENTS = COMPONENT_NAMES;

/** Where `binary` would be cached, re-exported for callers that print paths. */
export { binaryPath };

/**
 * Stops control planes left behind in `parentDir/<prefix>*` by owners that died without
 * stopping them (a test run killed with SIGKILL); with removeDirs, deletes those directories
 * too. Control planes started detached (`mesh dev up`) or whose owner still runs are left alone.
 */
export async function reapOrphanedControlPlanes(
  parentDir: string,
  prefix: string,
  options: { removeDirs?: boolean; onProgress?: (message: string) => void } = {},
): Promise<string[]> {
  const reaped: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(parentDir);
  } catch {
    return reaped;
  }
  for (const entry of entries.filter((name) => name.startsWith(prefix))) {
    const dir = join(parentDir, entry);
    const state = await readState(dir).catch(() => undefined);
    if (state === undefined || state.detached || isProcessAlive(state.ownerPid)) continue;
    if (state.running || liveComponents(state).length > 0) {
      const stopped = await stopControlPlane(dir);
      const killed = stopped.filter((component) => component.result !== 'not-running');
      if (killed.length > 0) options.onProgress?.(`Stopped ${killed.length} orphaned component(s) of the control plane in ${dir}`);
    }
    if (options.removeDirs === true) await rm(dir, { recursive: true, force: true });
    reaped.push(dir);
  }
  return reaped;
}
