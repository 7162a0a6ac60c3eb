"""Every QR code printed on a label sheet decodes, read back by a real decoder (zxing-cpp) from the
PDF page rasterised by PDFium (pypdfium2), at each error-correction level the payload length picks."""

from __future__ import annotations

import pypdfium2
import pytest
import zxingcpp

from labels import qr
from labels.digital_link import build
from labels.pdf import LAYOUTS, LabelData, render
from labels.tokens import serial_token

pytestmark = pytest.mark.sqlite_only
BASE = "https://trace.example.vn"


def decoded_pages(pdf: bytes, dpi: int = 200) -> list[set[str]]:
    """The texts of the QR codes found on each page of ``pdf``."""
    doc = pypdfium2.PdfDocument(pdf)
    try:
        out = []
        for i in range(len(doc)):
            image = doc[i].render(scale=dpi / 72, grayscale=True).to_pil()
            out.append({r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)})
        return out
    finally:
        doc.close()


def test_every_code_of_a_sheet_decodes_at_each_error_level() -> None:
    gtin, secret = "08930000000019", b"k" * 32
    short = [build(gtin, f"L{i}").uri("https://t.vn") for i in range(4)]  # <= 60 bytes: level H
    medium = [build(gtin, "ST25-03", f"S{i:06d}", token=serial_token(secret, gtin, f"S{i:06d}")).uri(BASE)
              for i in range(16)]  # fmt: skip
    long = [f"{BASE}/01/{gtin}/10/{'L' * 20}/21/{i:020d}?t={'x' * 40}" for i in range(4)]  # > 120 bytes: level M
    payloads = short + medium + long
    assert {qr.error_level(p) for p in payloads} == {"h", "q", "m"}
    labels = [LabelData("Gạo ST25", "HTX Thạnh Phú", "ST25-03", "Thu hoạch: 28/02/2025", p, 4, None, gtin)
              for p in payloads]  # fmt: skip
    pages = decoded_pages(render(labels, LAYOUTS["a4-3x8"]))
    assert pages == [set(payloads)]  # 24 labels: one page, every code read back exactly


def test_matrix_is_the_symbol_the_decoder_reads() -> None:
    """The module matrix drawn on labels is a QR symbol of the payload (rows of 0/1, square, no quiet zone)."""
    payload = f"{BASE}/01/08930000000019/10/L1"
    m = qr.matrix(payload)
    assert len(m) == len(m[0]) and len(m) % 4 == 1 and set(b"".join(m)) == {0, 1}
    assert m[0][:7] == b"\x01" * 7 and m[0][-7:] == b"\x01" * 7  # finder patterns top left and top right


def test_big_sheets_render_in_one_shared_worker_process() -> None:
    from traceability_api.consumer.label_renderer import LabelRenderer

    renderer = LabelRenderer(inline_max=2)
    payloads = [f"{BASE}/01/08930000000019/10/L1/21/S{i}" for i in range(3)]
    labels = [LabelData("Gạo", "HTX", "L1", "", p) for p in payloads]
    try:
        assert decoded_pages(renderer.render(labels, LAYOUTS["a4-3x8"], title="t")) == [set(payloads)]
        pool = renderer._pool
        assert pool is not None  # the sheet went to the worker process...
        renderer.render(labels, LAYOUTS["a4-3x8"], title="t")
        assert renderer._pool is pool  # ...and the next one to the same process, not a new pool
        assert renderer.render(labels[:2], LAYOUTS["a4-3x8"], title="t")[:5] == b"%PDF-"  # small: inline
    finally:
        renderer.close()
    assert renderer._pool is None


def test_image_mask_is_the_matrix_bit_for_bit() -> None:
    """The image mask drawn on sheets holds the symbol's modules: 0 where the matrix is dark."""
    for payload in (f"{BASE}/01/08930000000019/10/L1", f"{BASE}/01/08930000000019/10/L1/21/S1?t={'x' * 60}"):
        m = qr.matrix(payload)
        side, bits = qr.image_mask(payload)
        stride = (side + 7) // 8
        assert side == len(m) and len(bits) == side * stride
        for r, row in enumerate(m):
            unpacked = int.from_bytes(bits[r * stride : (r + 1) * stride], "big") >> (stride * 8 - side)
            assert [(unpacked >> (side - 1 - i)) & 1 for i in range(side)] == [1 - v for v in row]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_decodes_at_a_coarse_resolution(layout: str) -> None:
    """A full page of each layout, rasterised at 150 dpi (coarser than any label printer): every
    code is read back; the smallest modules are about half a millimetre."""
    gtin, secret = "08930000000019", b"k" * 32
    n = LAYOUTS[layout].per_page
    payloads = [build(gtin, "ST25-03", f"S{i:06d}", token=serial_token(secret, gtin, f"S{i:06d}")).uri(BASE)
                for i in range(n)]  # fmt: skip
    labels = [LabelData("Gạo ST25", "HTX Thạnh Phú", "ST25-03", "Thu hoạch: 28/02/2025", p, 4, f"S{i:06d}", gtin)
              for i, p in enumerate(payloads)]  # fmt: skip
    assert decoded_pages(render(labels, LAYOUTS[layout]), dpi=150) == [set(payloads)]


def test_a_busy_renderer_refuses_big_sheets_at_once_and_frees_its_place() -> None:
    from traceability_api.consumer.label_renderer import LabelRenderer, RendererBusy

    renderer = LabelRenderer(inline_max=2, max_waiting=1)  # one sheet rendering, one waiting
    labels = [LabelData("Gạo", "HTX", "L1", "", f"{BASE}/01/08930000000019/10/L1/21/S{i}") for i in range(3)]
    try:
        with renderer.reserve(3), renderer.reserve(3):
            with pytest.raises(RendererBusy) as busy:
                renderer.reserve(3)
            assert busy.value.retry_after > 0
            assert renderer.render(labels[:2], LAYOUTS["a4-3x8"], title="t")[:5] == b"%PDF-"  # small: inline
            with pytest.raises(RendererBusy):
                renderer.render(labels, LAYOUTS["a4-3x8"], title="t")
        with pytest.raises(RuntimeError), renderer.reserve(3):  # a request failing in its block gives the place back
            raise RuntimeError("commissioning failed")
        with renderer.reserve(3) as draw, renderer.reserve(3):  # both places free again
            assert decoded_pages(draw(labels, LAYOUTS["a4-3x8"], title="t")) == [{d.qr_payload for d in labels}]
        assert renderer._pool is not None  # the big sheet went to the worker process
    finally:
        renderer.close()


def test_a_sheet_started_while_another_thread_registers_the_fonts_finds_both_faces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Requests render small sheets in their own threads: one that starts between the registration
    of the regular face and of the bold one still finds both (it raised KeyError 'DejaVuSans-Bold')."""
    import threading

    from reportlab.pdfbase import pdfmetrics

    from labels import pdf

    for name in ("DejaVuSans", "DejaVuSans-Bold"):  # as in a fresh process; restored after the test
        monkeypatch.delitem(pdfmetrics._fonts, name, raising=False)
    label = [LabelData("Gạo", "HTX", "L1", "", f"{BASE}/01/08930000000019/10/L1")]
    other: list[object] = []
    threads: list[threading.Thread] = []
    register = pdfmetrics.registerFont

    def register_and_let_another_sheet_start(font: object) -> None:
        register(font)  # type: ignore[arg-type]
        if getattr(font, "fontName", "") == "DejaVuSans":  # the bold face is not registered yet

            def sheet() -> None:
                try:
                    other.append(render(label, LAYOUTS["a4-3x8"]))
                except Exception as exc:  # noqa: BLE001 - the failure under test
                    other.append(exc)

            threads.append(threading.Thread(target=sheet))
            threads[0].start()
            threads[0].join(timeout=1)  # unguarded, it runs to its end now; guarded, it waits for this one

    monkeypatch.setattr(pdf.pdfmetrics, "registerFont", register_and_let_another_sheet_start)
    assert render(label, LAYOUTS["a4-3x8"])[:5] == b"%PDF-"
    threads[0].join()
    assert len(other) == 1 and isinstance(other[0], bytes), other


def test_a_dead_render_process_is_replaced() -> None:
    import os
    import signal

    from traceability_api.consumer.label_renderer import LabelRenderer

    renderer = LabelRenderer(inline_max=1)
    labels = [LabelData("Gạo", "HTX", "L1", "", f"{BASE}/01/08930000000019/10/L1/21/S{i}") for i in range(2)]
    try:
        renderer.render(labels, LAYOUTS["a4-3x8"], title="t")
        pool = renderer._pool
        assert pool is not None
        (process,) = pool._processes.values()
        os.kill(process.pid, signal.SIGKILL)  # killed between two sheets (out of memory, an operator)
        process.join()
        assert decoded_pages(renderer.render(labels, LAYOUTS["a4-3x8"], title="t")) == [{d.qr_payload for d in labels}]
        assert renderer._pool is not None and renderer._pool is not pool
    finally:
        renderer.close()
