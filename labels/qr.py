"""QR codes as vector SVG or PNG (segno), error correction chosen by payload length:
short payloads get the sturdiest level that keeps the symbol small enough to print on a label."""

from __future__ import annotations

import io

import segno


def error_level(payload: str) -> str:
    n = len(payload.encode())
    if n <= 60:
        return "h"  # 30 %: survives scuffed / wet packaging
    if n <= 120:
        return "q"
    return "m"


def qr(payload: str) -> segno.QRCode:
    return segno.make_qr(payload, error=error_level(payload), boost_error=False)


def svg(payload: str, *, scale: int = 4) -> str:
    buf = io.BytesIO()
    qr(payload).save(buf, kind="svg", scale=scale, border=2, xmldecl=False, svgns=True)
    return buf.getvalue().decode()


def png(payload: str, *, scale: int = 8) -> bytes:
    buf = io.BytesIO()
    qr(payload).save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()
