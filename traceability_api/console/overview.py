"""The console's overview figures: what the province holds today, one query per figure."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from traceability_api.authority.models import Recall
from traceability_api.events.models import Event
from traceability_api.lots.models import Lot
from traceability_api.outbox.models import AnchorItem
from traceability_api.parties.models import Organisation


def overview(session: Session) -> list[tuple[str, int]]:
    """(figure key, value) in display order."""

    def count(stmt: object) -> int:
        return int(session.exec(stmt).one())  # type: ignore[call-overload]

    waiting = select(func.count()).select_from(AnchorItem).where(col(AnchorItem.batch_id).is_(None))
    return [
        ("organisations", count(select(func.count()).select_from(Organisation))),
        ("lots", count(select(func.count()).select_from(Lot))),
        ("events", count(select(func.count()).select_from(Event))),
        ("waiting_anchor", count(waiting)),
        ("open_recalls", count(select(func.count()).select_from(Recall))),
    ]
