"""Chain side of AgriTrace: compile and deploy the anchor contract, run a local anvil node,
anchor Merkle roots with web3.py, and build OpenZeppelin-compatible Merkle trees and proofs.

This package imports nothing from ``traceability_api``, ``labels`` or ``consumer_site``.
"""
