// Loads the contracts' ABI and bytecode: ours from governance/contracts/artifacts (built by
// solc-js), the ERC-1056 DID registry from the ethr-did-registry package.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InterfaceAbi } from 'ethers';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export interface Artifact {
  abi: InterfaceAbi;
  bytecode: string;
}

export type OwnContract = 'MeshGovernanceAnchor' | 'BenchGovernor' | 'BenchVotesToken';

export function ownArtifact(name: OwnContract): Artifact {
  const artifact = JSON.parse(readFileSync(join(here, '../contracts/artifacts', `${name}.json`), 'utf8')) as Artifact;
  return { abi: artifact.abi, bytecode: artifact.bytecode };
}

export function didRegistryArtifact(): Artifact {
  // The package exports no package.json; its main is dist/index.js.
  const root = join(dirname(require.resolve('ethr-did-registry')), '..');
  const artifact = JSON.parse(readFileSync(join(root, 'artifacts/contracts/EthereumDIDRegistry.sol/EthereumDIDRegistry.json'), 'utf8')) as Artifact;
  return { abi: artifact.abi, bytecode: artifact.bytecode };
}
