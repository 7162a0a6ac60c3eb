"""Sharing grants: an organisation lets a partner or an inspector read its records of chosen lots
(its non-public events on them included) until an expiry; it may revoke a grant earlier."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import or_
from sqlmodel import Session, col, select

from traceability_api.db import lock_for_write
from traceability_api.errors import Conflict, Forbidden, Invalid, NotFound
from traceability_api.lots.models import Lot, Product
from traceability_api.parties.models import Organisation
from traceability_api.parties.service import Principal
from traceability_api.privacy.models import SharingGrant
from traceability_api.timeutil import utcnow
from traceability_api.validation import MAX_DB_ID

MAX_GRANT = timedelta(days=366)
MAX_GRANTS_LISTED = 500


class GrantCreate(BaseModel):
    lot_id: int = Field(ge=1, le=MAX_DB_ID, description="a lot of your product, or one you own or hold")
    grantee_org_id: int = Field(ge=1, le=MAX_DB_ID, description="the partner or inspector's organisation")
    expires_at: datetime = Field(description="ISO 8601 with a zone; at most a year ahead")
    note: str | None = Field(default=None, max_length=200)

    @field_validator("expires_at")
    @classmethod
    def _zoned(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("expires_at needs a time zone (Z or +07:00)")
        return v


def create_grant(session: Session, p: Principal, data: GrantCreate) -> SharingGrant:
    """The one rule of a new grant (the API and the workspace both call it).  A lot is shared with
    a partner once at a time: while a grant of the organisation's for the same lot and grantee is
    live (not revoked, not expired), another is refused (Conflict) -- revoke it to change its end.
    The live grants are read under the lot's row lock (``BEGIN IMMEDIATE`` on SQLite), so two
    requests at once cannot both find none."""
    p.require_admin()
    now = utcnow()
    if not now < data.expires_at <= now + MAX_GRANT:
        raise Invalid("expires_at must be in the future and at most a year ahead")
    lock_for_write(session)
    lot = session.exec(
        select(Lot).where(Lot.id == data.lot_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    product = session.get(Product, lot.product_id) if lot is not None else None
    if lot is None or product is None or p.org_id not in (lot.owner_org_id, lot.holder_org_id, product.org_id):
        raise NotFound(f"lot {data.lot_id} is not one of your products nor one your organisation owns or holds")
    if data.grantee_org_id == p.org_id or session.get(Organisation, data.grantee_org_id) is None:
        raise Invalid(f"organisation {data.grantee_org_id} is not another organisation")
    live = _live_grant(session, p.org_id, data.grantee_org_id, data.lot_id, now)
    if live is not None:
        raise Conflict(
            f"lot {data.lot_id} is already shared with organisation {data.grantee_org_id} until"
            f" {live.expires_at.isoformat()} (grant {live.id}); revoke that grant before sharing the lot again"
        )
    grant = SharingGrant(org_id=p.org_id, grantee_org_id=data.grantee_org_id, lot_id=data.lot_id,
                         member_id=p.member_id, note=data.note, expires_at=data.expires_at)  # fmt: skip
    session.add(grant)
    session.flush()
    return grant


def _live_grant(session: Session, org_id: int, grantee_org_id: int, lot_id: int, now: datetime) -> SharingGrant | None:
    q = select(SharingGrant).where(
        SharingGrant.org_id == org_id,
        SharingGrant.grantee_org_id == grantee_org_id,
        SharingGrant.lot_id == lot_id,
        col(SharingGrant.revoked_at).is_(None),
        col(SharingGrant.expires_at) > now,
    )
    return session.exec(q.limit(1)).first()


def grants_of(session: Session, p: Principal) -> list[SharingGrant]:
    """Grants the organisation gave or holds, newest first."""
    q = select(SharingGrant).where(
        or_(col(SharingGrant.org_id) == p.org_id, col(SharingGrant.grantee_org_id) == p.org_id)
    )
    return list(session.exec(q.order_by(SharingGrant.id.desc()).limit(MAX_GRANTS_LISTED)).all())  # type: ignore[union-attr]


def revoke_grant(session: Session, p: Principal, grant_id: int) -> SharingGrant:
    p.require_admin()
    grant = session.get(SharingGrant, grant_id)
    if grant is None or p.org_id not in (grant.org_id, grant.grantee_org_id):
        raise NotFound(f"grant {grant_id} not found")
    if grant.org_id != p.org_id:
        raise Forbidden("only the organisation that gave a grant may revoke it")
    if grant.revoked_at is None:
        grant.revoked_at = utcnow()
        session.add(grant)
    return grant


def grant_json(g: SharingGrant) -> dict[str, object]:
    now = utcnow()
    live = g.revoked_at is None and g.expires_at > now
    return {"id": g.id, "lot_id": g.lot_id, "org_id": g.org_id, "grantee_org_id": g.grantee_org_id,
            "expires_at": g.expires_at.isoformat(), "revoked_at": g.revoked_at.isoformat() if g.revoked_at else None,
            "note": g.note, "live": live}  # fmt: skip
