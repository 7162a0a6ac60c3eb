"""Outbox of anchorable records, the anchoring worker, Merkle proofs and proof bundles."""
