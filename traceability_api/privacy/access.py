"""Who reads a non-public record besides its organisation: lots shared through a grant (until it
expires or is revoked), and the marking of reads of other organisations' private data for the
audit log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from traceability_api.outbox import note_private_read
from traceability_api.parties.service import Principal
from traceability_api.privacy.models import SharingGrant, Visibility
from traceability_api.timeutil import utcnow


def live_grants(org_id: int) -> Any:
    """SQL: (lot_id, grantor org_id) of the grants an organisation holds now."""
    return select(SharingGrant.lot_id, SharingGrant.org_id).where(
        SharingGrant.grantee_org_id == org_id,
        SharingGrant.expires_at > utcnow(),
        SharingGrant.revoked_at.is_(None),  # type: ignore[union-attr]
    )


def has_grant(session: Session, org_id: int, lot_id: int) -> bool:
    q = live_grants(org_id).where(SharingGrant.lot_id == lot_id).limit(1)
    return session.exec(q).first() is not None


def note_reads(session: Session, p: Principal, events: Iterable[Any]) -> None:
    """A read of another organisation's non-public event (as an authority, a partner or through
    a grant) is marked for the audit log."""
    owners = {e.org_id for e in events if e.org_id != p.org_id and e.visibility != Visibility.public}
    if owners:
        note_private_read(session.info, owners)


def note_lot_reads(session: Session, p: Principal, org_ids: Iterable[int | None]) -> None:
    """A page showing lot-level data (lots, quantities, holders, custody hand-overs: the console's
    lot search, lineage graph and recall pages; the FSMA 204 exports, naming the owners of the
    non-public events they draw on) of organisations other than the reader's is marked for the
    audit log, naming those organisations.  Aggregated figures and the map are not."""
    owners = {int(o) for o in org_ids if o is not None and o != p.org_id}
    if owners:
        note_private_read(session.info, owners)
