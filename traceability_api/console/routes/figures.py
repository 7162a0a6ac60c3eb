"""Console figures: one figure by month for a commune and a product (a GET form), drawn as an SVG
bar chart with its table, and the same table as CSV (UTF-8 with BOM, for spreadsheets)."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlmodel import Session, col, select

from traceability_api.console.cache import figure_cache
from traceability_api.console.figures import FIGURES, FILTERED_BY_PLACE_AND_PRODUCT, Filters, Series, communes
from traceability_api.console.svg_chart import bar_chart
from traceability_api.console.web import Console, ConsoleDep, month_label, render
from traceability_api.deps import SessionDep
from traceability_api.errors import Invalid
from traceability_api.lots.models import Product
from traceability_api.sheet_cells import csv_field
from traceability_api.workspace.i18n import number

router = APIRouter(include_in_schema=False)
MONTH = r"^((?:[1-9]\d{3}|0[1-9]\d\d|00[1-9]\d|000[1-9])-(0[1-9]|1[0-2]))?$"  # years 0001-9999
FIGURE = "^(" + "|".join(FIGURES) + ")$"
MAX_PRODUCTS = 500  # the filter's list; a province registers tens to hundreds


def _series(request: Request, console: Console, session: Session, figure: str, f: Filters) -> Series:
    st = console.page.settings
    cache = figure_cache(request.app.state, st.console_cache, st.console_cache_stale_s)
    return cache.get(session, ("figure", figure, f), lambda s: FIGURES[figure](s, f))


def _filters(commune: str, product: str, start: str, end: str) -> Filters:
    return Filters(commune or None, int(product) if product else None, start or None, end or None)


FigureQ = Annotated[str, Query(pattern=FIGURE)]
CommuneQ = Annotated[str, Query(max_length=100)]
ProductQ = Annotated[str, Query(pattern=r"^([1-9]\d{0,8})?$", description="a product id; empty: all")]
MonthQ = Annotated[str, Query(pattern=MONTH)]


@router.get("/app/console/figures")
def figures_page(
    request: Request, console: ConsoleDep, session: SessionDep, figure: FigureQ = "lots", commune: CommuneQ = "",
    product: ProductQ = "", start: MonthQ = "", end: MonthQ = "",
) -> Response:  # fmt: skip
    ct = console.ct
    bad_range = bool(start and end and start > end)  # months as YYYY-MM sort as text
    series = [] if bad_range else _series(request, console, session, figure, _filters(commune, product, start, end))
    products = session.exec(select(Product.id, Product.name).order_by(col(Product.name)).limit(MAX_PRODUCTS)).all()
    lang = console.page.lang
    chart = bar_chart(series, ct["fig_" + figure], ct["chart_desc"].format(n=len(series)), f"chart-{figure}",
                      lambda v: number(v, lang), month_label)  # fmt: skip
    query = request.url.query
    return render(request, "console_figures.html", console, 422 if bad_range else 200, figure=figure,
                  figures=list(FIGURES), series=series, range_error=ct["fig_bad_range"] if bad_range else None,
                  chart=Markup(chart), communes=communes(session), products=products,
                  v={"commune": commune, "product": product, "start": start, "end": end},
                  filtered=figure in FILTERED_BY_PLACE_AND_PRODUCT,
                  csv_url="/app/console/figures.csv" + (f"?{query}" if query else f"?figure={figure}"))  # fmt: skip


@router.get("/app/console/figures.csv")
def figures_csv(
    request: Request, console: ConsoleDep, session: SessionDep, figure: FigureQ = "lots", commune: CommuneQ = "",
    product: ProductQ = "", start: MonthQ = "", end: MonthQ = "",
) -> Response:  # fmt: skip
    if start and end and start > end:
        raise Invalid("start must not be after end (months as YYYY-MM)")
    series = _series(request, console, session, figure, _filters(commune, product, start, end))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["month", figure, "commune", "product_id"])
    for month, value in series:  # the commune is any organisation's text, echoed from the query: kept text
        w.writerow([month, f"{value:g}", csv_field(commune), product])
    return Response(
        ("\ufeff" + buf.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="agritrace-{figure}.csv"', "Cache-Control": "no-store",
                 "X-Content-Type-Options": "nosniff"},
    )  # fmt: skip
