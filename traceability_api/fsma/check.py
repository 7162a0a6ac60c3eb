"""The KDE check: event by event, which required KDEs (``kde_columns.REQUIRED``) a CTE lacks, so
that an organisation completes its records before anyone asks for the spreadsheet."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Exists
from sqlmodel import Session

from traceability_api.fsma.kde_columns import COLUMNS, missing
from traceability_api.fsma.records import Selection, any_rows, count_rows, readable_by, row_chunks
from traceability_api.parties.service import Principal
from traceability_api.timeutil import utcnow

HEADER = {k: h for k, h, _ in COLUMNS}


def gaps(session: Session, sel: Selection, limit: int = 1000) -> dict[str, Any]:
    """``{"checked": n, "incomplete": n, "events": [{eventId, cte, tlc, date, missing: [{kde, header, source}]}]}``"""
    checked = incomplete = 0
    out: list[dict[str, Any]] = []
    n = count_rows(session, sel)  # above MAX_ROWS: refused, as the spreadsheet
    for r in (r for chunk in row_chunks(session, sel, n) for r in chunk):  # chunk by chunk: bounded memory
        checked += 1
        lacks = missing(r)
        if lacks:
            incomplete += 1
            if len(out) >= limit:
                continue
            out.append({
                "eventId": r["event_id"],
                "cte": r["cte"],
                "tlc": r["tlc"],
                "gtin": r["gtin"],
                "date": r["event_date"].isoformat(),
                "recordedBy": r["recorded_by"],
                "missing": [{"kde": k, "header": HEADER[k], "source": f"21 CFR {src}"} for k, src in lacks],
            })  # fmt: skip
    return {"checked": checked, "incomplete": incomplete, "events": out, "truncated": incomplete > limit}


RETENTION = timedelta(days=730)  # two years (§ 1.1455)


def _own(org_id: Any, since: Any, visible: Any = None) -> Selection:
    return Selection(org_id=org_id, since=since, ftl_only=True, visible=visible)


def own_gaps(session: Session, p: Principal, limit: int = 5, now: datetime | None = None) -> dict[str, Any]:
    """The workspace's block: the organisation's own records of listed foods (products with an FDA
    Food Traceability List category) of the last two years (the retention period, § 1.1455), drawing
    only on the events ``p`` may read, as its own spreadsheet does (a partner's private harvest does
    not show through as a KDE present or missing)."""
    return gaps(session, _own(p.org_id, (now or utcnow()) - RETENTION, readable_by(p)), limit)


def has_own_records(org_id: Any, since: Any) -> Exists:
    """EXISTS: ``own_gaps`` has records to check (``since`` = now - ``RETENTION``; cheap: the home
    page skips its queries when false)."""
    return any_rows(_own(org_id, since))


NO_GAPS: dict[str, Any] = {"checked": 0, "incomplete": 0, "events": [], "truncated": False}
