"""Organisation kinds and member roles: plain enums, importable without the ORM (the CLI lists
them in ``--help`` without loading SQLModel)."""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    cooperative = "cooperative"
    farmer_club = "farmer_club"
    processor = "processor"
    distributor = "distributor"
    retailer = "retailer"
    authority = "authority"
    certifier = "certifier"  # a certification body: verifies or revokes the certificates naming it


class Role(StrEnum):
    admin = "admin"
    recorder = "recorder"
    viewer = "viewer"
    auditor = "auditor"
