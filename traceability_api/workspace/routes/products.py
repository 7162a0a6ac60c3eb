"""Products: a GTIN helper (GS1 company prefix + item reference -> GTIN-13 with its check digit,
by the project's own ``gs1_check_digit``) and the product form stored by ``create_product``; the
organisation's certificate records and their form (``routes/certificates.py`` stores them)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from traceability_api.consensus.gs1_uri import gs1_check_digit
from traceability_api.deps import SessionDep
from traceability_api.errors import DomainError
from traceability_api.lots.models import UOMS, ProductCreate
from traceability_api.lots.service import create_product
from traceability_api.registries.models import CertScheme
from traceability_api.registries.router import today
from traceability_api.registries.views import cert_rows, certifiers
from traceability_api.workspace import views
from traceability_api.workspace.messages import Errors, from_domain, from_validation
from traceability_api.workspace.numbers import plain
from traceability_api.workspace.web import Page, PageDep, PostDep, render, see_other

router = APIRouter(prefix="/app", include_in_schema=False)
Opt = Annotated[str, Form(max_length=500)]


def gtin_from(prefix: str, item: str) -> str | None:
    """GTIN-13 of a company prefix and item reference whose digits add up to 12; else None."""
    digits = prefix.strip() + item.strip()
    if not re.fullmatch(r"\d{12}", digits) or not re.fullmatch(r"\d{6,11}", prefix.strip()):
        return None
    return digits + gs1_check_digit(digits)


def products_page(request: Request, page: Page, session: Session, v: dict[str, Any], errors: Errors,
          status: int = 200, cv: dict[str, Any] | None = None) -> Response:  # fmt: skip
    """The products page; ``cv``: the certificate form's values (when it was refused)."""
    p = page.user.principal
    return render(request, "products.html", status, page=page, v=v, errors=errors, uoms=UOMS,
                  products=views.products(session, p), certs=cert_rows(session, p, today(page.settings)),
                  plots=views.places(session, p), certifiers=certifiers(session), schemes=list(CertScheme),
                  cv=cv or {"scheme": "vietgap"}, notice=page.t["cert_saved"] if request.query_params.get("cert")
                  else None)  # fmt: skip


@router.get("/products")
def products(request: Request, page: PageDep, session: SessionDep) -> Response:
    return products_page(request, page, session, {"unit": "KGM", "max_yield": "1"}, {})


@router.post("/products")
def add_product(
    request: Request, page: PostDep, session: SessionDep, company_prefix: Opt = "", item_ref: Opt = "",
    gtin: Opt = "", name: Opt = "", unit: Opt = "KGM", max_yield: Opt = "1", action: Opt = "save",
) -> Response:  # fmt: skip
    v = {"company_prefix": company_prefix, "item_ref": item_ref, "gtin": gtin.strip(), "name": name, "unit": unit,
         "max_yield": max_yield}  # fmt: skip
    if action == "compute" or (not v["gtin"] and company_prefix):
        computed = gtin_from(company_prefix, item_ref)
        if computed is None:
            msg = (
                "Mã doanh nghiệp + mã mặt hàng phải đủ 12 chữ số." if page.lang == "vi" else "Prefix + item: 12 digits."
            )
            return products_page(request, page, session, v, {"item_ref": msg}, 422)
        v["gtin"] = computed
        if action == "compute":
            return products_page(request, page, session, v, {})
    raw = {"gtin": v["gtin"], "name": name.strip(), "unit": unit, "max_yield": plain(max_yield, page.lang) or "1"}
    try:
        data = ProductCreate.model_validate(raw)
    except ValidationError as exc:
        return products_page(request, page, session, v, from_validation(exc, page.lang), 422)
    try:
        create_product(session, page.user.principal, data)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return products_page(request, page, session, v, from_domain(exc, page.lang, "gtin"), exc.status_code)
    return see_other("/app/products")
