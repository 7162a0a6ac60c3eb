"""Processing: input lots -> output lots (paddy -> rice + bran), the mass balance shown before
saving (``authority.mass_balance.allowed_output``, the audit's own rule), stored as a
TransformationEvent through ``capture_events`` (custody checks holdings and remaining quantities)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from traceability_api.authority.mass_balance import allowed_output
from traceability_api.deps import RuntimeDep, SessionDep
from traceability_api.epcis.builder import transformation_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.errors import DomainError
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.lots.models import Lot, Product, check_lot_code
from traceability_api.validation import db_id_of
from traceability_api.workspace import views
from traceability_api.workspace.messages import Errors, from_domain
from traceability_api.workspace.numbers import parse_quantity
from traceability_api.workspace.web import Page, PageDep, PostDep, render, see_other

router = APIRouter(prefix="/app", include_in_schema=False)
ROWS = 3
# where the form says a refusal; a domain refusal for another field ("lot", "quantity", "lot_code":
# a lot consumed or in transit, more than a lot holds, an output code taken) goes above the form
SHOWN = {"_form", "outputs"} | {f"{k}_{i}" for k in ("in_lot", "in_qty", "out_gtin", "out_code", "out_qty")
                                for i in range(ROWS)}  # fmt: skip


@dataclass
class Balance:
    total_in: float
    lines: list[tuple[str, float, float, bool]]  # product, quantity, most allowed, over

    @property
    def ok(self) -> bool:
        return not any(over for *_, over in self.lines)


def _form(request: Request, page: Page, session: Session, v: dict[str, Any], errors: Errors,
          balance: Balance | None = None, status: int = 200) -> Response:  # fmt: skip
    p = page.user.principal
    return render(request, "process.html", status, page=page, v=v, errors=errors, balance=balance, rows=range(ROWS),
                  lots=views.held_lots(session, p), products=views.products(session, p))  # fmt: skip


@router.get("/process")
def process_form(request: Request, page: PageDep, session: SessionDep) -> Response:
    return _form(request, page, session, {}, {})


def _read(session: Session, page: Page, form: Any) -> tuple[list[Any], list[Any], Errors]:
    """Parsed (lot, product, qty) inputs and (product, code, qty) outputs, with field errors."""
    p, errors, ins, outs = page.user.principal, {}, [], []
    for i in range(ROWS):
        lid, raw = str(form.get(f"in_lot_{i}") or ""), str(form.get(f"in_qty_{i}") or "")
        if not lid:
            continue
        lot = session.get(Lot, in_id) if (in_id := db_id_of(lid)) is not None else None
        if lot is None or lot.holder_org_id != p.org_id:
            errors[f"in_lot_{i}"] = page.t["required"]
            continue
        qty, err = parse_quantity(raw, page.lang, default=lot.quantity_remaining)
        if err:
            errors[f"in_qty_{i}"] = err
        ins.append((lot, session.get(Product, lot.product_id), qty))
    for i in range(ROWS):
        gtin, code, raw = (str(form.get(f"out_{k}_{i}") or "").strip() for k in ("gtin", "code", "qty"))
        if not gtin:
            continue
        product = next((pr for pr in views.products(session, p) if pr.gtin == gtin), None)
        if product is None:
            errors[f"out_gtin_{i}"] = page.t["required"]
            continue
        try:
            check_lot_code(code)
        except DomainError:
            errors[f"out_code_{i}"] = page.t["bad_format"]
        qty, err = parse_quantity(raw, page.lang)
        if err:
            errors[f"out_qty_{i}"] = err
        outs.append((product, code, qty))
    if not ins:
        errors.setdefault("in_lot_0", page.t["required"])
    if not outs:
        errors.setdefault("out_gtin_0", page.t["required"])
    return ins, outs, errors


@router.post("/process")
async def process(request: Request, page: PostDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    form = await request.form()
    v = {k: str(val) for k, val in form.items() if k != "csrf"}
    ins, outs, errors = _read(session, page, form)
    if errors:
        return _form(request, page, session, v, errors, status=422)
    total_in = sum(q for *_, q in ins)
    lines = []
    for product, _code, q in outs:
        most = allowed_output(total_in, product.max_yield)
        lines.append((product.name, q, most, q > most + 1e-9))
    balance = Balance(total_in, lines)
    if form.get("action") != "save":
        return _form(request, page, session, v, {}, balance)
    event = transformation_event(
        runtime.settings.zone,
        [(lot_uri(pr.gtin, lot.lot_code), q, lot.uom) for lot, pr, q in ins],
        [(lot_uri(pr.gtin, code), q, pr.unit) for pr, code, q in outs],
    )
    try:
        capture_events(session, page.user.principal, [event], DEFAULT_CONTEXT, runtime.settings,
                       checks=runtime.capture_checks)  # fmt: skip
        session.commit()
    except DomainError as exc:
        session.rollback()
        said = {k if k in SHOWN else "_form": m for k, m in from_domain(exc, page.lang).items()}
        return _form(request, page, session, v, said, balance, exc.status_code)
    return see_other("/app?done=saved")
