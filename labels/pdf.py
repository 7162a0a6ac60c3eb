"""Printable PDF label sheets (reportlab).  A layout is validated data in millimetres; one pure
function renders labels onto it.  Text uses an embedded TrueType font with full Vietnamese
diacritics (DejaVu Sans); each QR code is one 1-bit image mask of its modules scaled to size (not
interpolated, PDF's default: every module prints as a solid square at any printer resolution)."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from labels.qr import image_mask

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts")


class LabelError(ValueError):
    pass


@dataclass(frozen=True)
class Layout:
    name: str
    page_w: float  # mm
    page_h: float
    label_w: float
    label_h: float
    cols: int
    rows: int
    margin_left: float = 0.0
    margin_top: float = 0.0
    gap_x: float = 0.0
    gap_y: float = 0.0

    def __post_init__(self) -> None:
        if min(self.page_w, self.page_h, self.label_w, self.label_h) <= 0 or self.cols < 1 or self.rows < 1:
            raise LabelError(f"layout {self.name}: sizes must be positive and at least one row and column")
        if min(self.margin_left, self.margin_top, self.gap_x, self.gap_y) < 0:
            raise LabelError(f"layout {self.name}: margins and gaps cannot be negative")
        used_w = self.margin_left + self.cols * self.label_w + (self.cols - 1) * self.gap_x
        used_h = self.margin_top + self.rows * self.label_h + (self.rows - 1) * self.gap_y
        if used_w > self.page_w + 0.01 or used_h > self.page_h + 0.01:
            raise LabelError(f"layout {self.name}: {self.cols}x{self.rows} labels do not fit on the page")
        if self.label_w < 30 or self.label_h < 20:
            raise LabelError(f"layout {self.name}: labels smaller than 30x20 mm cannot hold a scannable QR and text")

    @property
    def per_page(self) -> int:
        return self.cols * self.rows


A4_W, A4_H = A4[0] / mm, A4[1] / mm
LAYOUTS = {
    "a4-3x8": Layout("a4-3x8", A4_W, A4_H, 70, 37, 3, 8, 0, 0.5),  # 24 per sheet (Avery 3474 type)
    "a4-2x7": Layout("a4-2x7", A4_W, A4_H, 99.1, 38.1, 2, 7, 4.65, 15.15, 2.5, 0),  # 14 per sheet
    "a4-4x10": Layout("a4-4x10", A4_W, A4_H, 48.5, 25.4, 4, 10, 8, 21.5, 0, 0),  # 40 per sheet
    "thermal-60x40": Layout("thermal-60x40", 60, 40, 60, 40, 1, 1),
    "thermal-100x50": Layout("thermal-100x50", 100, 50, 100, 50, 1, 1),
}


@dataclass(frozen=True)
class LabelData:
    product_name: str
    producer: str
    lot: str
    date_line: str  # e.g. "Thu hoạch: 28/02/2025"
    qr_payload: str
    ocop_stars: int | None = None
    serial: str | None = None
    gtin: str | None = None
    expiry_line: str | None = None  # e.g. "HSD: 30/08/2025"
    content_line: str | None = None  # e.g. "Số lượng: 30 quả" (a tray of eggs), "Khối lượng tịnh: 10 kg"
    codes_line: str | None = None  # registered codes, e.g. "MSVT/PUC: VN-DTOR-0012 · MSĐG/PHC: VN-DTPH-0005"


_FONT_LOCK = threading.Lock()


def _font() -> tuple[str, str]:
    """Register DejaVu Sans once per process.  Under a lock: requests render small sheets in their
    own threads, and one thread seeing the regular face registered before the bold one was would
    fail to find the bold."""
    explicit = os.environ.get("AGRITRACE_LABEL_FONT_DIR")
    for d in ((explicit,) if explicit else ()) + FONT_DIRS:
        regular, bold = Path(d) / "DejaVuSans.ttf", Path(d) / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            with _FONT_LOCK:
                if "DejaVuSans-Bold" not in pdfmetrics.getRegisteredFontNames():
                    pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
                    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
            return "DejaVuSans", "DejaVuSans-Bold"
    raise LabelError("DejaVu Sans not found (Debian package fonts-dejavu-core; or set AGRITRACE_LABEL_FONT_DIR)")


def _draw_qr(c: canvas.Canvas, payload: str, x: float, y: float, size: float) -> None:
    """The symbol as an inline image mask (one bit per module, hex-encoded in the page's compressed
    content stream), painted in the fill colour with a quiet zone of two modules each side.  Far
    cheaper to write and to compress than a path of each row's dark runs."""
    side, bits = image_mask(payload)
    module = size / (side + 4)
    width = side * module
    cm = fp_str(width, 0, 0, width, x + 2 * module, y + 2 * module)
    c.addLiteral(f"q {cm} cm\nBI /W {side} /H {side} /IM true /F /AHx ID\n{bits.hex()}>\nEI Q")


def _fit(c: canvas.Canvas, text: str, font: str, size: float, width: float) -> float:
    while size > 5 and c.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


class _Lines:
    """The text lines of one document, each fitted and encoded once: a sheet repeats its product,
    producer, lot and dates on every label (only a serial differs), and reportlab's text objects
    cost more than the rest of a label.  The encoded operators hold only for this document (they
    name its own font subsets)."""

    def __init__(self, c: canvas.Canvas) -> None:
        self.c = c
        self._done: dict[tuple[str, str, float, float], tuple[float, str]] = {}

    def draw(self, text: str, font: str, size: float, width: float, x: float, top: float, floor: float) -> float:
        """Draw ``text`` shrunk to ``width`` with its baseline one line below ``top``, unless that is
        below ``floor``; returns the baseline."""
        key = (text, font, size, width)
        done = self._done.get(key)
        if done is None:
            fitted = _fit(self.c, text, font, size, width)
            t = self.c.beginText(0, 0)
            t.setFont(font, fitted)
            t.textLine(text)
            done = self._done[key] = (fitted, t.getCode().split(" Tm ", 1)[1])  # all after "BT <origin> Tm"
        fitted, ops = done
        y = top - fitted * 1.25
        if y >= floor:
            self.c.addLiteral(f"BT 1 0 0 1 {fp_str(x, y)} Tm {ops}")
        return y


def _label(c: canvas.Canvas, text: _Lines, d: LabelData, x: float, y: float, w: float, h: float,
           fonts: tuple[str, str]) -> None:  # fmt: skip
    regular, bold = fonts
    pad = 2.5 * mm
    qr_size = min(h - 2 * pad, w * 0.45)
    _draw_qr(c, d.qr_payload, x + w - pad - qr_size, y + (h - qr_size) / 2, qr_size)
    tw = w - 3 * pad - qr_size
    tx = x + pad
    lines: list[tuple[str, str, float]] = [(d.product_name, bold, 9.5), (d.producer, regular, 6.5)]
    if d.gtin:
        lines.append((f"GTIN (01) {d.gtin}", regular, 6))
    lines.append((f"Lô/Lot: {d.lot}", regular, 6.5))
    if d.serial:
        lines.append((f"Số sê-ri: {d.serial}", regular, 6))
    if d.content_line:
        lines.append((d.content_line, bold, 6.5))
    if d.date_line:
        lines.append((d.date_line, regular, 6.5))
    if d.expiry_line:
        lines.append((d.expiry_line, bold, 6.5))
    if d.codes_line:
        lines.append((d.codes_line, bold, 6))
    if d.ocop_stars:
        lines.append(("OCOP " + "★" * d.ocop_stars + "☆" * (5 - d.ocop_stars), bold, 7))
    cy = y + h - pad
    for line, font, size in lines:
        cy = text.draw(line, font, size, tw, tx, cy, y + pad)
        if cy < y + pad:
            break


def render(labels: Sequence[LabelData], layout: Layout, *, title: str = "AgriTrace labels") -> bytes:
    """Render ``labels`` onto as many pages of ``layout`` as needed; returns the PDF."""
    if not labels:
        raise LabelError("no labels to print")
    fonts = _font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(layout.page_w * mm, layout.page_h * mm), pageCompression=1)
    c.setTitle(title)
    c.setAuthor("AgriTrace")
    text = _Lines(c)
    for i, d in enumerate(labels):
        slot = i % layout.per_page
        if i and slot == 0:
            c.showPage()
        col, row = slot % layout.cols, slot // layout.cols
        x = (layout.margin_left + col * (layout.label_w + layout.gap_x)) * mm
        y = (layout.page_h - layout.margin_top - (row + 1) * layout.label_h - row * layout.gap_y) * mm
        _label(c, text, d, x, y, layout.label_w * mm, layout.label_h * mm, fonts)
    c.showPage()
    c.save()
    return buf.getvalue()
