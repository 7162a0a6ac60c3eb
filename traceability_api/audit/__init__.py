"""Audit: recompute every stored record's hash and proof against the anchored roots."""
