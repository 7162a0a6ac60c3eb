from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel

from traceability_api.timeutil import UTCDateTime, utcnow


class SigningOrg(SQLModel, table=True):
    """An organisation registered in the on-chain key registry under ``ref``."""

    __tablename__ = "signing_org"
    org_id: int = Field(foreign_key="organisation.id", primary_key=True)
    ref: str = Field(max_length=200, unique=True, description="registry reference (GS1 party URI at registration)")
    registered_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class SigningKey(SQLModel, table=True):
    """Mirror of one registry key (the chain is the authority; capture reads this mirror).
    Times are block timestamps (Unix seconds) as the contract keeps them."""

    __tablename__ = "signing_key"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id", index=True)
    address: str = Field(max_length=42, unique=True, description="EIP-55 checksummed signer address")
    valid_from: int = Field(sa_column=Column(BigInteger(), nullable=False))
    valid_until: int = Field(sa_column=Column(BigInteger(), nullable=False))
    revoked_at: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    custodial: bool = False
    keystore: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True), description="custodial key, encrypted (scrypt)"
    )
    attestation: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True), description="X.509 attestation (PEM), if any"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    def valid_at(self, t: int) -> bool:
        return self.valid_from <= t < self.valid_until and (self.revoked_at is None or t < self.revoked_at)


class SigningKeyPublic(SQLModel):
    org_id: int
    address: str
    valid_from: int
    valid_until: int
    revoked_at: int | None
    custodial: bool
    attested_by: str | None = None  # subject of the X.509 certificate that attested the key
