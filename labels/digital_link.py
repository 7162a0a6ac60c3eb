"""GS1 Digital Link URIs for trade items: ``https://<host>/01/<GTIN-14>/10/<lot>[/21/<serial>]``
with an optional expiry as the query attribute ``17=YYMMDD`` (and our serial token ``t``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, quote, unquote, urlsplit

_AI_VALUE = re.compile(r"^[!%-?A-Z_a-z\x22]{1,20}$")  # GS1 AI encodable character set 82, max 20


class DigitalLinkError(ValueError):
    """An invalid Digital Link URI or element, with the reason."""


def check_digit(digits: str) -> str:
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def normalise_gtin(gtin: str) -> str:
    if not re.fullmatch(r"\d{8}|\d{12,14}", gtin or ""):
        raise DigitalLinkError(f"GTIN {gtin!r} must be 8, 12, 13 or 14 digits")
    if check_digit(gtin[:-1]) != gtin[-1]:
        raise DigitalLinkError(f"GTIN {gtin} has a wrong check digit (expected {check_digit(gtin[:-1])})")
    return gtin.zfill(14)


def _value(name: str, v: str) -> str:
    if not _AI_VALUE.match(v):
        raise DigitalLinkError(f"{name} {v!r} must be 1-20 characters of the GS1 character set")
    return v


@dataclass(frozen=True)
class DigitalLink:
    gtin: str
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    token: str | None = None

    def uri(self, base: str) -> str:
        out = f"{base.rstrip('/')}/01/{self.gtin}"
        if self.lot:
            out += f"/10/{quote(self.lot, safe='')}"
        if self.serial:
            out += f"/21/{quote(self.serial, safe='')}"
        query = []
        if self.expiry:
            query.append(f"17={self.expiry:%y%m%d}")
        if self.token:
            query.append(f"t={self.token}")
        return out + ("?" + "&".join(query) if query else "")


def build(
    gtin: str, lot: str | None = None, serial: str | None = None, *, expiry: date | None = None,
    token: str | None = None,
) -> DigitalLink:  # fmt: skip
    return DigitalLink(
        normalise_gtin(gtin),
        _value("lot", lot) if lot is not None else None,
        _value("serial", serial) if serial is not None else None,
        expiry,
        token,
    )


def _yymmdd(v: str) -> date:
    if not re.fullmatch(r"\d{6}", v):
        raise DigitalLinkError(f"expiry {v!r} must be YYMMDD")
    yy, mm, dd = int(v[:2]), int(v[2:4]), int(v[4:])
    try:
        return date(2000 + yy, mm, dd if dd else 28)  # DD=00 means end of month; 28 is always valid
    except ValueError as exc:
        raise DigitalLinkError(f"expiry {v} is not a calendar date") from exc


def parse(uri: str) -> DigitalLink:
    """Parse a Digital Link URI (any host, optional path prefix before /01/)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        raise DigitalLinkError("a Digital Link URI starts with http:// or https://")
    segs = [unquote(s) for s in parts.path.split("/") if s]
    if "01" not in segs[::1]:
        raise DigitalLinkError("no /01/<GTIN> primary key in the path")
    segs = segs[segs.index("01") :]
    if len(segs) % 2:
        raise DigitalLinkError("path elements must come in AI/value pairs")
    pairs = list(zip(segs[0::2], segs[1::2], strict=True))
    order = [ai for ai, _ in pairs]
    allowed = [["01"], ["01", "10"], ["01", "21"], ["01", "10", "21"]]
    if order not in allowed:
        raise DigitalLinkError(f"unsupported key qualifiers /{'/'.join(order)}: expected /01[/10][/21]")
    d = dict(pairs)
    q = parse_qs(parts.query)
    expiry = _yymmdd(q["17"][0]) if "17" in q else None
    return build(d["01"], d.get("10"), d.get("21"), expiry=expiry, token=q.get("t", [None])[0])
