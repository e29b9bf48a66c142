// `dataDir/state.json`: what a control plane runs, so another process (`mesh dev down`, a
// test worker) can find, check and stop it.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const STATE_FILE = 'state.json';
export const STATE_VERSION = 1;

/** Start order; stop goes in reverse. */
export const COMPONENT_NAMES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];

export interface ControlPlanePorts {
  etcdClient: number;
  etcdPeer: number;
  apiServer: number;
  /** Secure (healthz) port of kube-controller-manager, when it runs. */
  controllerManager?: number;
  /** Secure (healthz) port of kube-scheduler, when it runs. */
  scheduler?: number;
}

export interface ComponentState {
  name: ComponentName;
  pid: number;
  /** Absolute path of the executable; checked against /proc before signalling the pid. */
  binary: string;
  args: string[];
  logPath: string;
  startedAt: string;
}

export interface ControlPlaneState {
  version: typeof STATE_VERSION;
  dataDir: string;
  kubeconfigPath: string;
  /** kubectl of the same release, for callers that only have the data dir. */
  kubectlPath: string;
  server: string;
  ports: ControlPlanePorts;
  versions: { kubernetes: string; etcd: string; kwok: string };
  /** The process that started the control plane. */
  ownerPid: number;
  /** True when the components outlive their owner (`mesh dev up`). */
  detached: boolean;
  /** False once stop() ran; the file stays so the next start can reuse the ports. */
  running: boolean;
  createdAt: string;
  updatedAt: string;
  /** Components in start order. */
  components: ComponentState[];
}

export class StateFileError extends Error {
  override name = 'StateFileError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireField<T>(record: Record<string, unknown>, field: string, check: (value: unknown) => value is T, where: string): T {
  const value = record[field];
  if (!check(value)) throw new StateFileError(`${where}.${field} is missing or has the wrong type`);
  return value;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean';
const isPort = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65536;
const isPid = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0;
const isComponentName = (value: unknown): value is ComponentName => (COMPONENT_NAMES as readonly unknown[]).includes(value);
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);

/** Parses and validates state.json; throws StateFileError naming the bad field. */
export function parseState(text: string): ControlPlaneState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new StateFileError(`state.json is not JSON: ${(error as Error).message}`);
  }
  if (!isRecord(raw)) throw new StateFileError('state.json is not an object');
  if (raw['version'] !== STATE_VERSION) throw new StateFileError(`state.json has version ${String(raw['version'])}, expected ${STATE_VERSION}`);
  const portsRaw = requireField(raw, 'ports', isRecord, 'state');
  const ports: ControlPlanePorts = {
    etcdClient: requireField(portsRaw, 'etcdClient', isPort, 'state.ports'),
    etcdPeer: requireField(portsRaw, 'etcdPeer', isPort, 'state.ports'),
    apiServer: requireField(portsRaw, 'apiServer', isPort, 'state.ports'),
  };
  if (portsRaw['controllerManager'] !== undefined) ports.controllerManager = requireField(portsRaw, 'controllerManager', isPort, 'state.ports');
  if (portsRaw['scheduler'] !== undefined) ports.scheduler = requireField(portsRaw, 'scheduler', isPort, 'state.ports');
  const versionsRaw = requireField(raw, 'versions', isRecord, 'state');
  const componentsRaw = requireField(raw, 'components', Array.isArray, 'state') as unknown[];
  const components = componentsRaw.map((entry, index): ComponentState => {
    const where = `state.components[${index}]`;
    if (!isRecord(entry)) throw new StateFileError(`${where} is not an object`);
    return {
      name: requireField(entry, 'name', isComponentName, where),
      pid: requireField(entry, 'pid', isPid, where),
      binary: requireField(entry, 'binary', isString, where),
      args: requireField(entry, 'args', isStringArray, where),
      logPath: requireField(entry, 'logPath', isString, where),
      startedAt: requireField(entry, 'startedAt', isString, where),
    };
  });
  return {
    version: STATE_VERSION,
    dataDir: requireField(raw, 'dataDir', isString, 'state'),
    kubeconfigPath: requireField(raw, 'kubeconfigPath', isString, 'state'),
    kubectlPath: requireField(raw, 'kubectlPath', isString, 'state'),
    server: requireField(raw, 'server', isString, 'state'),
    ports,
    versions: {
      kubernetes: requireField(versionsRaw, 'kubernetes', isString, 'state.versions'),
      etcd: requireField(versionsRaw, 'etcd', isString, 'state.versions'),
      kwok: requireField(versionsRaw, 'kwok', isString, 'state.versions'),
    },
    ownerPid: requireField(raw, 'ownerPid', isPid, 'state'),
    detached: requireField(raw, 'detached', isBoolean, 'state'),
    running: requireField(raw, 'running', isBoolean, 'state'),
    createdAt: requireField(raw, 'createdAt', isString, 'state'),
    updatedAt: requireField(raw, 'updatedAt', isString, 'state'),
    components,
  };
}

export function serializeState(state: ControlPlaneState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

export function statePath(dataDir: string): string {
  return join(dataDir, STATE_FILE);
}

/** Reads state.json; undefined when there is none. A corrupt file throws StateFileError. */
export async function readState(dataDir: string): Promise<ControlPlaneState | undefined> {
  let text: string;
  try {
    text = await readFile(statePath(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseState(text);
}

/** Writes state.json atomically (write + rename), stamping updatedAt. */
export async function writeState(state: ControlPlaneState): Promise<void> {
  await mkdir(state.dataDir, { recursive: true });
  const path = statePath(state.dataDir);
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, serializeState({ ...state, updatedAt: new Date().toISOString() }));
  await rename(temporary, path);
}

/** Replaces (or appends) one component's entry, keeping start order. */
export function withComponent(state: ControlPlaneState, component: ComponentState): ControlPlaneState {
  const others = state.components.filter((entry) => entry.name !== component.name);
  const components = [...others, component].sort((a, b) => COMPONENT_NAMES.indexOf(a.name) - COMPONENT_NAMES.indexOf(b.name));
  return { ...state, components };
}
