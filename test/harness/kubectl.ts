import { spawn } from 'node:child_process';

/** Runs kubectl against one cluster; resolves with stdout, rejects with KubectlError. */
export type Kubectl = (args: readonly string[], stdin?: string) => Promise<string>;

export class KubectlError extends Error {
  override name = 'KubectlError';
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`kubectl ${args.join(' ')} failed (exit ${String(exitCode)}): ${stderr.trim()}`);
  }
}

/** A Kubectl bound to a kubeconfig (KUBECONFIG in the environment is ignored). */
export function createKubectl(kubectlPath: string, kubeconfigPath: string): Kubectl {
  return (args, stdin) =>
    new Promise((resolve, reject) => {
      const fullArgs = ['--kubeconfig', kubeconfigPath, ...args];
      const child = spawn(kubectlPath, fullArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
        else reject(new KubectlError(args, code, Buffer.concat(stderr).toString('utf8')));
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin ?? '');
    });
}
