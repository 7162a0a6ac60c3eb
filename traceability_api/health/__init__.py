"""Liveness and readiness: database and chain status."""
