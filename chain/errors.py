"""Exception hierarchy of the chain package.

ChainError
├── CompilerError        the Solidity compiler is missing or failed
├── ArtifactError        the committed contract artifact is missing or stale
├── NodeError            the local anvil node could not be started
├── ChainUnavailable     the JSON-RPC endpoint cannot be reached
└── AnchorError          a transaction was refused or reverted
    └── RootAlreadyAnchored
"""


class ChainError(Exception):
    """Root of every error raised by :mod:`chain`."""


class CompilerError(ChainError):
    pass


class ArtifactError(ChainError):
    pass


class NodeError(ChainError):
    pass


class ChainUnavailable(ChainError):
    pass


class AnchorError(ChainError):
    pass


class RootAlreadyAnchored(AnchorError):
    pass
