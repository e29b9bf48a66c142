// EIP-712 ballots: what a voter signs, and how the operator checks a signature. The domain
// binds a ballot to one chain and one anchor contract; the message binds it to one Proposal's
// content (its hash), one voter and one nonce.
import { TypedDataEncoder, type TypedDataField, getAddress, keccak256, toUtf8Bytes, verifyTypedData, type TypedDataDomain } from 'ethers';
import type { Proposal } from '../crds/types.js';
import { CHOICES, type Choice } from './tally.js';

export const DOMAIN_NAME = 'Mesh OS Governance';
export const DOMAIN_VERSION = '1';
export const MAX_REASON_LENGTH = 1000;

/** EIP-712 types; `choice` uses the Governor encoding: 0 against, 1 for, 2 abstain. */
export const BALLOT_TYPES: Record<string, TypedDataField[]> = {
  Ballot: [
    { name: 'proposal', type: 'string' },
    { name: 'contentHash', type: 'bytes32' },
    { name: 'voter', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'choice', type: 'uint8' },
    { name: 'reason', type: 'string' },
  ],
};

export interface BallotDomain {
  chainId: number;
  /** The anchor contract. */
  verifyingContract: string;
}

export interface BallotMessage {
  /** `<namespace>/<name>` of the Proposal. */
  proposal: string;
  contentHash: string;
  voter: string;
  nonce: number;
  choice: Choice;
  reason: string;
}

/** A ballot as submitted and stored: the message, the domain it was signed for and the signature. */
export interface SignedBallot extends BallotMessage {
  chainId: number;
  verifyingContract: string;
  signature: string;
}

export function choiceCode(choice: Choice): number {
  return CHOICES.indexOf(choice);
}

export function typedDomain(domain: BallotDomain): TypedDataDomain {
  return { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId: domain.chainId, verifyingContract: getAddress(domain.verifyingContract) };
}

export function typedMessage(message: BallotMessage): Record<string, unknown> {
  return {
    proposal: message.proposal,
    contentHash: message.contentHash,
    voter: getAddress(message.voter),
    nonce: message.nonce,
    choice: choiceCode(message.choice),
    reason: message.reason,
  };
}

/** The EIP-712 digest of a ballot (what is signed); also its identity in the Merkle tree. */
export function ballotDigest(ballot: SignedBallot): string {
  return TypedDataEncoder.hash(typedDomain(ballot), BALLOT_TYPES, typedMessage(ballot));
}

/** The full typed data, as a wallet's `eth_signTypedData_v4` takes it. */
export function typedData(domain: BallotDomain, message: BallotMessage): { domain: TypedDataDomain; types: Record<string, unknown>; primaryType: 'Ballot'; message: Record<string, unknown> } {
  return {
    domain: typedDomain(domain),
    types: {
      EIP712Domain: [
        { name: 'name', type: 'string' },
        { name: 'version', type: 'string' },
        { name: 'chainId', type: 'uint256' },
        { name: 'verifyingContract', type: 'address' },
      ],
      ...BALLOT_TYPES,
    },
    primaryType: 'Ballot',
    message: { ...typedMessage(message), nonce: String(message.nonce) },
  };
}

/** The address that signed the ballot; throws when the signature is malformed. */
export function recoverBallotSigner(ballot: SignedBallot): string {
  return verifyTypedData(typedDomain(ballot), BALLOT_TYPES, typedMessage(ballot), ballot.signature).toLowerCase();
}

/** Signs a ballot with a local key (development mode, the CLI, tests, benchmarks). */
export async function signBallot(
  signer: { signTypedData(domain: TypedDataDomain, types: Record<string, Array<{ name: string; type: string }>>, value: Record<string, unknown>): Promise<string> },
  domain: BallotDomain,
  message: BallotMessage,
): Promise<SignedBallot> {
  const signature = await signer.signTypedData(typedDomain(domain), BALLOT_TYPES, typedMessage(message));
  return { ...message, voter: message.voter.toLowerCase(), chainId: domain.chainId, verifyingContract: domain.verifyingContract.toLowerCase(), signature };
}

/** JSON with sorted keys, so that the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * keccak256 of what voters vote on: the Proposal's identity (uid included, so a re-created
 * Proposal of the same name is a different vote) and its immutable spec fields.
 */
export function proposalContentHash(proposal: Proposal): string {
  const { meshRef, title, proposer, critical, change } = proposal.spec;
  const content = {
    uid: proposal.metadata.uid ?? '',
    namespace: proposal.metadata.namespace ?? '',
    name: proposal.metadata.name ?? '',
    meshRef,
    title,
    proposer,
    critical: critical ?? false,
    change,
  };
  return keccak256(toUtf8Bytes(canonicalJson(content)));
}
