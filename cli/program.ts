// The `mesh` command: one file per subcommand group under cli/commands/, registered here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { projectRoot } from '../test/harness/paths.js';
import { registerDevCommands } from './commands/dev.js';
import { registerDevStartCommand } from './commands/start.js';
import { registerLogCommand } from './commands/log.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerApprovalCommands } from './commands/approvals.js';
import { registerDriftCommand } from './commands/drift.js';
import { registerProposeCommand } from './commands/propose.js';
import { registerVoteCommand } from './commands/vote.js';
import { registerProposalsCommand } from './commands/proposals.js';
import { registerForecastCommand } from './commands/forecast.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerDiscoverCommand } from './commands/discover.js';
import { registerStatusCommand } from './commands/status.js';
import { registerDeployCommand } from './commands/deploy.js';
import { registerTopCommand } from './commands/top.js';
import { registerCompletionCommand } from './completion.js';
import { registerIncidentsCommand } from './commands/incidents.js';
import { SilentExit, UsageError, type CliIo } from './io.js';
import { describeError } from './kube.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** `kubectl mesh` when run as a kubectl plugin (the executable is named kubectl-mesh), else `mesh`. */
export function invokedName(argv1: string | undefined = process.argv[1]): string {
  return argv1 !== undefined && /(^|[/\\])kubectl-mesh(\.[cm]?js)?$/.test(argv1) ? 'kubectl mesh' : 'mesh';
}

/** True when run as `kubectl_complete-mesh`, the completer kubectl (1.26+) looks for beside a plugin. */
export function isKubectlCompleter(argv1: string | undefined = process.argv[1]): boolean {
  return argv1 !== undefined && /(^|[/\\])kubectl_complete-mesh(\.[cm]?js)?$/.test(argv1);
}

/** Builds the program. Each command group registers itself; add new groups here. */
export function createProgram(io: CliIo): Command {
  const program = new Command('mesh')
    .description('Mesh OS: an operating system for AI agents on Kubernetes')
    .usage('[command] [options]')
    .version(packageVersion())
    .showHelpAfterError()
    .addHelpText(
      'after',
      '\nCommon options of cluster commands: --kubeconfig, --context, -n/--namespace, -A/--all-namespaces, -o table|wide|json|yaml.\nExit codes: 0 ok, 1 failure, 2 usage error. NO_COLOR disables colour.\n\nExamples:\n  mesh status\n  mesh deploy -f samples/agents.yaml\n  mesh top\n  kubectl mesh log -n meshos-demo   # as a kubectl plugin',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  // Command groups (cli/commands/<group>.ts), one call each.
  const dev = registerDevCommands(program, io);
  // `mesh dev start` (control plane + operator + samples) is owned by the operator team:
  registerDevStartCommand(dev, io);
  registerLogCommand(program, io);
  registerPolicyCommands(program, io);
  registerApprovalCommands(program, io);
  registerDriftCommand(program, io);
  registerProposeCommand(program, io);
  registerVoteCommand(program, io);
  registerProposalsCommand(program, io);
  registerForecastCommand(program, io);
  registerPlanCommand(program, io);
  registerDiscoverCommand(program, io);
  registerStatusCommand(program, io);
  registerDeployCommand(program, io);
  registerTopCommand(program, io);
  registerCompletionCommand(program, io);
  registerIncidentsCommand(program, io);

  return program;
}

/** Runs `mesh` with argv (without node and script) and returns the exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const program = createProgram(io);
  program.name(invokedName());
  // kubectl's plugin completion runs `kubectl_complete-mesh <words...>`: answer as `mesh __complete`.
  const argv = isKubectlCompleter() ? ['__complete', ...args] : [...args];
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
      return EXIT_USAGE;
    }
    if (error instanceof SilentExit) return error.exitCode;
    if (error instanceof UsageError) {
      io.stderr.write(`mesh: ${error.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr.write(`mesh: ${describeError(error)}\n`);
    if (process.env['MESHOS_VERBOSE'] !== undefined && error instanceof Error && error.stack !== undefined) io.stderr.write(`${error.stack}\n`);
    return EXIT_FAILURE;
  }
}
