"""``agritrace export [events] FILE``: every stored event as CSV, XLSX or an EPCIS 2.0 document;
``agritrace export fsma FILE --gtin ...``: the FSMA 204 sortable spreadsheet of a product;
``agritrace export national-record FILE``: national traceability records (``national_record_cmd.py``)
(operators; organisations export what they may read through ``GET /api/v1/exports/...`` and
``/api/v1/fsma/...``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from traceability_api.cli.common import app, clean_errors, progress, settings, summary
from traceability_api.validation import MAX_DB_ID

PAGE = 1000


class _EventsByDefault(TyperGroup):
    """``agritrace export FILE`` stays ``agritrace export events FILE`` (the command before ``fsma``)."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["events", *args]
        return super().parse_args(ctx, args)


export_app = typer.Typer(cls=_EventsByDefault, no_args_is_help=True, rich_markup_mode=None,
                         help="Export events, the FSMA 204 spreadsheet or national records")  # fmt: skip
app.add_typer(export_app, name="export")


class Format(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    epcis = "epcis"


class Lang(StrEnum):
    en = "en"
    vi = "vi"


@export_app.command("events")
@clean_errors
def export(
    out: Annotated[Path, typer.Argument(help="file to write")],
    fmt: Annotated[Format, typer.Option("--format", help="table or EPCIS 2.0 JSON-LD document")] = Format.csv,
    lang: Annotated[Lang, typer.Option(help="column headers")] = Lang.en,
) -> None:
    """Export every stored event; times are local with their offset."""
    from sqlmodel import Session, func, select

    from traceability_api.authority import exports
    from traceability_api.compose import build_runtime
    from traceability_api.events.models import Event

    runtime = build_runtime(settings(), with_chain=False)
    try:
        table, events, last = [], [], 0
        with progress("export") as bar, Session(runtime.engine) as s:
            total = s.exec(select(func.count()).select_from(Event)).one()
            while page := list(s.exec(select(Event).where(Event.id > last).order_by(Event.id).limit(PAGE)).all()):  # type: ignore[arg-type, operator]
                last = page[-1].id or last
                if fmt == Format.epcis:
                    events += page
                else:
                    table += exports.rows(s, page, "eventId", zone=runtime.settings.time_zone)
                bar("events", len(events) + len(table), total)
            if fmt == Format.epcis:
                data = json.dumps(exports.epcis_document(events), ensure_ascii=False).encode()
        if fmt == Format.csv:
            data = exports.to_csv(table, lang.value)
        elif fmt == Format.xlsx:
            data = exports.to_xlsx(table, lang.value)
        out.write_bytes(data)
    finally:
        runtime.close()
    summary("export", {"events": len(events) + len(table), "format": fmt.value, "file": out, "bytes": len(data)})


class SheetFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


@export_app.command("fsma")
@clean_errors
def export_fsma(
    out: Annotated[Path, typer.Argument(help="file to write")],
    gtin: Annotated[str, typer.Option(help="the product's GTIN-14")],
    since: Annotated[str | None, typer.Option(help="from this event time (ISO 8601 with zone)")] = None,
    until: Annotated[str | None, typer.Option(help="before this event time (ISO 8601 with zone)")] = None,
    tlc_from: Annotated[str | None, typer.Option(help="first traceability lot code (inclusive)")] = None,
    tlc_to: Annotated[str | None, typer.Option(help="last traceability lot code (inclusive)")] = None,
    org_id: Annotated[
        int | None, typer.Option(min=1, max=MAX_DB_ID, help="one organisation's records (default: all)")
    ] = None,
    fmt: Annotated[SheetFormat, typer.Option("--format", help="spreadsheet format")] = SheetFormat.xlsx,
) -> None:
    """The FSMA 204 electronic sortable spreadsheet of a product: one row per CTE, every KDE."""
    from datetime import datetime

    from sqlmodel import Session

    from traceability_api.compose import build_runtime
    from traceability_api.errors import Invalid
    from traceability_api.fsma import cache, sheet
    from traceability_api.fsma.records import MAX_ROWS, count_rows, refuse_above, row_chunks
    from traceability_api.fsma.service import selection_for
    from traceability_api.parties.models import OrgKind, Role
    from traceability_api.parties.service import Principal

    def when(name: str, v: str | None) -> datetime | None:
        try:
            return datetime.fromisoformat(v) if v else None
        except ValueError as exc:
            raise Invalid(f"{name}: not an ISO 8601 time: {v}") from exc

    written = [0]

    def counted(chunks: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
        for chunk in chunks:
            written[0] += len(chunk)
            yield chunk

    operator = Principal(0, "operator", Role.auditor, 0, OrgKind.authority)  # the CLI reads the whole database
    sel = selection_for(operator, gtin=gtin, since=when("since", since), until=when("until", until),
                        tlc_from=tlc_from, tlc_to=tlc_to, org_id=org_id)  # fmt: skip
    runtime = build_runtime(settings(), with_chain=False)
    try:
        limit = MAX_ROWS if fmt == SheetFormat.csv else sheet.XLSX_MAX_ROWS
        if fmt == SheetFormat.csv:  # from the rows kept on write, brought up to date first
            cache.refresh(runtime.engine, sel.gtin)
            with Session(runtime.engine) as s:
                written[0] = cache.count(s, sel)
            refuse_above(written[0], limit)
            with out.open("wb") as f:
                for piece in cache.csv_pieces(runtime.engine, sel, limit):
                    f.write(piece)
        else:
            with Session(runtime.engine) as s, out.open("wb") as f:  # written as read: never a year in memory
                n = count_rows(s, sel, limit)
                sheet.write_xlsx(counted(row_chunks(s, sel, n)), f, n)
    finally:
        runtime.close()
    summary("export fsma", {"rows": written[0], "format": fmt.value, "file": out, "bytes": out.stat().st_size})
