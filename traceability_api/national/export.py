"""Exports in ``agritrace-national-record/1``: one lot's record, or the records of a period as a
record set (pages of at most ``MAX_PAGE`` lots, continued with ``nextAfterId``), as JSON or XML."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from chain.client import AnchorContract
from traceability_api.errors import Invalid
from traceability_api.lots.models import Lot, Product
from traceability_api.national.completeness import lot_ids_for_export
from traceability_api.national.record import FORMAT, national_record
from traceability_api.parties.service import Principal
from traceability_api.timeutil import utcnow

SCHEMA_DIR = Path(__file__).parent / "schema"
JSON_SCHEMA = SCHEMA_DIR / "national-record-1.schema.json"
XSD = SCHEMA_DIR / "national-record-1.xsd"
MAX_PAGE = 100


def check_period(since: datetime | None, until: datetime | None) -> None:
    for t in (since, until):
        if t is not None and t.tzinfo is None:
            raise Invalid("since and until need a time zone (e.g. 2025-01-01T00:00:00+07:00)")
    if since is not None and until is not None and until <= since:
        raise Invalid("until must be after since")


def record_set(
    session: Session,
    p: Principal,
    *,
    since: datetime | None,
    until: datetime | None,
    org_id: int | None,
    base_url: str,
    contract: AnchorContract | None,
    after_id: int = 0,
    limit: int = MAX_PAGE,
    with_bundles: bool = True,
) -> dict[str, Any]:
    check_period(since, until)
    ids = lot_ids_for_export(session, p, since=since, until=until, org_id=org_id, after_id=after_id, limit=limit)
    records = []
    for lot_id in ids:
        lot = session.get(Lot, lot_id)
        assert lot is not None
        product = session.get(Product, lot.product_id)
        assert product is not None
        records.append(national_record(session, lot, product, base_url=base_url, contract=contract,
                                       with_bundle=with_bundles, reader=p))  # fmt: skip
    return {
        "format": FORMAT,
        "generatedAt": utcnow().isoformat(timespec="seconds"),
        "period": {"from": since.isoformat() if since else None, "until": until.isoformat() if until else None},
        "organisation": org_id if org_id is not None or p.reads_everything else p.org_id,
        "count": len(records),
        "nextAfterId": ids[-1] if len(ids) == limit else None,
        "records": records,
    }
