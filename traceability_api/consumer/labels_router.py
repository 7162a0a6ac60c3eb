"""Label printing: QR codes of a lot, PDF label sheets (optionally serialised, with signed tokens)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from consumer_site import formatting as fmt
from labels import qr
from labels.digital_link import build
from labels.pdf import LAYOUTS, LabelData, LabelError
from labels.tokens import serial_token
from traceability_api.consumer.label_renderer import RendererBusy
from traceability_api.consumer.lot_dates import day_text, expiry, packed_on
from traceability_api.consumer.secrets import label_secret
from traceability_api.deps import RuntimeDep, SessionDep, SettingsDep
from traceability_api.errors import Conflict, Forbidden, Invalid
from traceability_api.events.lot_access import get_lot
from traceability_api.events.serials import commission_serials
from traceability_api.lots.models import Lot, LotStatus, Product
from traceability_api.parties.deps import PrincipalDep
from traceability_api.parties.models import Organisation
from traceability_api.registries.lot_codes import lot_codes
from traceability_api.registries.models import CodeKind
from traceability_api.validation import DbId

# how a label names what a unit holds (Decree 43/2017/NĐ-CP on goods labels, annex II): a solid's
# net weight, a liquid's net volume; anything counted, its number
NET_QUANTITY = {"KGM": "Khối lượng tịnh", "TNE": "Khối lượng tịnh", "GRM": "Khối lượng tịnh",
                "LTR": "Thể tích thực", "MLT": "Thể tích thực"}  # fmt: skip

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


def refuse_recalled(lot: Lot) -> None:
    """Like shipping: no fresh labels or codes for produce under recall (the API, the workspace and
    the ``agritrace labels`` command)."""
    if lot.status == LotStatus.recalled:
        raise Conflict(f"lot {lot.lot_code} is under recall: its labels are not printed")


def label_fields(session: Session, lot: Lot, product: Product) -> tuple[dict[str, Any], date | None]:
    """What every label of a lot shows (Vietnamese): product, producer, lot, GTIN, the harvest date (or
    the packing event's day, in its own zone), the expiry (HSD) from the shelf life, OCOP stars."""
    producer = session.get(Organisation, product.org_id)
    packed = None if lot.harvest_date else packed_on(session, lot)
    expiry_day = expiry(product, lot.harvest_date or packed)
    if lot.harvest_date:
        date_line = f"Thu hoạch: {day_text(lot.harvest_date, 'vi')}"
    else:
        date_line = f"Đóng gói: {day_text(packed, 'vi')}" if packed else ""
    common = {"product_name": product.name, "producer": producer.name if producer else "", "lot": lot.lot_code,
              "date_line": date_line, "ocop_stars": product.ocop_stars, "gtin": product.gtin,
              "expiry_line": f"HSD: {day_text(expiry_day, 'vi')}" if expiry_day else None,
              "codes_line": codes_line(session, lot)}  # fmt: skip
    return common, expiry_day


def codes_line(session: Session, lot: Lot) -> str | None:
    """Carton labels carry the planting-area (MSVT, PUC) and packing-house (MSĐG, PHC) codes behind the lot."""
    found = lot_codes(session, lot)
    parts = []
    if areas := found.planting_area_codes():
        parts.append("MSVT/PUC: " + ", ".join(areas[:3]) + ("…" if len(areas) > 3 else ""))
    if houses := found.packhouse_codes():
        parts.append("MSĐG/PHC: " + ", ".join(houses[:2]) + ("…" if len(houses) > 2 else ""))
    if ponds := found.origin_codes(CodeKind.aquaculture):  # fish: the pond and the processing plant
        parts.append("Ao nuôi/Farm: " + ", ".join(ponds[:2]) + ("…" if len(ponds) > 2 else ""))
    if plants := found.house_codes(CodeKind.establishment):
        parts.append("CSCB/Est.: " + ", ".join(plants[:2]) + ("…" if len(plants) > 2 else ""))
    return " · ".join(parts) or None


LOOPBACK = ("localhost", "127.", "::1", "0.0.0.0")


def base_url_warning(base: str) -> str | None:
    """Printed QR codes must reach the public site: a loopback base URL is a mistake worth shouting."""
    host = (urlsplit(base).hostname or "").lower()
    if host in ("", "::1") or host == "localhost" or host.endswith(".localhost") or host.startswith(LOOPBACK):
        return (
            f"WARNING: the QR codes point at {base}, a loopback address that no phone can reach; set "
            "AGRITRACE_PUBLIC_BASE_URL to the public address of the consumer pages before printing"
        )
    return None


class LabelRequest(BaseModel):
    layout: str = Field(default="a4-3x8", description=f"one of {', '.join(LAYOUTS)}")
    copies: int = Field(default=0, ge=0, le=MAX_LABELS, description="labels of the lot itself")
    serials: int = Field(default=0, ge=0, le=MAX_LABELS, description="new serialised units, one label each")
    content: float | None = Field(
        default=None, gt=0, le=1_000_000,
        description="what each labelled unit holds, in the product's unit, printed in words (30 -> 'Số lượng: 30 quả')",
    )  # fmt: skip


@router.post(
    "/{lot_id}/labels", summary="PDF label sheet (A4 sheets or single thermal labels)",
    responses={503: {"description": "the label renderer of this server process is busy with other big sheets "
                                    "(nothing was written); try again after Retry-After seconds"}},
)  # fmt: skip
def labels(lot_id: DbId, req: LabelRequest, p: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    settings = runtime.settings
    lot, product = get_lot(session, p, lot_id)
    if lot.holder_org_id != p.org_id and lot.owner_org_id != p.org_id:
        raise Forbidden("only the lot's owner or holder prints its labels")
    refuse_recalled(lot)
    if req.layout not in LAYOUTS:
        raise Invalid(f"unknown layout {req.layout!r}; choose one of {', '.join(LAYOUTS)}")
    if req.copies + req.serials == 0:
        raise Invalid("ask for at least one label (copies or serials)")
    if req.copies + req.serials > MAX_LABELS:
        raise Invalid(f"at most {MAX_LABELS} labels per sheet request")
    common, expiry = label_fields(session, lot, product)
    if req.content is not None:
        word = NET_QUANTITY.get(product.unit, "Số lượng")
        common["content_line"] = f"{word}: {fmt.quantity(req.content, product.unit, 'vi')}"
    base = settings.public_base_url
    lot_label = LabelData(**common, qr_payload=build(product.gtin, lot.lot_code, expiry=expiry).uri(base))
    items = [lot_label] * req.copies
    assert runtime.label_renderer is not None, "built by traceability_api.compose.build_runtime"
    title = f"{product.name} {lot.lot_code}"
    try:  # a place for the sheet first: a busy renderer refuses before any serial is written
        reservation = runtime.label_renderer.reserve(req.copies + req.serials)
    except RendererBusy as exc:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": str(exc.retry_after)})
    with reservation as draw:
        try:  # layout and fonts checked on one label before any serial is written
            draw([lot_label], LAYOUTS[req.layout], title=title)
        except LabelError as exc:
            raise Invalid(str(exc)) from exc
        if req.serials:
            codes = commission_serials(session, p, lot, product, req.serials, settings, checks=runtime.capture_checks)
            secret = label_secret(settings)
            for c in codes:
                token = serial_token(secret, product.gtin, c)
                uri = build(product.gtin, lot.lot_code, c, expiry=expiry, token=token).uri(base)
                items.append(LabelData(**common, qr_payload=uri, serial=c))
        # commit the serials before drawing the sheet: a big sheet takes a second or more on a busy
        # machine, and no write transaction (SQLite's single write lock, PostgreSQL's lot rows) may
        # be held for that long
        session.commit()
        try:
            pdf = draw(items, LAYOUTS[req.layout], title=title)
        except LabelError as exc:
            raise Invalid(str(exc)) from exc
    headers = {"Content-Disposition": f'attachment; filename="labels-{product.gtin}-{lot.lot_code}.pdf"'}
    warning = base_url_warning(base)
    if warning:
        headers |= {"Warning": f'299 agritrace "{warning}"', "X-AgriTrace-Warning": warning}
    return Response(pdf, media_type="application/pdf", headers=headers)
