"""GS1 identifiers: check digits and the normalisation of EPC URIs and GS1 Digital Link URIs
into the canonical ``https://id.gs1.org/...`` form the CBV 2.0 event hash uses.

CONSENSUS-CRITICAL (part of the event hash): see tests/test_event_hash.py.
"""

from __future__ import annotations

import re
from functools import lru_cache

DL_HOST = "https://id.gs1.org"


def gs1_check_digit(digits: str) -> str:
    """Mod-10 check digit over ``digits`` (GTIN, GLN, SSCC, GRAI, GDTI, GSRN ...)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


def with_check_digit(digits: str) -> str:
    return digits + gs1_check_digit(digits)


GTIN_DIGITS = re.compile(r"[0-9]{8}|[0-9]{12,14}")  # [0-9], not \d: a str pattern's \d takes other scripts' digits


def valid_gtin(gtin: str) -> bool:
    return bool(GTIN_DIGITS.fullmatch(gtin)) and gs1_check_digit(gtin[:-1]) == gtin[-1]


def gtin14(gtin: str) -> str:
    return gtin.zfill(14)


_PCT = {"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"}


def _pct(text: str) -> str:
    return "".join(_PCT.get(c, c) for c in text)


def _split(body: str, parts: int) -> list[str] | None:
    fields = body.split(".", parts - 1)
    return fields if len(fields) == parts else None


def _gtin_of(prefix: str, item_ref: str) -> str:
    # indicator digit (first of item ref) + company prefix + rest of item ref, 13 digits, + check
    return with_check_digit(item_ref[:1] + prefix + item_ref[1:])


def _epc_to_dl(uri: str) -> str | None:  # noqa: C901, PLR0911, PLR0912 - one branch per EPC scheme
    m = re.fullmatch(r"urn:epc:(id|idpat|class):([a-z]+):(.+)", uri)
    if not m:
        return None
    kind, scheme, body = m.groups()
    pattern = kind == "idpat"
    if pattern:
        if not body.endswith(".*"):
            return None
        body = body[:-2]
    f = body.split(".")
    if not f or not f[0].isdigit() or not 6 <= len(f[0]) <= 12:
        return None
    cp = f[0]
    if kind == "class" and scheme == "lgtin" and len(f) >= 3:
        return f"{DL_HOST}/01/{_gtin_of(cp, f[1])}/10/{_pct('.'.join(f[2:]))}"
    if scheme in ("sgtin", "upui") and len(f) >= 2 and len(cp) + len(f[1]) == 13:
        gtin = _gtin_of(cp, f[1])
        if pattern:
            return f"{DL_HOST}/01/{gtin}"
        ai = "21" if scheme == "sgtin" else "235"
        return f"{DL_HOST}/01/{gtin}/{ai}/{_pct('.'.join(f[2:]))}"
    if scheme == "sscc" and len(f) == 2 and len(cp) + len(f[1]) == 17:
        return f"{DL_HOST}/00/{with_check_digit(f[1][:1] + cp + f[1][1:])}"
    if scheme == "sgln" and len(f) >= 3:
        gln = with_check_digit(cp + f[1])
        ext = ".".join(f[2:])
        return f"{DL_HOST}/414/{gln}" + ("" if ext == "0" else f"/254/{_pct(ext)}")
    if scheme == "pgln" and len(f) == 2:
        return f"{DL_HOST}/417/{with_check_digit(cp + f[1])}"
    if scheme == "grai" and len(f) >= 2:
        base = f"{DL_HOST}/8003/{with_check_digit('0' + cp + f[1])}"
        return base if pattern else base + _pct(".".join(f[2:]))
    if scheme in ("gdti", "sgcn") and len(f) >= 2:
        ai = "253" if scheme == "gdti" else "255"
        base = f"{DL_HOST}/{ai}/{with_check_digit(cp + f[1])}"
        return base if pattern else base + _pct(".".join(f[2:]))
    if scheme == "giai" and len(f) >= 2:
        return f"{DL_HOST}/8004/{cp}{_pct('.'.join(f[1:]))}"
    if scheme == "ginc" and len(f) >= 2:
        return f"{DL_HOST}/401/{cp}{_pct('.'.join(f[1:]))}"
    if scheme == "gsrn" and len(f) == 2:
        return f"{DL_HOST}/8018/{with_check_digit(cp + f[1])}"
    if scheme == "gsrnp" and len(f) == 2:
        return f"{DL_HOST}/8017/{with_check_digit(cp + f[1])}"
    if scheme == "gsin" and len(f) == 2:
        return f"{DL_HOST}/402/{with_check_digit(cp + f[1])}"
    if scheme == "itip" and len(f) >= 4:
        base = f"{DL_HOST}/8006/{_gtin_of(cp, f[1])}{f[2]}{f[3]}"
        return base if pattern else base + f"/21/{_pct('.'.join(f[4:]))}"
    if scheme == "cpi" and len(f) >= 2:
        if pattern:
            return f"{DL_HOST}/8010/{_pct(cp + '.'.join(f[1:]))}"
        return f"{DL_HOST}/8010/{_pct(cp + '.'.join(f[1:-1]))}/8011/{f[-1]}"
    return None


_SHORT_NAMES = {
    "gtin": "01", "itip": "8006", "cpid": "8010", "gln": "414", "party": "417", "gsrnp": "8017",
    "gsrn": "8018", "gcn": "255", "sscc": "00", "gdti": "253", "ginc": "401", "gsin": "402",
    "grai": "8003", "giai": "8004", "cpv": "22", "lot": "10", "ser": "21",
}  # fmt: skip
_PRIMARY = ("00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8017", "8018")
_DL_RE = re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?/(" + "|".join(_PRIMARY + tuple(_SHORT_NAMES)) + r")/(\d{4}[^/?#]*)")


def _dl_to_canonical(uri: str) -> str | None:
    if not _DL_RE.match(uri):
        return None
    path = re.sub(r"^https?://[^/?#]+", "", uri.split("?", 1)[0].split("#", 1)[0]).rstrip("/")
    segs = path.split("/")[1:]
    segs = [_SHORT_NAMES.get(s, s) if i % 2 == 0 else s for i, s in enumerate(segs)]
    # drop any leading custom path before the primary key
    start = next((i for i, s in enumerate(segs) if s in _PRIMARY), None)
    if start is None:
        return None
    segs = segs[start:]
    pairs = list(zip(segs[0::2], segs[1::2], strict=False))
    if not pairs:
        return None
    key_ai, key = pairs[0]
    if key_ai == "01":
        key = key.zfill(14)
    quals = dict(pairs[1:])
    quals.pop("22", None)  # consumer product variant is not an identification level
    if "21" in quals:
        quals.pop("10", None)  # keep only the finest level
    out = f"{DL_HOST}/{key_ai}/{key}"
    for ai in ("10", "21", "235", "254", "8011"):
        if ai in quals:
            out += f"/{ai}/{quals[ai]}"
    return out


@lru_cache(maxsize=16384)  # pure; capture asks it of the same lots, products and places event after event
def normalise_gs1_uri(uri: str) -> str | None:
    """Canonical GS1 Digital Link URI of an EPC URI or DL URI, or None if it is neither."""
    if uri.startswith("urn:epc:"):
        try:
            return _epc_to_dl(uri)
        except ValueError:  # a number field holding a non-digit ('A', or '²' that passes isdigit): not an EPC
            return None
    if uri.startswith(("http://", "https://")):
        return _dl_to_canonical(uri)
    return None
