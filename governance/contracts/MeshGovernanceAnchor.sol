// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title Mesh OS governance anchor
/// @notice Records, per Proposal (keyed by its content hash), the Merkle root of the accepted
/// ballots, the tally and the outcome. Storage is fixed-size per Proposal, so anchoring costs
/// the same gas whatever the number of voters. Anchoring is idempotent: the same record again
/// is a no-op; a different record for an anchored Proposal is refused.
contract MeshGovernanceAnchor {
    /// @dev Outcome codes: 1 Approved, 2 Rejected, 3 Vetoed, 4 Expired.
    struct Tally {
        uint64 humanFor;      // weights scaled by 1e4
        uint64 humanAgainst;
        uint64 humanAbstain;
        uint64 aiFor;
        uint64 aiAgainst;
        uint64 aiAbstain;
        uint32 approvalBps;   // weighted approval, basis points (10000 = 100%)
        uint32 ballots;       // accepted ballots in the tree
        uint8 outcome;
    }

    struct Anchor {
        bytes32 ballotsRoot;
        Tally tally;
        uint64 anchoredAt;
    }

    address public immutable owner;
    mapping(bytes32 contentHash => Anchor) private anchors;

    event ProposalAnchored(bytes32 indexed contentHash, bytes32 ballotsRoot, uint8 outcome, uint32 approvalBps, uint32 ballots);

    error NotOwner(address caller);
    error InvalidOutcome(uint8 outcome);
    error ConflictingAnchor(bytes32 contentHash);

    constructor() {
        owner = msg.sender;
    }

    /// @notice Records a Proposal's result once. Returns false (and emits nothing) when the same
    /// record is already there, so a retried transaction after a restart is harmless.
    function anchor(bytes32 contentHash, bytes32 ballotsRoot, Tally calldata tally) external returns (bool) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (tally.outcome == 0 || tally.outcome > 4) revert InvalidOutcome(tally.outcome);
        Anchor storage existing = anchors[contentHash];
        if (existing.anchoredAt != 0) {
            if (existing.ballotsRoot == ballotsRoot && keccak256(abi.encode(existing.tally)) == keccak256(abi.encode(tally))) return false;
            revert ConflictingAnchor(contentHash);
        }
        anchors[contentHash] = Anchor({ballotsRoot: ballotsRoot, tally: tally, anchoredAt: uint64(block.timestamp)});
        emit ProposalAnchored(contentHash, ballotsRoot, tally.outcome, tally.approvalBps, tally.ballots);
        return true;
    }

    function anchorOf(bytes32 contentHash) external view returns (bytes32 ballotsRoot, Tally memory tally, uint64 anchoredAt) {
        Anchor storage a = anchors[contentHash];
        return (a.ballotsRoot, a.tally, a.anchoredAt);
    }

    /// @notice Whether a ballot (voter, nonce, choice, EIP-712 digest) is among the anchored
    /// ballots of a Proposal; leaves are OpenZeppelin merkle-tree standard leaves.
    function verifyBallot(bytes32 contentHash, address voter, uint256 nonce, uint8 choice, bytes32 digest, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(voter, nonce, choice, digest))));
        return MerkleProof.verifyCalldata(proof, anchors[contentHash].ballotsRoot, leaf);
    }
}
