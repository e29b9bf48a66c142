// Compiles the governance contracts with solc-js (the `solc` npm package; never a downloaded
// compiler) and writes ABI + bytecode to `artifacts/`. `--check` only verifies that the
// committed artifacts were built from the current sources (CI runs it through the unit test).
//   npx tsx governance/contracts/compile.ts [--check]
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS_DIR = join(here, 'artifacts');
/** OpenZeppelin 5.x uses `mcopy`, so the EVM target must be Cancun or later. */
const EVM_VERSION = 'cancun';

interface SolcOutput {
  errors?: Array<{ severity: string; formattedMessage: string }>;
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
}

export interface ContractArtifact {
  contractName: string;
  sourceName: string;
  abi: unknown[];
  bytecode: string;
  solcVersion: string;
  /** sha256 of the project's sources, the OpenZeppelin version and the solc version. */
  sourceHash: string;
}

function ownSources(): Record<string, string> {
  const sources: Record<string, string> = {};
  for (const file of readdirSync(here).filter((f) => f.endsWith('.sol')).sort()) sources[file] = readFileSync(join(here, file), 'utf8');
  return sources;
}

export function sourceHash(): string {
  const hash = createHash('sha256');
  for (const [name, text] of Object.entries(ownSources())) hash.update(`${name}\0${text}\0`);
  hash.update((require('@openzeppelin/contracts/package.json') as { version: string }).version);
  hash.update((require('solc/package.json') as { version: string }).version);
  return hash.digest('hex');
}

export function compileContracts(): ContractArtifact[] {
  const solc = require('solc') as { compile(input: string, options: { import(path: string): { contents: string } | { error: string } }): string; version(): string };
  const sources = Object.fromEntries(Object.entries(ownSources()).map(([name, content]) => [name, { content }]));
  const input = {
    language: 'Solidity',
    sources,
    settings: { evmVersion: EVM_VERSION, optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
  };
  const findImport = (path: string): { contents: string } | { error: string } => {
    try {
      return { contents: readFileSync(require.resolve(path), 'utf8') };
    } catch {
      return { error: `import not found: ${path}` };
    }
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  const hash = sourceHash();
  const artifacts: ContractArtifact[] = [];
  for (const sourceName of Object.keys(sources)) {
    for (const [contractName, contract] of Object.entries(output.contracts[sourceName] ?? {})) {
      artifacts.push({ contractName, sourceName, abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}`, solcVersion: solc.version(), sourceHash: hash });
    }
  }
  return artifacts;
}

/** Names of artifacts that are missing or were built from other sources. */
export function staleArtifacts(): string[] {
  const expected = sourceHash();
  const stale: string[] = [];
  for (const name of ['MeshGovernanceAnchor', 'BenchGovernor', 'BenchVotesToken']) {
    try {
      const artifact = JSON.parse(readFileSync(join(ARTIFACTS_DIR, `${name}.json`), 'utf8')) as ContractArtifact;
      if (artifact.sourceHash !== expected) stale.push(name);
    } catch {
      stale.push(name);
    }
  }
  return stale;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const stale = staleArtifacts();
    if (stale.length > 0) {
      process.stderr.write(`governance contracts: artifacts out of date (${stale.join(', ')}); run npx tsx governance/contracts/compile.ts\n`);
      process.exit(1);
    }
    process.stdout.write('governance contracts: artifacts up to date\n');
  } else {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    for (const artifact of compileContracts()) {
      writeFileSync(join(ARTIFACTS_DIR, `${artifact.contractName}.json`), `${JSON.stringify(artifact, null, 2)}\n`);
      process.stdout.write(`Compiled ${artifact.sourceName}:${artifact.contractName} (${(artifact.bytecode.length - 2) / 2} bytes)\n`);
    }
  }
}
