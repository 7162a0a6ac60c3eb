"""``agritrace export national-record``: national traceability records (agritrace-national-record/1)
of one lot or of every lot of a period, as JSON or XML, for operators and the province's portal."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from traceability_api.cli.common import clean_errors, fail, progress, settings, summary
from traceability_api.cli.export_cmd import export_app
from traceability_api.validation import MAX_DB_ID


class Format(StrEnum):
    json = "json"
    xml = "xml"


def _time(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--{what} must be an ISO 8601 time with a zone (e.g. 2025-01-01T00:00:00+07:00)", 2)
        raise
    if t.tzinfo is None:
        fail(f"--{what} needs a time zone (e.g. +07:00)", 2)
    return t


@export_app.command("national-record")
@clean_errors
def national_record(
    out: Annotated[Path, typer.Argument(help="file to write")],
    fmt: Annotated[
        Format, typer.Option("--format", help="JSON or XML (schemas in traceability_api/national/schema)")
    ] = Format.json,
    lot: Annotated[str | None, typer.Option(help="one lot: GTIN/LOT (e.g. 08930000010020/GST25-2503)")] = None,
    since: Annotated[str | None, typer.Option(help="lots recorded from this time (ISO 8601 with zone)")] = None,
    until: Annotated[str | None, typer.Option(help="lots recorded before this time (ISO 8601 with zone)")] = None,
    org: Annotated[
        int | None, typer.Option(min=1, max=MAX_DB_ID, help="only the lots this organisation (id) owns")
    ] = None,
    bundles: Annotated[bool, typer.Option(help="attach each lot's proof bundle")] = True,
) -> None:
    """Every lot of the period (all organisations, as an authority exports), or one lot, with its proof bundle."""
    from sqlmodel import Session

    from traceability_api.compose import build_runtime
    from traceability_api.lots.service import lot_by_key
    from traceability_api.national.export import record_set
    from traceability_api.national.record import national_record as build
    from traceability_api.national.xml import to_xml
    from traceability_api.parties.kinds import OrgKind, Role
    from traceability_api.parties.service import Principal

    start, end = _time(since, "since"), _time(until, "until")
    runtime = build_runtime(settings(), with_chain=False)
    operator = Principal(0, "agritrace export", Role.auditor, 0, OrgKind.authority)  # reads every organisation
    base = runtime.settings.public_base_url
    try:
        with Session(runtime.engine) as s:
            document: dict[str, Any]
            if lot is not None:
                gtin, _, code = lot.partition("/")
                found, product = lot_by_key(s, gtin, code)
                document = build(s, found, product, base_url=base, with_bundle=bundles)
                count = 1
            else:
                document, after, count = {}, 0, 0
                with progress("national records") as bar:
                    while True:
                        page = record_set(s, operator, since=start, until=end, org_id=org, base_url=base,
                                          contract=None, after_id=after, with_bundles=bundles)  # fmt: skip
                        records = document.get("records", []) + page["records"]
                        document = page | {"records": records, "count": len(records), "nextAfterId": None}
                        count = len(records)
                        bar("lots", count, count)
                        if page["nextAfterId"] is None:
                            break
                        after = page["nextAfterId"]
        data = to_xml(document) if fmt == Format.xml else json.dumps(document, ensure_ascii=False).encode()
        out.write_bytes(data)
    finally:
        runtime.close()
    summary("national-record", {"lots": count, "format": fmt.value, "file": out, "bytes": len(data)})
