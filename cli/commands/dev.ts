// `mesh dev up|down|status`: the local control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok) on 127.0.0.1, running in the background.
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  controlPlaneStatus,
  createKwokNodes,
  installCrds,
  reuseControlPlane,
  startControlPlane,
  stopControlPlane,
  type ControlPlane,
} from '../../test/harness/control-plane.js';
import { defaultCrdDir, defaultDevDir } from '../../test/harness/paths.js';
import { readState, StateFileError } from '../../test/harness/state.js';
import { parseCount, SilentExit, type CliIo } from '../io.js';
import { colorEnabled, outputOption, paint, renderTable, serialize, toneOf, type OutputFormat } from '../output.js';

export const DEFAULT_NODE_COUNT = 4;

export interface DevUpOptions {
  dataDir?: string;
  nodes: number;
  /** Directory of CRD manifests; false skips installing them. */
  crds: string | false;
}

export interface DevUpResult {
  plane: ControlPlane;
  reused: boolean;
  nodes: string[];
  crds: string[];
}

/**
 * Starts the local control plane in the background, or reuses the one already running in the
 * data dir; installs the CRDs and creates the kwok nodes (both idempotent). The components
 * keep running after this process exits. Progress goes to io.stderr.
 *
 * `mesh dev start` builds on this: call devUp(), then start the operator and apply samples.
 */
export async function devUp(options: DevUpOptions, io: CliIo): Promise<DevUpResult> {
  const dataDir = resolve(options.dataDir ?? defaultDevDir());
  const progress = (message: string): void => void io.stderr.write(`${message}\n`);

  let plane = await reuseControlPlane(dataDir, { onProgress: progress });
  const reused = plane !== undefined;
  if (plane !== undefined) {
    progress(`Reusing the control plane in ${dataDir} (${plane.server})`);
  } else {
    // Remnants of a control plane that is not healthy (a component died): clear them first.
    try {
      const leftovers = (await stopControlPlane(dataDir, progress)).filter((component) => component.result !== 'not-running');
      if (leftovers.length > 0) progress(`Stopped ${leftovers.length} leftover component(s) of an unhealthy control plane`);
    } catch (error) {
      if (!(error instanceof StateFileError)) throw error;
      progress(`Ignoring an unreadable ${join(dataDir, 'state.json')} (${error.message}); its processes, if any, were not stopped`);
    }
    progress(`Starting a control plane in ${dataDir}`);
    plane = await startControlPlane({
      dataDir,
      components: { controllerManager: true, scheduler: true, kwok: true },
      detached: true,
      onProgress: progress,
    });
  }

  let crds: string[] = [];
  if (options.crds !== false) {
    crds = await installCrds(plane.kubectl, options.crds);
    progress(`CRDs established: ${crds.join(', ')}`);
  }
  const nodes = await createKwokNodes(plane.kubectl, options.nodes);
  if (nodes.length > 0) progress(`kwok nodes Ready: ${nodes.join(', ')}`);
  return { plane, reused, nodes, crds };
}

/** Stops the control plane of the data dir; optionally deletes the data dir. */
export async function devDown(options: { dataDir?: string; purge?: boolean }, io: CliIo): Promise<void> {
  const dataDir = resolve(options.dataDir ?? defaultDevDir());
  const state = await readState(dataDir);
  const stopped = state === undefined ? [] : await stopControlPlane(dataDir);
  const wasRunning = stopped.filter((component) => component.result !== 'not-running');
  if (wasRunning.length === 0) io.stdout.write(`No control plane was running in ${dataDir}\n`);
  for (const component of wasRunning) {
    io.stdout.write(`Stopped ${component.name} (pid ${component.pid})${component.result === 'killed' ? ' with SIGKILL after the grace period' : ''}\n`);
  }
  if (options.purge === true) {
    await rm(dataDir, { recursive: true, force: true });
    io.stdout.write(`Deleted ${dataDir}\n`);
  }
}

/** Prints the components and API server health; returns true when everything runs. */
export async function devStatus(options: { dataDir?: string; output?: OutputFormat }, io: CliIo): Promise<boolean> {
  const dataDir = resolve(options.dataDir ?? defaultDevDir());
  const status = await controlPlaneStatus(dataDir);
  const format = options.output ?? 'table';
  if (status.state === undefined) {
    if (format === 'json' || format === 'yaml') io.stdout.write(serialize({ dataDir, state: 'absent', components: [] }, format));
    else io.stdout.write(`No control plane in ${dataDir} (start one with: mesh dev up)\n`);
    return false;
  }
  const allAlive = status.components.length > 0 && status.components.every((component) => component.alive);
  const healthy = allAlive && status.apiServerReady;
  const summary = healthy ? 'running' : status.components.some((component) => component.alive) ? 'degraded' : 'stopped';
  if (format === 'json' || format === 'yaml') {
    io.stdout.write(
      serialize(
        {
          dataDir,
          state: summary,
          server: status.state.server,
          apiServerReady: status.apiServerReady,
          kubeconfig: status.state.kubeconfigPath,
          versions: status.state.versions,
          components: status.components.map((c) => ({ name: c.name, pid: c.pid, running: c.alive, log: c.logPath })),
        },
        format,
      ),
    );
    return healthy;
  }
  const color = colorEnabled(io.stdout);
  const out: string[] = [
    `Control plane in ${dataDir}: ${paint(summary, summary === 'running' ? 'good' : 'bad', color)}`,
    `API server:  ${status.state.server} (${status.apiServerReady ? 'ready' : 'not ready'})`,
    `Kubeconfig:  ${status.state.kubeconfigPath}`,
    `Versions:    kubernetes ${status.state.versions.kubernetes}, etcd ${status.state.versions.etcd}, kwok ${status.state.versions.kwok}`,
    '',
  ];
  const rows = status.components.map((c) => ({ name: c.name, pid: String(c.pid), state: c.alive ? 'running' : 'exited', log: c.logPath }));
  const table = renderTable(
    rows,
    [
      { header: 'COMPONENT', value: (r) => r.name },
      { header: 'PID', value: (r) => r.pid },
      { header: 'STATE', value: (r) => r.state, tone: (r) => (r.state === 'running' ? toneOf('running') : 'bad') },
      { header: 'LOG', value: (r) => r.log },
    ],
    { color },
  );
  io.stdout.write(`${out.join('\n')}\n${table}`);
  return healthy;
}

interface UpFlags {
  dataDir?: string;
  nodes: number;
  crds: string | boolean;
}

/** Registers `mesh dev` and its subcommands; returns the `dev` command so others can add to it. */
export function registerDevCommands(program: Command, io: CliIo): Command {
  const dev = program
    .command('dev')
    .description('Run a local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) on 127.0.0.1')
    .addHelpText('after', '\nExample:\n  eval "$(mesh dev up)" && kubectl get nodes && mesh dev down');

  dev
    .command('up')
    .description('Start (or reuse) the local control plane in the background, install the CRDs and create kwok nodes; prints `export KUBECONFIG=...` last')
    .option('--data-dir <dir>', 'data directory (default: $MESHOS_DEV_DIR or ~/.meshos/dev)')
    .option('--nodes <n>', 'number of kwok nodes to ensure', parseCount, DEFAULT_NODE_COUNT)
    .option('--crds <dir>', 'directory of CRD manifests (default: crds/generated)')
    .option('--no-crds', 'do not install the CRDs')
    .addHelpText('after', '\nExample:\n  eval "$(mesh dev up --nodes 8)"')
    .action(async (flags: UpFlags) => {
      const crds = flags.crds === false ? false : typeof flags.crds === 'string' ? flags.crds : defaultCrdDir();
      const { plane } = await devUp({ ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}), nodes: flags.nodes, crds }, io);
      io.stderr.write(`Control plane ready: ${plane.server}. Stop it with: mesh dev down\n`);
      // The last line on stdout, so `eval "$(mesh dev up)"` works.
      io.stdout.write(`export KUBECONFIG=${plane.kubeconfigPath}\n`);
    });

  dev
    .command('down')
    .description('Stop the local control plane started by `mesh dev up`')
    .option('--data-dir <dir>', 'data directory (default: $MESHOS_DEV_DIR or ~/.meshos/dev)')
    .option('--purge', 'also delete the data directory (etcd data, certificates, logs)')
    .addHelpText('after', '\nExample:\n  mesh dev down --purge')
    .action(async (flags: { dataDir?: string; purge?: boolean }) => {
      await devDown(flags, io);
    });

  dev
    .command('status')
    .description('Show the local control plane: component pids and API server health (exit 1 unless all run)')
    .option('--data-dir <dir>', 'data directory (default: $MESHOS_DEV_DIR or ~/.meshos/dev)')
    .addOption(outputOption(['table', 'json', 'yaml']))
    .addHelpText('after', '\nExample:\n  mesh dev status -o json')
    .action(async (flags: { dataDir?: string; output: OutputFormat }) => {
      if (!(await devStatus(flags, io))) throw new SilentExit(1);
    });

  // `mesh dev start` (control plane + operator + samples) lives in cli/commands/start.ts,
  // registered on the command returned here; it can reuse devUp() above.
  return dev;
}
