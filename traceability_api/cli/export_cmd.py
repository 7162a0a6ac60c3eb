"""``agritrace export``: every stored event as CSV, XLSX or an EPCIS 2.0 document (operators;
organisations export what they may read through ``GET /api/v1/exports/...``); ``agritrace export
national-record``: national traceability records (``national_record_cmd.py``)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from traceability_api.cli.common import app, clean_errors, progress, settings, summary

PAGE = 1000


class Format(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    epcis = "epcis"


class Lang(StrEnum):
    en = "en"
    vi = "vi"


class _EventsByDefault(TyperGroup):
    """``agritrace export OUT ...`` stays the events export; ``agritrace export national-record ...``
    is a subcommand: a first argument that names no subcommand runs ``events``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["events", *args]
        return super().parse_args(ctx, args)


export_app = typer.Typer(cls=_EventsByDefault, no_args_is_help=True, rich_markup_mode=None,
                         help="Export events (CSV, XLSX, EPCIS) or national traceability records")  # fmt: skip
app.add_typer(export_app, name="export")


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
