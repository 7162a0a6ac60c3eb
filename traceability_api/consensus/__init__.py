"""CONSENSUS-CRITICAL: the rules whose output is anchored on chain.

Everything here is a pure function of its input: the CBV 2.0 event hash, the normalisation of
GS1 identifiers it relies on, and the reading of EPCIS XML for hashing. It may import only the
standard library, the JSON-LD/XML handling and ``chain.merkle``; nothing else of the service
(enforced by the import-linter contract in pyproject.toml). A change here changes hashes that are
already on chain: the vectors in tests/test_event_hash.py must keep passing.
"""
