"""The KDE check: event by event, which required KDEs (``kde_columns.REQUIRED``) a CTE lacks, so
that an organisation completes its records before anyone asks for the spreadsheet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from traceability_api.fsma.kde_columns import COLUMNS, missing
from traceability_api.fsma.records import Selection, rows
from traceability_api.timeutil import utcnow

HEADER = {k: h for k, h, _ in COLUMNS}


def gaps(session: Session, sel: Selection, limit: int = 1000) -> dict[str, Any]:
    """``{"checked": n, "incomplete": n, "events": [{eventId, cte, tlc, date, missing: [{kde, header, source}]}]}``"""
    table = rows(session, sel)
    out = []
    for r in table:
        lacks = missing(r)
        if lacks:
            out.append({
                "eventId": r["event_id"],
                "cte": r["cte"],
                "tlc": r["tlc"],
                "gtin": r["gtin"],
                "date": r["event_date"].isoformat(),
                "recordedBy": r["recorded_by"],
                "missing": [{"kde": k, "header": HEADER[k], "source": f"21 CFR {src}"} for k, src in lacks],
            })  # fmt: skip
    return {"checked": len(table), "incomplete": len(out), "events": out[:limit], "truncated": len(out) > limit}


def own_gaps(session: Session, org_id: int, limit: int = 5) -> dict[str, Any]:
    """The workspace's block: the organisation's own records of listed foods (products with an FDA
    Food Traceability List category) of the last two years (the retention period, § 1.1455)."""
    return gaps(session, Selection(org_id=org_id, since=utcnow() - timedelta(days=730), ftl_only=True), limit)
