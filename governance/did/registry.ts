// Mesh and Agent identities in the ERC-1056 registry (ethr-did-registry). Each identity is an
// Ethereum account whose key the operator derives from its own signer key and the identity's
// DID (nothing to store, same address after a restart). The identity signs a
// `setAttributeSigned` meta-transaction naming its did:mesh as a `did/svc/MeshOSIdentity`
// service; the operator submits it and pays the gas. Registration is idempotent.
import { Contract, Wallet, concat, encodeBytes32String, getBytes, keccak256, solidityPacked, toUtf8Bytes } from 'ethers';
import type { GovernanceChain } from '../chain/anchor.js';
import { didRegistryArtifact } from '../chain/artifacts.js';

export const MESH_SERVICE_ATTRIBUTE = 'did/svc/MeshOSIdentity';
/** Attribute validity: effectively permanent (about 100 years). */
const VALIDITY_SECONDS = 100n * 365n * 24n * 3600n;

export interface DidRegistration {
  did: string;
  address: string;
  chainId: number;
  registry: string;
  /** did:ethr identifier of the identity on this chain. */
  ethrDid: string;
  txHash?: string;
  blockNumber?: number;
}

/** The identity account of a DID, derived from the operator's key. */
export function identityWallet(operatorKey: string, did: string): Wallet {
  return new Wallet(keccak256(concat([getBytes(operatorKey), toUtf8Bytes(`meshos-identity:${did}`)])));
}

export function ethrDidOf(chainId: number, address: string): string {
  return `did:ethr:0x${chainId.toString(16)}:${address.toLowerCase()}`;
}

/** Registers `did` (a did:mesh) once; returns the identity and, when it wrote, the transaction. */
export async function registerDid(chain: GovernanceChain, operatorKey: string, did: string): Promise<DidRegistration> {
  const identity = identityWallet(operatorKey, did);
  const registry = new Contract(chain.registryAddress, didRegistryArtifact().abi, chain.wallet);
  const base: DidRegistration = { did, address: identity.address.toLowerCase(), chainId: chain.chainId, registry: chain.registryAddress, ethrDid: ethrDidOf(chain.chainId, identity.address) };
  const changed = (await registry.getFunction('changed').staticCall(identity.address)) as bigint;
  if (changed !== 0n) return base;
  const name = encodeBytes32String(MESH_SERVICE_ATTRIBUTE);
  const value = toUtf8Bytes(did);
  const nonce = (await registry.getFunction('nonce').staticCall(identity.address)) as bigint;
  const hash = keccak256(
    solidityPacked(['bytes1', 'bytes1', 'address', 'uint256', 'address', 'string', 'bytes32', 'bytes', 'uint256'], ['0x19', '0x00', chain.registryAddress, nonce, identity.address, 'setAttribute', name, value, VALIDITY_SECONDS]),
  );
  const signature = identity.signingKey.sign(hash);
  chain.wallet.reset();
  const tx = (await registry.getFunction('setAttributeSigned')(identity.address, signature.v, signature.r, signature.s, name, value, VALIDITY_SECONDS)) as { hash: string; wait(): Promise<{ blockNumber: number } | null> };
  const receipt = await tx.wait();
  return { ...base, txHash: tx.hash, ...(receipt ? { blockNumber: receipt.blockNumber } : {}) };
}
