// A local EVM chain for development and tests: Hardhat 2's `hardhat node`, bound to 127.0.0.1
// (it binds 0.0.0.0 unless told otherwise), chain id 31337, accounts from Hardhat's public
// test mnemonic. Production configures any JSON-RPC URL instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const DEV_CHAIN_ID = 31337;
/** Hardhat's first test account (publicly known: development only). */
export const DEV_DEPLOYER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
/** Further Hardhat test accounts, for development voters. */
export const DEV_ACCOUNT_KEYS = [
  DEV_DEPLOYER_KEY,
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
] as const;

export interface DevChain {
  rpcUrl: string;
  chainId: number;
  pid: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function chainIdAt(rpcUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(2000),
    });
    const body = (await response.json()) as { result?: string };
    return body.result ? Number(body.result) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `hardhat node` on 127.0.0.1 and resolves once it answers JSON-RPC. */
export async function startDevChain(options: { port?: number; timeoutMs?: number; onLog?: (line: string) => void } = {}): Promise<DevChain> {
  const port = options.port ?? (await freePort());
  const rpcUrl = `http://127.0.0.1:${port}`;
  const hardhatRoot = dirname(require.resolve('hardhat/package.json'));
  const child: ChildProcess = spawn(
    process.execPath,
    [join(hardhatRoot, 'internal/cli/bootstrap.js'), 'node', '--hostname', '127.0.0.1', '--port', String(port), '--config', join(here, 'hardhat.config.cjs')],
    {
      // Hardhat insists on being run from inside the project that installed it.
      cwd: resolve(here, '../..'),
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', DO_NOT_TRACK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString();
    if (output.length < 20_000) output += text;
    if (options.onLog) for (const line of text.split('\n')) if (line.trim()) options.onLog(line);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // The chain must not outlive its parent (a crashed operator or an interrupted benchmark).
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      process.off('exit', killOnExit);
      done();
    }),
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited with code ${child.exitCode}: ${output.slice(-2000)}`);
    const chainId = await chainIdAt(rpcUrl);
    if (chainId !== undefined) return { rpcUrl, chainId, pid: child.pid ?? 0, stop };
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`hardhat node did not answer on ${rpcUrl} within ${options.timeoutMs ?? 60_000} ms: ${output.slice(-2000)}`);
}
