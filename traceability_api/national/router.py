"""National traceability record endpoints: a lot's record and its completeness, exports of a
period, completeness by organisation, and the format's schemas (JSON Schema, XSD)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response

from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.json_response import StoredJSONResponse
from traceability_api.national import completeness as comp
from traceability_api.national.export import JSON_SCHEMA, MAX_PAGE, XSD, check_period, record_set
from traceability_api.national.record import national_record
from traceability_api.national.xml import to_xml
from traceability_api.parties.deps import PrincipalDep
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1", tags=["national traceability record"])
Fmt = Annotated[str, Query(pattern="^(json|xml)$", description="json or xml (agritrace-national-record/1)")]
Lang = Annotated[str, Query(pattern="^(vi|en)$", description="language of the missing items: vi (default) or en")]


def _contract(runtime: RuntimeDep) -> Any:
    return runtime.chain.contract if runtime.chain is not None else None


def _out(document: dict[str, Any], fmt: str, name: str) -> Response:
    if fmt == "xml":
        return Response(to_xml(document), media_type="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xml"'})  # fmt: skip
    return StoredJSONResponse(document)


@router.get("/lots/{lot_id}/national-record", summary="The lot's national traceability record (Circular 02/2024)")
def lot_record(
    lot_id: DbId, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep, format: Fmt = "json", bundle: bool = True
) -> Response:
    """Every mandatory item, what is missing, and the lot's proof bundle.  The lot's owner and
    authorities only (404 for a lot you cannot read, 403 for another organisation's)."""
    lot, product = comp.own_lot(session, p, lot_id)
    record = national_record(session, lot, product, base_url=runtime.settings.public_base_url,
                             contract=_contract(runtime), with_bundle=bundle, reader=p)  # fmt: skip
    return _out(record, format, f"national-record-{product.gtin}-{lot.lot_code}")


@router.get("/lots/{lot_id}/national-record/completeness", summary="Which mandatory items the lot's record lacks")
def lot_record_completeness(
    lot_id: DbId, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep, lang: Lang = "vi"
) -> dict[str, Any]:
    lot, product = comp.own_lot(session, p, lot_id)
    base = runtime.settings.public_base_url
    record = national_record(session, lot, product, base_url=base, with_bundle=False, reader=p)
    return comp.lot_completeness(record, lang)


@router.get("/exports/national-record", summary="National records of the lots of a period (JSON or XML)")
def export_records(
    p: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    since: datetime | None = None,
    until: datetime | None = None,
    org_id: DbId | None = None,
    after_id: DbId = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
    format: Fmt = "json",
    bundles: bool = True,
) -> Response:
    """Lots recorded in [since, until): an authority's export holds every organisation's (or
    ``org_id``'s); an organisation's, its own lots (another ``org_id``: 403).  Continue with
    ``after_id`` = the set's ``nextAfterId``."""
    base = runtime.settings.public_base_url
    doc = record_set(session, p, since=since, until=until, org_id=org_id, after_id=after_id, limit=limit,
                     base_url=base, contract=_contract(runtime), with_bundles=bundles)  # fmt: skip
    return _out(doc, format, "national-records")


@router.get("/national-record/completeness", summary="Share of complete national records by organisation")
def completeness_figures(
    p: PrincipalDep, session: SessionDep, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Authorities: every organisation; anyone else: their own organisation."""
    check_period(since, until)
    orgs = None if p.reads_everything else [p.org_id]
    return comp.completeness_by_org(session, since=since, until=until, org_ids=orgs)


@router.get("/national-record/schema.json", summary="JSON Schema of agritrace-national-record/1")
def json_schema() -> FileResponse:
    return FileResponse(JSON_SCHEMA, media_type="application/schema+json")


@router.get("/national-record/schema.xsd", summary="XML Schema of agritrace-national-record/1")
def xml_schema() -> FileResponse:
    return FileResponse(XSD, media_type="application/xml")
