"""GS1 Digital Link URIs: ``https://<host>[/prefix]/<key AI>/<key>[/<qualifier AI>/<value>...][?<AI>=<value>&...]``.

Primary keys: GTIN (01, with 22 / 10 / 21), SSCC (00), GLN (414, with 254), GIAI (8004), party GLN (417);
GS1's short names (``/gtin/``, ``/lot/``, ``/ser/`` ...) are read on input, numeric AIs written.  The query
carries data attributes (expiry 17, best before 15, production date 11, net weight 310n ...), each checked
against GS1's AI syntax by ``biip``; and our serial token ``t``.  What GS1's syntax rejects is refused
with the reason: unknown or internal AIs, a repeated attribute, NUL or control characters, an empty path
segment, a zero-suppressed GTIN, a key or key qualifier in the query, qualifiers out of order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from biip import ParseError
from biip.gln import Gln
from biip.gs1_application_identifiers import _GS1_APPLICATION_IDENTIFIERS as AIS
from biip.gs1_element_strings import GS1ElementString
from biip.gtin import Gtin
from biip.sscc import Sscc


class DigitalLinkError(ValueError):
    """An invalid Digital Link URI or element, with the reason."""


QUALIFIERS = {"01": ("22", "10", "21"), "00": (), "414": ("254",), "8004": (), "417": ()}  # in GS1's order
KEY_AIS = {"00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8013", "8017", "8018"}
QUALIFIER_AIS = {"22", "10", "21", "235", "254", "7040", "8011", "8019"}
SHORT_NAMES = {"gtin": "01", "sscc": "00", "gln": "414", "giai": "8004", "party": "417", "cpv": "22", "lot": "10",
               "ser": "21", "glnx": "254"}  # fmt: skip
NAMES = {"10": "lot", "21": "serial"}
OWN_PARAMS = {"t", "linkType", "lang", "context"}  # non-GS1 query parameters the resolver reads
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalise_gtin(gtin: str) -> str:
    """A GTIN-8/12/13/14 of our own records, as 14 digits (check digit verified)."""
    if not re.fullmatch(r"\d{8}|\d{12,14}", gtin or ""):
        raise DigitalLinkError(f"GTIN {gtin!r} must be 8, 12, 13 or 14 digits")
    return _key("01", gtin.zfill(14))


def gtin_in_link(gtin: str) -> str:
    """The GTIN of a Digital Link path: 14 digits; GS1 refuses zero-suppressed (shorter) forms."""
    if not re.fullmatch(r"\d{14}", gtin or ""):
        raise DigitalLinkError(
            f"GTIN {gtin!r} must be 14 digits in a Digital Link (pad a GTIN-8/12/13 with leading zeros)"
        )
    return _key("01", gtin)


@lru_cache(maxsize=4096)  # a service prints and resolves the links of few GTINs, many times
def _key(ai: str, value: str) -> str:
    try:
        if ai == "01":
            Gtin.parse(value)
        elif ai == "00":
            Sscc.parse(value)
        elif ai in ("414", "417"):
            Gln.parse(value)
        else:
            GS1ElementString.parse(ai + value)
    except ParseError as exc:
        what = {"01": "GTIN", "00": "SSCC", "414": "GLN", "417": "GLN"}.get(ai, f"({ai})")
        if "check digit" in str(exc):
            raise DigitalLinkError(f"{what} {value} has a wrong check digit: {exc}") from exc
        raise DigitalLinkError(f"{what} {value!r} is not valid: {exc}") from exc
    return value


_CSET82 = re.compile(r'[!"%-?A-Z_a-z]{1,20}')  # what (10) and (21) allow: 1-20 of GS1's character set 82


def _element(ai: str, value: str) -> str:
    if ai in ("10", "21") and _CSET82.fullmatch(value):  # the common case, ~100x cheaper than biip's parser
        return value
    try:
        GS1ElementString.parse(ai + value)
    except ParseError as exc:
        if ai in NAMES:
            raise DigitalLinkError(f"{NAMES[ai]} {value!r} must be 1-20 characters of the GS1 character set") from exc
        raise DigitalLinkError(f"({ai}) {value!r} does not follow GS1's syntax for this AI: {exc}") from exc
    return value


@dataclass(frozen=True)
class DigitalLink:
    key_ai: str
    key: str
    qualifiers: tuple[tuple[str, str], ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()  # data attributes (query), in order
    token: str | None = None

    @property
    def gtin(self) -> str | None:
        return self.key if self.key_ai == "01" else None

    def _get(self, ai: str) -> str | None:
        return dict(self.qualifiers).get(ai) or dict(self.attributes).get(ai)

    @property
    def lot(self) -> str | None:
        return self._get("10")

    @property
    def serial(self) -> str | None:
        return self._get("21")

    @property
    def expiry(self) -> date | None:
        v = dict(self.attributes).get("17")
        return _yymmdd(v) if v else None

    def uri(self, base: str) -> str:
        out = f"{base.rstrip('/')}/{self.key_ai}/{quote(self.key, safe='')}"
        out += "".join(f"/{ai}/{quote(v, safe='')}" for ai, v in self.qualifiers)
        query = [f"{ai}={quote(v, safe='')}" for ai, v in self.attributes]
        if self.token:
            query.append(f"t={quote(self.token, safe='')}")
        return out + ("?" + "&".join(query) if query else "")


def build(
    gtin: str, lot: str | None = None, serial: str | None = None, *, expiry: date | None = None,
    token: str | None = None,
) -> DigitalLink:  # fmt: skip
    quals = tuple((ai, _element(ai, v)) for ai, v in (("10", lot), ("21", serial)) if v is not None)
    attrs = (("17", f"{expiry:%y%m%d}"),) if expiry else ()
    return DigitalLink("01", normalise_gtin(gtin), quals, attrs, token)


_DATES = {"11": "production date", "12": "due date", "13": "packaging date", "15": "best before date",
          "16": "sell by date", "17": "expiry"}  # fmt: skip


def _yymmdd(v: str, what: str = "expiry") -> date:
    if not re.fullmatch(r"\d{6}", v):
        raise DigitalLinkError(f"{what} {v!r} must be YYMMDD")
    yy, mm, dd = int(v[:2]), int(v[2:4]), int(v[4:])
    try:
        return date(2000 + yy, mm, dd if dd else 28)  # DD=00 means end of month; 28 is always valid
    except ValueError as exc:
        raise DigitalLinkError(f"{what} {v} is not a calendar date") from exc


def parse(uri: str) -> DigitalLink:
    """Parse a Digital Link URI (any host, optional path prefix before the primary key)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        raise DigitalLinkError("a Digital Link URI starts with http:// or https://")
    if "%00" in uri or _CONTROL.search(unquote(uri)):
        raise DigitalLinkError("NUL and control characters are not allowed in a Digital Link")
    segs = parts.path.split("/")[1:]
    if "" in segs[:-1]:
        raise DigitalLinkError("empty path segment (//) in the Digital Link path")
    segs = [unquote(s) for s in segs if s]
    start = next((i for i, s in enumerate(segs) if SHORT_NAMES.get(s, s) in QUALIFIERS), None)
    if start is None:
        raise DigitalLinkError("no primary key (/01/<GTIN>, /00/<SSCC>, /414/<GLN>, /8004/<GIAI>) in the path")
    segs = segs[start:]
    if len(segs) % 2:
        raise DigitalLinkError("path elements must come in AI/value pairs")
    pairs = [(SHORT_NAMES.get(ai, ai), v) for ai, v in zip(segs[0::2], segs[1::2], strict=True)]
    (key_ai, key), quals = pairs[0], pairs[1:]
    key = gtin_in_link(key) if key_ai == "01" else _key(key_ai, key)
    _check_order(key_ai, [ai for ai, _ in quals])
    qualifiers = tuple((ai, _element(ai, v)) for ai, v in quals)
    attributes, token = _query(parts.query)
    return DigitalLink(key_ai, key, qualifiers, attributes, token)


def _check_order(key_ai: str, ais: list[str]) -> None:
    allowed = QUALIFIERS[key_ai]
    for ai in ais:
        if ai not in allowed:
            raise DigitalLinkError(
                f"unsupported key qualifiers /{'/'.join(ais)} after /{key_ai}: expected "
                + ("".join(f"[/{a}]" for a in allowed) or "none")
            )
    if [allowed.index(ai) for ai in ais] != sorted({allowed.index(ai) for ai in ais}):
        raise DigitalLinkError(f"key qualifiers must appear once each, in the order /{'/'.join(allowed)}")


def _query(query: str) -> tuple[tuple[tuple[str, str], ...], str | None]:
    seen: set[str] = set()
    attributes: list[tuple[str, str]] = []
    token = None
    for k, v in parse_qsl(query, keep_blank_values=True):
        if k in seen:
            raise DigitalLinkError(f"query attribute {k!r} is repeated")
        seen.add(k)
        if k == "t":
            token = v
        elif k.isdigit():
            attributes.append((k, _attribute(k, v)))
        elif k not in OWN_PARAMS and k in SHORT_NAMES:
            raise DigitalLinkError(f"{k!r} is a key or key qualifier: it belongs in the path")
    return tuple(attributes), token


def _attribute(ai: str, value: str) -> str:
    if ai in KEY_AIS:
        raise DigitalLinkError(f"({ai}) is a primary key: it belongs in the path, not the query")
    if ai in QUALIFIER_AIS:
        raise DigitalLinkError(f"({ai}) is a key qualifier: it belongs in the path, not the query")
    if ai not in AIS:
        raise DigitalLinkError(f"({ai}) is not a GS1 Application Identifier")
    if ai.startswith("9"):
        raise DigitalLinkError(f"({ai}) is a company-internal AI, not a Digital Link data attribute")
    if value == "":
        raise DigitalLinkError(f"({ai}) has no value")
    if ai in _DATES:
        _yymmdd(value, _DATES[ai])
    return _element(ai, value)
