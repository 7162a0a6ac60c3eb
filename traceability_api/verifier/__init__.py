"""The independent verifier (``agritrace verify``): checks a proof bundle against the chain.

It imports only the consensus core and ``chain/`` (enforced by the import-linter contract in
pyproject.toml), so it runs without our database, server or service code.
"""

from traceability_api.verifier.bundle import Report, verify_bundle

__all__ = ["Report", "verify_bundle"]
