#!/usr/bin/env python
"""Benchmark: QR encoding and label sheets, each next to a bare-library reference of the same run.

    .venv/bin/python scripts/bench/labels.py [--labels 1000] [--reps 3]

1. QR encoding of ``--labels`` distinct serialised Digital Links (about 110 bytes each):
   the project's ``labels.qr.matrix`` against bare segno (``segno.make_qr(...).matrix``, the encoder
   used before) and bare zxing-cpp (``create_barcode(...).to_image()``).
2. The PDF sheet of those labels in-process (``labels.pdf.render``), against bare zxing-cpp encoding
   of the same codes (the floor: the sheet's own work is the ratio above 1).
3. ``POST /api/v1/lots/{id}/labels`` with ``serials=--labels`` over HTTP (serials commissioned,
   tokens signed, PDF drawn by the server's render process and returned), SQLite, one server
   worker, against the in-process sheet of 2.  The first repetition starts the render process.
4. Four such requests at once: one renders, two wait, the fourth is refused with 503 (statuses).
Each figure: ``--reps`` repetitions, min and median; a figure and its reference run interleaved.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import segno
import zxingcpp
from common import arguments, cooperative, server
from eth_account import Account
from sqlmodel import Session

from chain.client import connect
from chain.node import AnvilNode
from labels import qr
from labels.pdf import LAYOUTS, LabelData, render
from traceability_api.compose import CAPTURE_CHECKS, build_runtime
from traceability_api.config import Settings
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.lots.models import ProductCreate
from traceability_api.lots.service import create_product

GTIN = "08930000000019"


def payloads(n: int) -> list[str]:
    return [f"https://trace.example.vn/01/{GTIN}/10/L50/21/S{i:08d}?17=250830&t=Zk3q9xPa7LmT2vWe" for i in range(n)]


def project_matrix(p: str) -> object:
    fn = getattr(qr, "matrix", None)  # labels.qr.matrix since the zxing-cpp encoder; before: segno's matrix
    return fn(p) if fn is not None else qr.qr(p).matrix


def bare_segno(p: str) -> object:
    return segno.make_qr(p, error=qr.error_level(p), boost_error=False).matrix


def bare_zxing(p: str) -> object:
    return bytes(memoryview(zxingcpp.create_barcode(p, zxingcpp.BarcodeFormat.QRCode,
                                                    ec_level=qr.error_level(p).upper()).to_image(scale=1)))  # fmt: skip


def interleaved(*fns: Callable[[], object], reps: int) -> list[list[float]]:
    """Wall seconds of each of ``fns``, ``reps`` times, interleaved (a, b, a, b, ...): a load that
    comes and goes on a shared machine weighs on the figure and its reference alike."""
    out: list[list[float]] = [[] for _ in fns]
    for _ in range(reps):
        for fn, secs in zip(fns, out, strict=True):
            t0 = time.perf_counter()
            fn()
            secs.append(time.perf_counter() - t0)
    return out


def show(name: str, secs: list[float], per: int = 1, unit: str = "s") -> float:
    scale = 1000 / per if unit == "ms" else 1
    print(f"  {name:54s} min {min(secs) * scale:8.3f} {unit}  median {statistics.median(secs) * scale:8.3f} {unit}")  # noqa: T201
    return statistics.median(secs)


def seed(settings: Settings) -> tuple[str, int]:
    rt = build_runtime(settings)
    with Session(rt.engine) as s:
        org, issued, p = cooperative(s)
        create_product(s, p, ProductCreate(gtin=GTIN, name="Gạo ST25", ocop_stars=4))
        ev = {"type": "ObjectEvent", "eventTime": "2025-03-01T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
              "action": "ADD", "bizStep": "commissioning",
              "quantityList": [{"epcClass": f"https://id.gs1.org/01/{GTIN}/10/L50", "quantity": 10,
                                "uom": "KGM"}]}  # fmt: skip
        capture_events(s, p, [ev], DEFAULT_CONTEXT, settings, checks=CAPTURE_CHECKS)
        s.commit()
    rt.close()
    return issued.api_key, 1


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--labels", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    codes = payloads(a.labels)
    print(f"QR encoding, {a.labels} distinct payloads of {len(codes[0])} bytes, per code:")  # noqa: T201
    proj_s, seg_s, zx_s = interleaved(
        lambda: [project_matrix(p) for p in codes], lambda: [bare_segno(p) for p in codes],
        lambda: [bare_zxing(p) for p in codes], reps=a.reps,
    )  # fmt: skip
    proj = show("project labels.qr (matrix for the PDF)", proj_s, a.labels, "ms")
    seg = show("reference: bare segno make_qr().matrix", seg_s, a.labels, "ms")
    zx = show("reference: bare zxing-cpp create_barcode().to_image()", zx_s, a.labels, "ms")
    print(f"  speed-up over bare segno {seg / proj:.1f}x; project/bare zxing-cpp time ratio {proj / zx:.2f}")  # noqa: T201
    data = [LabelData("Gạo ST25", "HTX Thạnh Phú", "L50", "Thu hoạch: 28/02/2025", p, 4, f"S{i:08d}", GTIN,
                      "HSD: 30/08/2025") for i, p in enumerate(codes)]  # fmt: skip
    print(f"PDF sheet of {a.labels} labels (a4-3x8), in-process:")  # noqa: T201
    sheet_s, floor_s = interleaved(lambda: render(data, LAYOUTS["a4-3x8"]), lambda: [bare_zxing(p) for p in codes],
                             reps=a.reps)  # fmt: skip
    sheet = show("labels.pdf.render", sheet_s)
    floor = show("reference: bare zxing-cpp encoding of the same codes", floor_s)
    print(f"  sheet/encoding time ratio {sheet / floor:.2f}")  # noqa: T201
    with tempfile.TemporaryDirectory() as tmp, AnvilNode(extra_args=("--prune-history",)) as node:
        acct = Account.create()
        connect(node.url).provider.make_request("anvil_setBalance", [acct.address, hex(10**24)])  # type: ignore[arg-type]
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(data_dir=Path(tmp), database_url=db, chain_rpc_url=node.url,
                            anchor_private_key=acct.key.hex(), anchor_worker=False)  # fmt: skip
        key, lot_id = seed(settings)
        env = {"DATABASE_URL": db, "CHAIN_RPC_URL": node.url, "AGRITRACE_ANCHOR_PRIVATE_KEY": acct.key.hex(),
               "AGRITRACE_DATA_DIR": tmp, "AGRITRACE_ANCHOR_WORKER": "false"}  # fmt: skip
        with server(env, 1) as base, httpx.Client(base_url=base, timeout=300,
                                                 headers={"Authorization": f"Bearer {key}"}) as c:  # fmt: skip
            sizes = []

            def request() -> httpx.Response:
                return c.post(f"/api/v1/lots/{lot_id}/labels", json={"layout": "a4-3x8", "serials": a.labels})

            def post() -> None:
                r = request()
                assert r.status_code == 200, r.text
                sizes.append(len(r.content))

            print(f"POST /labels, {a.labels} serialised labels over HTTP ({a.labels} serials commissioned each time):")  # noqa: T201
            (api_s,) = interleaved(post, reps=a.reps)
            api = show("API", api_s)
            print(f"  API/in-process sheet time ratio {api / sheet:.2f}; PDF size {sizes[-1] / 1e6:.2f} MB")  # noqa: T201

            with ThreadPoolExecutor(4) as pool:
                statuses = sorted(pool.map(lambda _: request().status_code, range(4)))
            print(f"4 concurrent POST /labels of {a.labels}: statuses {statuses}")  # noqa: T201


if __name__ == "__main__":
    main()
