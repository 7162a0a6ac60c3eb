"""Label printing: QR codes of a lot, PDF label sheets (optionally serialised, with signed tokens)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session, func, select

from labels import qr
from labels.digital_link import build
from labels.pdf import LAYOUTS, LabelData, LabelError, render
from labels.tokens import serial_token
from traceability_api.consumer.secrets import label_secret
from traceability_api.deps import SessionDep, SettingsDep
from traceability_api.errors import Forbidden, Invalid
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.lots.models import Lot, Product, SerialUnit
from traceability_api.lots.service import get_lot, lot_uri
from traceability_api.parties.deps import PrincipalDep
from traceability_api.parties.models import Organisation
from traceability_api.timeutil import utcnow
from traceability_api.validation import DbId

router = APIRouter(prefix="/api/v1/lots", tags=["labels"])
MAX_LABELS = 5000


@router.get("/{lot_id}/qr.{fmt}", summary="QR code of the lot's Digital Link (svg or png)")
def lot_qr(lot_id: DbId, fmt: str, p: PrincipalDep, session: SessionDep, settings: SettingsDep) -> Response:
    lot, product = get_lot(session, p, lot_id)
    uri = build(product.gtin, lot.lot_code).uri(settings.public_base_url)
    if fmt == "svg":
        return Response(qr.svg(uri), media_type="image/svg+xml")
    if fmt == "png":
        return Response(qr.png(uri), media_type="image/png")
    raise Invalid("format must be svg or png")


def label_fields(session: Session, lot: Lot, product: Product) -> tuple[dict[str, Any], date | None]:
    """What every label of a lot shows (Vietnamese): product, producer, lot, dates, OCOP stars."""
    producer = session.get(Organisation, product.org_id)
    expiry = (
        lot.harvest_date + timedelta(days=product.shelf_life_days)
        if lot.harvest_date and product.shelf_life_days
        else None
    )
    date_line = f"Thu hoạch: {lot.harvest_date:%d/%m/%Y}" if lot.harvest_date else f"Đóng gói: {utcnow():%d/%m/%Y}"
    if expiry:
        date_line += f" · HSD: {expiry:%d/%m/%Y}"
    common = {"product_name": product.name, "producer": producer.name if producer else "", "lot": lot.lot_code,
              "date_line": date_line, "ocop_stars": product.ocop_stars, "gtin": product.gtin}  # fmt: skip
    return common, expiry


class LabelRequest(BaseModel):
    layout: str = Field(default="a4-3x8", description=f"one of {', '.join(LAYOUTS)}")
    copies: int = Field(default=0, ge=0, le=MAX_LABELS, description="labels of the lot itself")
    serials: int = Field(default=0, ge=0, le=MAX_LABELS, description="new serialised units, one label each")


@router.post("/{lot_id}/labels", summary="PDF label sheet (A4 sheets or single thermal labels)")
def labels(lot_id: DbId, req: LabelRequest, p: PrincipalDep, session: SessionDep, settings: SettingsDep) -> Response:
    lot, product = get_lot(session, p, lot_id)
    if lot.holder_org_id != p.org_id and lot.owner_org_id != p.org_id:
        raise Forbidden("only the lot's owner or holder prints its labels")
    if req.layout not in LAYOUTS:
        raise Invalid(f"unknown layout {req.layout!r}; choose one of {', '.join(LAYOUTS)}")
    if req.copies + req.serials == 0:
        raise Invalid("ask for at least one label (copies or serials)")
    if req.copies + req.serials > MAX_LABELS:
        raise Invalid(f"at most {MAX_LABELS} labels per sheet request")
    common, expiry = label_fields(session, lot, product)
    base = settings.public_base_url
    items = [LabelData(**common, qr_payload=build(product.gtin, lot.lot_code, expiry=expiry).uri(base))] * req.copies
    if req.serials:
        p.require_write()
        assert product.id is not None
        start = session.exec(select(func.count()).where(SerialUnit.product_id == product.id)).one() + 1
        codes = [f"{lot.lot_code[:8]}-{n:06d}" for n in range(start, start + req.serials)]
        event = {
            "type": "ObjectEvent",
            "eventTime": utcnow().isoformat(timespec="milliseconds"),
            "eventTimeZoneOffset": "+07:00",
            "action": "ADD",
            "bizStep": "commissioning",
            "epcList": [f"https://id.gs1.org/01/{product.gtin}/21/{c}" for c in codes],
            "quantityList": [{"epcClass": lot_uri(product.gtin, lot.lot_code)}],
        }
        capture_events(session, p, [event], DEFAULT_CONTEXT, settings)
        secret = label_secret(settings)
        for c in codes:
            uri = build(product.gtin, lot.lot_code, c, expiry=expiry, token=serial_token(secret, product.gtin, c)).uri(
                base
            )
            items.append(LabelData(**common, qr_payload=uri, serial=c))
    try:
        pdf = render(items, LAYOUTS[req.layout], title=f"{product.name} {lot.lot_code}")
    except LabelError as exc:
        raise Invalid(str(exc)) from exc
    session.commit()
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="labels-{product.gtin}-{lot.lot_code}.pdf"'},
    )
