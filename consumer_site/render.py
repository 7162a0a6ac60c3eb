"""Render typed view models (consumer_site.viewmodel) to HTML / SVG."""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from consumer_site.i18n import STRINGS
from consumer_site.viewmodel import InvalidCode, LotPage, OpenDataPage, UnknownCode, UnknownWidget

HERE = Path(__file__).resolve().parent


@lru_cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates are package files: no stat() of each one on every render
    )


@lru_cache
def _css() -> str:
    css = (HERE / "static" / "page.css").read_text()
    if "</" in css:  # it is inlined in a <style> element, which "</" would end early
        raise ValueError("page.css must not contain '</'")
    return css


def _ctx(vm: LotPage | UnknownCode | InvalidCode | UnknownWidget | OpenDataPage) -> dict[str, Any]:
    ctx = {f.name: getattr(vm, f.name) for f in fields(vm)}
    # the stylesheet is our own file, marked safe so that autoescaping does not turn its quotes into &#34;
    return ctx | {"t": STRINGS[vm.lang], "css": Markup(_css()), "lang": vm.lang}


def lot_page(vm: LotPage) -> str:
    return _env().get_template("lot.html").render(_ctx(vm))


def widget(vm: LotPage) -> str:
    return _env().get_template("widget.html").render(_ctx(vm))


def unknown_code(vm: UnknownCode) -> str:
    return _env().get_template("unknown.html").render(_ctx(vm))


def invalid_code(vm: InvalidCode) -> str:
    return _env().get_template("invalid.html").render(_ctx(vm))


def unknown_widget(vm: UnknownWidget) -> str:
    return _env().get_template("widget_unknown.html").render(_ctx(vm))


def opendata_page(vm: OpenDataPage) -> str:
    return _env().get_template("opendata.html").render(_ctx(vm))


BADGE_COLORS = {"verified": "#1b6e3a", "pending": "#9a6700", "not_verified": "#b3261e", "recalled": "#b3261e",
                "unknown_title": "#b3261e", "invalid_title": "#b3261e"}  # fmt: skip


def badge(status: str, lang: str = "vi") -> str:
    label = STRINGS[lang][status]
    width = 70 + 12 + int(len(label) * 7)
    return _env().get_template("badge.svg").render(label=label, width=width, color=BADGE_COLORS[status])


def sparkline(
    values: list[float], *, lo: float | None = None, hi: float | None = None, w: int = 120, h: int = 32, label: str = ""
) -> str:
    """A small inline SVG line chart; dashed lines mark the thresholds when given."""
    if not values:
        return ""
    vmin, vmax = (
        min(values + [v for v in (lo, hi) if v is not None]),
        max(values + [v for v in (lo, hi) if v is not None]),
    )
    span = (vmax - vmin) or 1.0

    def y(v: float) -> float:
        return round(h - 2 - (v - vmin) / span * (h - 4), 1)

    step = (w - 4) / max(1, len(values) - 1)
    pts = " ".join(f"{round(2 + i * step, 1)},{y(v)}" for i, v in enumerate(values))
    marks = "".join(
        f'<line x1="0" x2="{w}" y1="{y(t)}" y2="{y(t)}" stroke="#b3261e" stroke-dasharray="3 2" stroke-width="1"/>'
        for t in (lo, hi)
        if t is not None
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>{marks}'
        f'<polyline fill="none" stroke="#1b6e3a" stroke-width="1.5" points="{pts}"/></svg>'
    )


PRODUCT_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" aria-hidden="true"><circle cx="32" cy="32" r="30" '
    'fill="#e8f1e4"/><path d="M32 12c-8 10-12 18-12 26a12 12 0 0 0 24 0c0-8-4-16-12-26z" fill="#1b6e3a"/>'
    '<path d="M32 22v28" stroke="#e8f1e4" stroke-width="2"/></svg>'
)

FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1b6e3a"/>'
    '<path d="M16 5c-5 6-7 11-7 15a7 7 0 0 0 14 0c0-4-2-9-7-15z" fill="#fff"/></svg>'
)
