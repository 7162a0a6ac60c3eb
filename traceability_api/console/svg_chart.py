"""A bar chart as SVG text, drawn on the server: one pure function (no database, no request), with
axes, tick labels, a <title> and a <desc> so that a screen reader says what it shows (role="img").
Styling comes from console.css (classes only: the page's CSP allows no inline styles)."""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 48


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n at or above ``value`` (the top of the y axis)."""
    if value <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(value))
    return next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= value)  # type: ignore[no-any-return]


def _tick(v: float) -> str:
    return f"{v:,.0f}" if v >= 10 or v == int(v) else f"{v:g}"


def bar_chart(
    points: list[tuple[str, float]], title: str, desc: str, chart_id: str = "chart",
    number: Callable[[float], str] = _tick, label: Callable[[str], str] = str,
) -> str:  # fmt: skip
    """Bars of ``points`` (label, value >= 0) in order, a y axis with 5 ticks from 0, every label
    under its bar (every other one when there are more than 12).  ``number`` writes a value and
    ``label`` a point's label as the page's language does (28.000 and 03/2025 in Vietnamese)."""
    tid, did = f"{chart_id}-title", f"{chart_id}-desc"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" aria-labelledby="{tid} {did}">',
        f'<title id="{tid}">{escape(title)}</title>',
        f'<desc id="{did}">{escape(desc)}</desc>',
    ]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = nice_max(max((v for _, v in points), default=0))
    for i in range(6):
        v = top * i / 5
        y = TOP + plot_h - plot_h * i / 5
        out.append(f'<line class="axis grid" x1="{LEFT - 4}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{number(v)}</text>')
    out.append(f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>')
    out.append(f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"/>')
    n = len(points)
    step = plot_w / n if n else plot_w
    every = 1 if n <= 12 else math.ceil(n / 12)
    for i, (key, v) in enumerate(points):
        h = plot_h * max(v, 0) / top
        x = LEFT + i * step + step * 0.15
        out.append(
            f'<rect class="bar" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}">'
            f"<title>{escape(label(key))}: {number(v)}</title></rect>"
        )
        if i % every == 0:
            cx = LEFT + i * step + step / 2
            out.append(f'<text x="{cx:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{escape(label(key))}</text>')
    out.append("</svg>")
    return "\n".join(out)
