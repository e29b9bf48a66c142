import { InvalidArgumentError } from 'commander';

/** Where a command writes: results to stdout, progress and errors to stderr. */
export interface CliIo {
  stdout: Pick<NodeJS.WritableStream, 'write'>;
  stderr: Pick<NodeJS.WritableStream, 'write'>;
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

/** Bad arguments: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Option parser for a non-negative integer; commander reports a bad value as a usage error. */
export function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('Expected a non-negative integer.');
  return Number(value);
}

/** Ends the command with an exit code after it has already printed what it had to say. */
export class SilentExit extends Error {
  override name = 'SilentExit';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
