"""FSMA 204 endpoints (thin: parse, call the service): the electronic sortable spreadsheet, the KDE
check, the traceability plan PDF and the upstream KDEs of a received lot."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import IO, Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BeforeValidator
from sqlalchemy.engine import Engine
from sqlmodel import Session

from traceability_api.content_coding import choose, gzip_pieces
from traceability_api.deps import RuntimeDep, SessionDep, SettingsDep
from traceability_api.errors import Forbidden, Invalid
from traceability_api.fsma import cache, plan, sheet
from traceability_api.fsma.check import gaps
from traceability_api.fsma.records import MAX_ROWS, Selection, count_rows, private_owners, row_chunks
from traceability_api.fsma.service import pullable_lot, selection_for, upstream_kdes
from traceability_api.json_response import StoredJSONResponse
from traceability_api.parties.deps import PrincipalDep
from traceability_api.privacy.access import note_lot_reads
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1/fsma", tags=["FSMA 204 (US buyers)"])
Gtin = Annotated[str | None, Query(description="the product's GTIN-14", max_length=14)]
CSV_TYPE = "text/csv; charset=utf-8"
Tlc = Annotated[str | None, Query(max_length=20, description="traceability lot code range bound (inclusive)")]


def _plus_back(v: Any) -> Any:
    """A '+' typed unencoded in a URL arrives as a space: 2025-01-01T00:00:00+07:00 (the example
    the refusals give) read as '... 07:00' and was refused as 'unexpected extra characters'."""
    return re.sub(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$", r"\1+\2", v) if isinstance(v, str) else v


Time = Annotated[datetime | None, BeforeValidator(_plus_back), Query(description="ISO 8601 with a time zone")]


@router.get("/spreadsheet.{fmt}", summary="Electronic sortable spreadsheet (21 CFR 1.1455): one row per CTE, every KDE")
def spreadsheet(
    fmt: str,
    request: Request,
    p: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    gtin: Gtin = None,
    since: Time = None,
    until: Time = None,
    tlc_from: Tlc = None,
    tlc_to: Tlc = None,
    org_id: DbId | None = None,
) -> Response:
    """An organisation gets the records it kept itself; an authority every organisation's (or
    ``org_id``'s).  Names romanised; dates typed; header row with an autofilter (XLSX).  Sent as it
    is read (CSV) or from a temporary file (XLSX): a year of records is never held in memory whole.
    The CSV comes from the rows kept on write (``fsma.cache``) when they are this reader's rows."""
    if fmt not in ("csv", "xlsx"):
        raise Invalid("format must be csv or xlsx")
    sel = selection_for(p, gtin=gtin, since=since, until=until, tlc_from=tlc_from, tlc_to=tlc_to, org_id=org_id)
    limit = sheet.XLSX_MAX_ROWS if fmt == "xlsx" else MAX_ROWS
    name = {"Content-Disposition": f'attachment; filename="fsma204-{gtin}.{fmt}"'}
    if fmt == "csv" and (kept := cache.kept_csv(session, runtime.engine, p, sel, limit)) is not None:
        return _csv_response(request, kept, name)
    n = count_rows(session, sel, limit)  # a refusal (too many records) is an answer, not a cut-off file
    if n:
        note_lot_reads(session, p, private_owners(session, sel, p.org_id))  # other organisations' non-public events
    if fmt == "csv":
        session.close()  # the CSV is read while it is sent, after this request's session has ended
        return _csv_response(request, _csv(runtime.engine, sel, limit), name)
    file = tempfile.SpooledTemporaryFile(max_size=16 * 2**20)  # noqa: SIM115 - closed by _sent
    sheet.write_xlsx(row_chunks(session, sel, n), file, n)  # the transaction that counted: the autofilter fits
    file.seek(0)
    return StreamingResponse(_sent(file), media_type=sheet.XLSX_TYPE, headers=name)


def _csv_response(request: Request, pieces: Iterator[bytes], headers: dict[str, str]) -> StreamingResponse:
    """Gzip (level 1, in the worker thread that reads the rows) when the client accepts it: a year
    of records is ~10x smaller on the wire."""
    headers = headers | {"Vary": "Accept-Encoding"}
    if choose(request.headers.get("accept-encoding"), ("gzip",)) == "gzip":
        pieces = gzip_pieces(pieces)
        headers["Content-Encoding"] = "gzip"
    return StreamingResponse(pieces, media_type=CSV_TYPE, headers=headers)


def _csv(engine: Engine, sel: Selection, limit: int) -> Iterator[bytes]:
    """The CSV read in its own transaction while it is sent (the request's session is closed by
    then); at most ``limit`` records, as counted before the answer started."""
    with Session(engine) as s:
        yield from sheet.csv_chunks(row_chunks(s, sel, limit))


def _sent(file: IO[bytes]) -> Iterator[bytes]:
    try:
        while piece := file.read(2**20):
            yield piece
    finally:
        file.close()


@router.get("/kde-check", summary="Events whose required KDEs are missing, event by event")
def kde_check(
    p: PrincipalDep,
    session: SessionDep,
    gtin: Gtin = None,
    since: Time = None,
    until: Time = None,
    org_id: DbId | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Without ``gtin``: every product.  Each listed event names the KDEs it lacks and their source."""
    sel = selection_for(p, gtin=gtin, since=since, until=until, org_id=org_id, every_product=True)
    found = gaps(session, sel, limit)
    if found["checked"]:
        note_lot_reads(session, p, private_owners(session, sel, p.org_id))
    return found


@router.get("/plan.pdf", summary="Traceability plan (21 CFR 1.1315) of the caller's organisation, in English")
def traceability_plan(
    p: PrincipalDep, session: SessionDep, settings: SettingsDep, org_id: DbId | None = None
) -> Response:
    target = org_id if org_id is not None else p.org_id
    if target != p.org_id and not p.reads_everything:
        raise Forbidden("an organisation's traceability plan is for itself and market authorities")
    pdf = plan.render(plan.load(session, target), date.today(), settings.public_base_url)
    return Response(pdf, media_type="application/pdf")


@router.get("/lots/{gtin}/{tlc}/upstream", summary="Upstream KDEs of a lot you hold or received, with its proof bundle")
def upstream(gtin: str, tlc: str, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> StoredJSONResponse:
    """Lets a receiving firm (a US importer) complete its records: every CTE of the lot and of the
    lots it was made from, and what the shipper handed on (§ 1.1340(b)); refused (404) to anyone
    that neither holds nor received the lot."""
    lot, product = pullable_lot(session, p, gtin, tlc)
    contract = runtime.chain.contract if runtime.chain is not None else None
    return StoredJSONResponse(upstream_kdes(session, p, lot, product, contract))
