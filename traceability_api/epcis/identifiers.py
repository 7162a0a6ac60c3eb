"""GS1 identifiers in events: canonical Digital Link URIs of lots, serials and products."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from traceability_api.consensus.gs1_uri import normalise_gs1_uri

DL = "https://id.gs1.org"
_LOT_RE = re.compile(r"^https://id\.gs1\.org/01/(\d{14})/10/([^/]+)$")
_SERIAL_RE = re.compile(r"^https://id\.gs1\.org/01/(\d{14})/21/([^/]+)$")
_GTIN_RE = re.compile(r"^https://id\.gs1\.org/01/(\d{14})$")


@dataclass(frozen=True)
class GS1Ref:
    """An identifier from an event, classified."""

    uri: str  # canonical
    kind: str  # "lot" | "serial" | "product" | "other"
    gtin: str | None = None
    code: str | None = None  # lot code or serial


@lru_cache(maxsize=16384)  # pure, and GS1Ref is frozen: the same identifiers recur event after event
def classify(uri: str) -> GS1Ref:
    canon = normalise_gs1_uri(uri) or uri
    for kind, rx in (("lot", _LOT_RE), ("serial", _SERIAL_RE)):
        m = rx.match(canon)
        if m:
            return GS1Ref(canon, kind, m.group(1), m.group(2))
    m = _GTIN_RE.match(canon)
    if m:
        return GS1Ref(canon, "product", m.group(1))
    return GS1Ref(canon, "other")


def lot_uri(gtin: str, lot_code: str) -> str:
    return f"{DL}/01/{gtin}/10/{lot_code}"
