// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {AgriTraceKeyRegistry} from "./AgriTraceKeyRegistry.sol";

/// @title AgriTraceAnchor
/// @notice Stores Merkle roots of batches of AgriTrace event hashes so that anyone can check,
///         without trusting AgriTrace's database, that an event existed when its batch was anchored.
/// @dev Only accounts holding {ANCHORER_ROLE} may anchor; the admin ({DEFAULT_ADMIN_ROLE}) grants
///      and revokes that role (AccessControl emits RoleGranted / RoleRevoked). Proofs follow
///      OpenZeppelin's sorted-pair keccak256 convention ({MerkleProof-verifyCalldata}).
///      One storage slot per root keeps an anchor near 47,000 gas.
///      Second role: the signing-key registry ({AgriTraceKeyRegistry}); the admin grants
///      {REGISTRAR_ROLE} to the authority.
contract AgriTraceAnchor is AccessControl, AgriTraceKeyRegistry {
    /// @notice Role allowed to anchor Merkle roots.
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");

    /// @dev Packed into exactly one 32-byte slot: 20 + 5 + 3 + 4 bytes.
    struct Anchor {
        address submitter;
        uint40 timestamp;
        uint24 leafCount;
        uint32 batchId;
    }

    mapping(bytes32 root => Anchor) private _anchors;

    /// @notice The root is zero, which can never be a valid Merkle root of a batch.
    error AgriTraceAnchorZeroRoot();
    /// @notice A batch must hold at least one leaf.
    error AgriTraceAnchorEmptyBatch();
    /// @notice The root was already anchored (possibly by another batch); anchoring is write-once.
    error AgriTraceAnchorRootAlreadyAnchored(bytes32 root, uint32 batchId);

    /// @notice Emitted right after `root` has been stored.
    /// @param root Merkle root of the batch.
    /// @param batchId The submitter's identifier of the batch.
    /// @param submitter Account that anchored the root.
    /// @param leafCount Number of leaves in the batch.
    /// @param timestamp Block timestamp at which the root was stored.
    event RootAnchored(
        bytes32 indexed root, uint32 indexed batchId, address indexed submitter, uint24 leafCount, uint40 timestamp
    );

    /// @param admin Account granted {DEFAULT_ADMIN_ROLE}: it manages anchorers.
    /// @param anchorer Account granted {ANCHORER_ROLE} at deployment, or the zero address for none.
    constructor(address admin, address anchorer) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, admin);
        if (anchorer != address(0)) {
            _grantRole(ANCHORER_ROLE, anchorer);
        }
    }

    /// @notice Anchors the Merkle root of a batch of event hashes.
    /// @dev Reverts with {AgriTraceAnchorRootAlreadyAnchored} if the root is already stored,
    ///      and with AccessControlUnauthorizedAccount if the caller lacks {ANCHORER_ROLE}.
    /// @param root Merkle root (OpenZeppelin sorted-pair keccak256 tree).
    /// @param batchId Submitter's batch identifier.
    /// @param leafCount Number of leaves in the batch (1 .. 2^24-1).
    function anchor(bytes32 root, uint32 batchId, uint24 leafCount) external onlyRole(ANCHORER_ROLE) {
        if (root == bytes32(0)) revert AgriTraceAnchorZeroRoot();
        if (leafCount == 0) revert AgriTraceAnchorEmptyBatch();
        Anchor storage existing = _anchors[root];
        if (existing.timestamp != 0) revert AgriTraceAnchorRootAlreadyAnchored(root, existing.batchId);
        uint40 nowTs = uint40(block.timestamp);
        _anchors[root] = Anchor({submitter: msg.sender, timestamp: nowTs, leafCount: leafCount, batchId: batchId});
        emit RootAnchored(root, batchId, msg.sender, leafCount, nowTs);
    }

    /// @notice Returns what is stored for `root`; all zero if it was never anchored.
    /// @return timestamp Block timestamp of the anchoring (0 if never anchored).
    /// @return leafCount Number of leaves in the batch.
    /// @return submitter Account that anchored it.
    /// @return batchId Submitter's batch identifier.
    function anchorOf(bytes32 root)
        external
        view
        returns (uint40 timestamp, uint24 leafCount, address submitter, uint32 batchId)
    {
        Anchor storage a = _anchors[root];
        return (a.timestamp, a.leafCount, a.submitter, a.batchId);
    }

    /// @notice Whether `root` has been anchored.
    function isAnchored(bytes32 root) external view returns (bool) {
        return _anchors[root].timestamp != 0;
    }

    /// @notice Verifies that `leaf` belongs to the anchored tree with root `root`.
    /// @return True only if `root` is anchored and `proof` proves `leaf` against it.
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 leaf) external view returns (bool) {
        return _anchors[root].timestamp != 0 && MerkleProof.verifyCalldata(proof, root, leaf);
    }
}
