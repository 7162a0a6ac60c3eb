// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title AgriTraceKeyRegistry
/// @notice Which secp256k1 addresses may sign events for which organisation, and when.
///         The authority ({REGISTRAR_ROLE}) registers organisations (by a reference string such
///         as a GS1 party URI) and their signer addresses with a validity window; rotation and
///         revocation are transactions with events, so any verifier can ask the chain whether a
///         key was valid at an event's anchoring time without trusting AgriTrace's database.
/// @dev A signer address belongs to at most one organisation, forever (no reuse across
///      organisations). Validity at time `t`: `validFrom <= t < validUntil` and, if revoked,
///      `t < revokedAt`. Each key takes one storage slot (three uint40 timestamps).
abstract contract AgriTraceKeyRegistry is AccessControl {
    /// @notice Role of the authority that registers organisations and their signing keys.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @dev Packed into one slot.
    struct SignerKey {
        uint40 validFrom;
        uint40 validUntil;
        uint40 revokedAt;
        bool custodial;
    }

    mapping(bytes32 org => bool) private _organisations;
    mapping(bytes32 org => mapping(address signer => SignerKey)) private _keys;
    mapping(address signer => bytes32 org) private _orgOf;

    /// @notice `org` is not registered.
    error AgriTraceKeyRegistryUnknownOrganisation(bytes32 org);
    /// @notice `org` is already registered.
    error AgriTraceKeyRegistryOrganisationExists(bytes32 org);
    /// @notice The signer is the zero address.
    error AgriTraceKeyRegistryZeroSigner();
    /// @notice `signer` is already registered (for `org`); addresses are never reused.
    error AgriTraceKeyRegistrySignerTaken(address signer, bytes32 org);
    /// @notice `signer` is not a key of `org`.
    error AgriTraceKeyRegistryUnknownSigner(bytes32 org, address signer);
    /// @notice The window is empty (`validUntil <= validFrom`).
    error AgriTraceKeyRegistryEmptyWindow(uint40 validFrom, uint40 validUntil);
    /// @notice The key was already revoked or has already expired.
    error AgriTraceKeyRegistrySignerEnded(bytes32 org, address signer);

    /// @notice Emitted right after `org` has been registered under `ref`.
    event OrganisationRegistered(bytes32 indexed org, string ref);
    /// @notice Emitted right after `signer` became a key of `org` for [validFrom, validUntil);
    ///         `custodial`: the key is held by AgriTrace, which signs on the organisation's behalf.
    event SignerAdded(bytes32 indexed org, address indexed signer, uint40 validFrom, uint40 validUntil, bool custodial);
    /// @notice Emitted right after `signer` of `org` was revoked from `revokedAt` on.
    event SignerRevoked(bytes32 indexed org, address indexed signer, uint40 revokedAt);
    /// @notice Emitted right after `oldSigner` was replaced by `newSigner` at time `at`.
    event SignerRotated(bytes32 indexed org, address indexed oldSigner, address indexed newSigner, uint40 at);

    /// @notice Registers an organisation: `org` must be `keccak256(bytes(ref))`.
    /// @param org The organisation's key in this registry.
    /// @param ref Its reference (GS1 party URI or AgriTrace id), kept in the event log.
    function registerOrganisation(bytes32 org, string calldata ref) external onlyRole(REGISTRAR_ROLE) {
        if (_organisations[org] || org != keccak256(bytes(ref))) revert AgriTraceKeyRegistryOrganisationExists(org);
        _organisations[org] = true;
        emit OrganisationRegistered(org, ref);
    }

    /// @notice Adds `signer` as a key of `org`, valid for [validFrom, validUntil).
    /// @param validFrom Start of validity (0: now).
    /// @param validUntil End of validity, exclusive (0: no end).
    /// @param custodial Whether AgriTrace holds the key (verifiers then say "signed on behalf of").
    function addSigner(bytes32 org, address signer, uint40 validFrom, uint40 validUntil, bool custodial)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        _add(org, signer, validFrom == 0 ? uint40(block.timestamp) : validFrom, validUntil, custodial);
    }

    /// @notice Revokes `signer` of `org` from now on (events anchored earlier stay valid).
    function revokeSigner(bytes32 org, address signer) external onlyRole(REGISTRAR_ROLE) {
        SignerKey storage k = _current(org, signer);
        uint40 nowTs = uint40(block.timestamp);
        k.revokedAt = nowTs;
        emit SignerRevoked(org, signer, nowTs);
    }

    /// @notice Replaces `oldSigner` of `org` by `newSigner` at this block's time: the old key
    ///         ends now, the new one is valid from now until `validUntil` (0: no end).
    function rotateSigner(bytes32 org, address oldSigner, address newSigner, uint40 validUntil, bool custodial)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        SignerKey storage old = _current(org, oldSigner);
        uint40 nowTs = uint40(block.timestamp);
        old.validUntil = nowTs;
        _add(org, newSigner, nowTs, validUntil, custodial);
        emit SignerRotated(org, oldSigner, newSigner, nowTs);
    }

    /// @notice Whether `org` is registered.
    function isOrganisation(bytes32 org) external view returns (bool) {
        return _organisations[org];
    }

    /// @notice The organisation `signer` belongs to (zero if none).
    function organisationOf(address signer) external view returns (bytes32) {
        return _orgOf[signer];
    }

    /// @notice The validity window of `signer` for `org` (all zero if it is not a key of `org`),
    ///         and whether AgriTrace holds the key.
    function signerKey(bytes32 org, address signer)
        external
        view
        returns (uint40 validFrom, uint40 validUntil, uint40 revokedAt, bool custodial)
    {
        SignerKey storage k = _keys[org][signer];
        return (k.validFrom, k.validUntil, k.revokedAt, k.custodial);
    }

    /// @notice Whether `signer` was a valid key of `org` at time `at` (a block timestamp).
    function isSignerValidAt(bytes32 org, address signer, uint40 at) public view returns (bool) {
        SignerKey storage k = _keys[org][signer];
        return k.validUntil != 0 && k.validFrom <= at && at < k.validUntil && (k.revokedAt == 0 || at < k.revokedAt);
    }

    function _add(bytes32 org, address signer, uint40 validFrom, uint40 validUntil, bool custodial) private {
        if (!_organisations[org]) revert AgriTraceKeyRegistryUnknownOrganisation(org);
        if (signer == address(0)) revert AgriTraceKeyRegistryZeroSigner();
        bytes32 owner = _orgOf[signer];
        if (owner != bytes32(0)) revert AgriTraceKeyRegistrySignerTaken(signer, owner);
        uint40 until = validUntil == 0 ? type(uint40).max : validUntil;
        if (until <= validFrom) revert AgriTraceKeyRegistryEmptyWindow(validFrom, until);
        _orgOf[signer] = org;
        _keys[org][signer] = SignerKey({validFrom: validFrom, validUntil: until, revokedAt: 0, custodial: custodial});
        emit SignerAdded(org, signer, validFrom, until, custodial);
    }

    function _current(bytes32 org, address signer) private view returns (SignerKey storage k) {
        k = _keys[org][signer];
        if (k.validUntil == 0) revert AgriTraceKeyRegistryUnknownSigner(org, signer);
        if (k.revokedAt != 0 || k.validUntil <= block.timestamp) revert AgriTraceKeyRegistrySignerEnded(org, signer);
    }
}
