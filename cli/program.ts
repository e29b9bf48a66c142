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
import { registerIncidentsCommand } from './commands/incidents.js';
import { SilentExit, UsageError, type CliIo } from './io.js';

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

/** Builds the program. Each command group registers itself; add new groups here. */
export function createProgram(io: CliIo): Command {
  const program = new Command('mesh')
    .description('Mesh OS: an operating system for AI agents on Kubernetes')
    .version(packageVersion())
    .showHelpAfterError()
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
  registerIncidentsCommand(program, io);

  return program;
}

/** Runs `mesh` with argv (without node and script) and returns the exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...args], { from: 'user' });
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
    io.stderr.write(`mesh: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env['MESHOS_VERBOSE'] !== undefined && error instanceof Error && error.stack !== undefined) io.stderr.write(`${error.stack}\n`);
    return EXIT_FAILURE;
  }
}
