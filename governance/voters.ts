// The Mesh's voter registry: who may sign ballots and with what weight.
import type { Mesh } from '../crds/types.js';

export interface RegisteredVoter {
  /** The id as written in the Mesh (address or DID). */
  id: string;
  /** Lower-case EVM address that signs this voter's ballots. */
  address: string;
  group: 'council' | 'technical-committee' | 'community';
  weight: number;
  displayName?: string;
}

export class VoterRegistryError extends Error {
  override readonly name = 'VoterRegistryError';
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * The EVM address behind a voter id: an address itself, `did:ethr:[network:]0x...` or
 * `did:pkh:eip155:<chain>:0x...`. Other DIDs cannot sign EIP-712 ballots, so they are refused.
 */
export function voterAddress(id: string): string {
  if (ADDRESS.test(id)) return id.toLowerCase();
  const parts = id.split(':');
  const last = parts[parts.length - 1] ?? '';
  if (parts[0] === 'did' && (parts[1] === 'ethr' || (parts[1] === 'pkh' && parts[2] === 'eip155')) && ADDRESS.test(last)) return last.toLowerCase();
  throw new VoterRegistryError(`spec.governance.voters: id "${id}" must be an EVM address, did:ethr:<address> or did:pkh:eip155:<chain>:<address> to sign ballots`);
}

export function voterRegistry(mesh: Mesh): Map<string, RegisteredVoter> {
  const registry = new Map<string, RegisteredVoter>();
  for (const voter of mesh.spec.governance?.voters ?? []) {
    const address = voterAddress(voter.id);
    if (registry.has(address)) throw new VoterRegistryError(`spec.governance.voters: address ${address} is registered twice (id "${voter.id}")`);
    const entry: RegisteredVoter = { id: voter.id, address, group: voter.group ?? 'community', weight: voter.weight ?? 1 };
    if (voter.displayName !== undefined) entry.displayName = voter.displayName;
    registry.set(address, entry);
  }
  return registry;
}

export function registeredWeight(registry: ReadonlyMap<string, RegisteredVoter>): number {
  let total = 0;
  for (const voter of registry.values()) total += voter.weight;
  return total;
}
