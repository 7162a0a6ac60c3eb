"""Organisations, their members, roles and API keys."""
