"""What an EPCIS event refers to: lots (by class or serial), quantities, parties, places."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from traceability_api.consensus.gs1_uri import gs1_check_digit, valid_gtin
from traceability_api.epcis.identifiers import GS1Ref, classify
from traceability_api.errors import Invalid
from traceability_api.lots.models import UOMS

MAX_QUANTITY = 1e9

_EPC_LISTS = {
    "epcList": "epc",
    "inputEPCList": "input",
    "outputEPCList": "output",
    "childEPCs": "child",
}
_QTY_LISTS = {
    "quantityList": "epc",
    "inputQuantityList": "input",
    "outputQuantityList": "output",
    "childQuantityList": "child",
}


@dataclass
class ItemRef:
    ref: GS1Ref
    role: str  # epc | input | output | child
    quantity: float | None = None
    uom: str | None = None


@dataclass
class EventRefs:
    items: list[ItemRef] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)  # SDT type URI -> party URIs
    destinations: dict[str, list[str]] = field(default_factory=dict)
    read_point: str | None = None
    biz_location: str | None = None
    place_id: int | None = None  # set by custody: our place where the event happened


def _ref(uri: str, where: str) -> GS1Ref:
    ref = classify(uri)
    if ref.gtin is not None and not valid_gtin(ref.gtin):
        raise Invalid(
            f"{where}: GTIN {ref.gtin} in {uri} has a wrong check digit (expected {gs1_check_digit(ref.gtin[:-1])})"
        )
    return ref


def _quantity(q: Any, where: str) -> float | None:
    if q is None:
        return None
    if isinstance(q, bool) or not isinstance(q, int | float):
        raise Invalid(f"{where}: quantity must be a number")
    if not 0 < q <= MAX_QUANTITY:  # before float(): an int of 400 digits raised OverflowError (the generic 422)
        shown = q if isinstance(q, float) or abs(q) < 10**20 else f"{str(q)[:12]}... ({len(str(q))} characters)"
        raise Invalid(f"{where}: quantity {shown} out of range (must be > 0 and <= {MAX_QUANTITY:.0f})")
    return float(q)


def _sdt(entries: list[dict[str, Any]], key: str) -> dict[str, list[str]]:
    from traceability_api.epcis.vocabulary import SDT, full_uri

    out: dict[str, list[str]] = {}
    for e in entries:
        t = full_uri(str(e.get("type", "")), SDT) or ""
        out.setdefault(t, []).append(str(e.get(key, "")))
    return out


def extract(event: dict[str, Any]) -> EventRefs:
    refs = EventRefs()
    for key, role in _EPC_LISTS.items():
        for uri in event.get(key, []) or []:
            refs.items.append(ItemRef(_ref(str(uri), key), role))
    for key, role in _QTY_LISTS.items():
        for i, qe in enumerate(event.get(key, []) or []):
            where = f"{key}[{i}]"
            uom = qe.get("uom")
            if uom is not None and uom not in UOMS:
                raise Invalid(f"{where}: unit {uom!r} is not supported (use one of {', '.join(UOMS)})")
            refs.items.append(
                ItemRef(_ref(str(qe["epcClass"]), where), role, _quantity(qe.get("quantity"), where), uom)
            )
    refs.sources = _sdt(event.get("sourceList", []) or [], "source")
    refs.destinations = _sdt(event.get("destinationList", []) or [], "destination")
    rp, bl = event.get("readPoint"), event.get("bizLocation")
    refs.read_point = str(rp["id"]) if isinstance(rp, dict) and "id" in rp else None
    refs.biz_location = str(bl["id"]) if isinstance(bl, dict) and "id" in bl else None
    return refs
