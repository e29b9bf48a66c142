// The Merkle tree of a Proposal's accepted ballots, in @openzeppelin/merkle-tree's standard
// form (double-hashed abi-encoded leaves, sorted pairs), which OpenZeppelin's MerkleProof
// verifies on chain. Anyone holding the published ballots can rebuild the tree and check a
// ballot against the root recorded by the anchor contract.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { ZeroHash } from 'ethers';
import { ballotDigest, choiceCode, type SignedBallot } from './ballot.js';

export const LEAF_TYPES = ['address', 'uint256', 'uint8', 'bytes32'] as const;
export type BallotLeaf = [voter: string, nonce: string, choice: number, digest: string];

export function ballotLeaf(ballot: SignedBallot): BallotLeaf {
  return [ballot.voter, String(ballot.nonce), choiceCode(ballot.choice), ballotDigest(ballot)];
}

export interface BallotTree {
  /** bytes32; the zero hash when there are no ballots. */
  root: string;
  leaves: BallotLeaf[];
  proof(index: number): string[];
}

export function ballotTree(ballots: readonly SignedBallot[]): BallotTree {
  const leaves = ballots.map(ballotLeaf);
  if (leaves.length === 0) return { root: ZeroHash, leaves, proof: () => [] };
  const tree = StandardMerkleTree.of(leaves, [...LEAF_TYPES]);
  return { root: tree.root, leaves, proof: (index) => tree.getProof(index) };
}

/** Checks one ballot's inclusion under a root, as anyone can off chain. */
export function verifyInclusion(root: string, ballot: SignedBallot, proof: readonly string[]): boolean {
  return StandardMerkleTree.verify(root, [...LEAF_TYPES], ballotLeaf(ballot), [...proof]);
}
