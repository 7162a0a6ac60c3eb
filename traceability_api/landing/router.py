"""``GET /``: a small landing page (not the consumer site: that lives at the Digital Link paths)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from traceability_api.demo_guide import demo_lots
from traceability_api.runtime import Runtime

router = APIRouter(tags=["landing"])
_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent), autoescape=select_autoescape(["html"]), auto_reload=False
)


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
def landing(request: Request) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    base = runtime.settings.public_base_url
    lots = demo_lots(runtime)
    example = lots[0][2].removeprefix(f"{base}/01/").replace("/10/", "/") if lots else "{gtin}/{lot}"
    html = _env.get_template("landing.html").render(lots=lots, base=base, example=example)
    return HTMLResponse(html)
