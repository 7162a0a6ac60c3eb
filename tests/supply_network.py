"""A generated supply network: 5 cooperatives (10 paddy lots), 2 mills blending them into rice,
3 distributors repacking into retail lots; with shipments, receipts, transformations and
pallet aggregations.  Built through the capture service (the API's own code path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from traceability_api.compose import CAPTURE_CHECKS
from traceability_api.config import Settings
from traceability_api.consensus.gs1_uri import with_check_digit
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.lots.models import ProductCreate
from traceability_api.lots.service import create_product
from traceability_api.parties.models import OrganisationCreate, Role
from traceability_api.parties.service import Principal, create_organisation, party_uri
from traceability_api.places.models import PlaceCreate
from traceability_api.places.service import create_place, place_uri

T = "2025-03-{d:02d}T{h:02d}:00:00+07:00"


@dataclass
class Network:
    keys: dict[str, str] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)
    parties: dict[str, str] = field(default_factory=dict)
    plots: dict[str, int] = field(default_factory=dict)
    lots: dict[str, str] = field(default_factory=dict)  # name -> lot URI


def gtin(n: int) -> str:
    return with_check_digit(f"0893{n:09d}")


def build(engine: Any, settings: Settings) -> Network:
    net = Network()
    with Session(engine) as s:

        def org(name: str, kind: str) -> None:
            o, issued = create_organisation(s, OrganisationCreate(name=name, kind=kind, admin_name="a"))  # type: ignore[arg-type]
            assert o.id is not None and issued.member.id is not None
            net.keys[name], net.parties[name] = issued.api_key, party_uri(o)
            net.principals[name] = Principal(issued.member.id, "a", Role.admin, o.id, o.kind)

        def cap(who: str, *events: dict[str, Any]) -> None:
            capture_events(s, net.principals[who], list(events), DEFAULT_CONTEXT, settings, checks=CAPTURE_CHECKS)

        def obj(step: str, day: int, uri: str, qty: float | None = None, **extra: Any) -> dict[str, Any]:
            q: dict[str, Any] = {"epcClass": uri} | ({"quantity": qty, "uom": "KGM"} if qty else {})
            return {
                "type": "ObjectEvent",
                "eventTime": T.format(d=day, h=8),
                "eventTimeZoneOffset": "+07:00",
                "action": "OBSERVE",
                "bizStep": step,
                "quantityList": [q],
                **extra,
            }

        def handover(frm: str, to: str, uri: str, qty: float, day: int) -> None:
            cap(
                frm,
                obj(
                    "shipping",
                    day,
                    uri,
                    qty,
                    destinationList=[{"type": "possessing_party", "destination": net.parties[to]}],
                ),
            )
            cap(
                to,
                obj(
                    "receiving",
                    day,
                    uri,
                    None,
                    destinationList=[{"type": "owning_party", "destination": net.parties[to]}],
                ),
            )

        def transform(who: str, day: int, inputs: list[tuple[str, float]], outputs: list[tuple[str, float]]) -> None:
            cap(
                who,
                {
                    "type": "TransformationEvent",
                    "eventTime": T.format(d=day, h=10),
                    "eventTimeZoneOffset": "+07:00",
                    "bizStep": "commissioning",
                    "inputQuantityList": [{"epcClass": net.lots[n], "quantity": q, "uom": "KGM"} for n, q in inputs],
                    "outputQuantityList": [{"epcClass": net.lots[n], "quantity": q, "uom": "KGM"} for n, q in outputs],
                },
            )

        for i in range(1, 6):
            org(f"C{i}", "cooperative")
        for name in ("M1", "M2"):
            org(name, "processor")
        for name in ("D1", "D2", "D3"):
            org(name, "distributor")
        org("AUTH", "authority")
        s.flush()
        for i in range(1, 6):
            c = f"C{i}"
            create_product(s, net.principals[c], ProductCreate(gtin=gtin(100 + i), name=f"Lúa {c}"))
            plot = create_place(
                s,
                net.principals[c],
                PlaceCreate(
                    kind="plot",
                    name=f"Ruộng {c}",  # type: ignore[arg-type]
                    planting_area_code=f"VN-{c}",
                ),
            )
            s.flush()
            net.plots[c] = plot.id or 0
            for k in (1, 2):
                name = f"P{i}{k}"
                net.lots[name] = lot_uri(gtin(100 + i), name)
                cap(
                    c,
                    {
                        "type": "ObjectEvent",
                        "eventTime": T.format(d=1, h=6 + k),
                        "eventTimeZoneOffset": "+07:00",
                        "action": "ADD",
                        "bizStep": "commissioning",
                        "bizLocation": {"id": place_uri(plot)},
                        "quantityList": [{"epcClass": net.lots[name], "quantity": 10000, "uom": "KGM"}],
                        "ilmd": {"agri:plot": place_uri(plot)},
                    },
                )
        create_product(s, net.principals["M1"], ProductCreate(gtin=gtin(201), name="Gạo M1", max_yield=0.7))
        create_product(s, net.principals["M1"], ProductCreate(gtin=gtin(202), name="Cám M1", max_yield=0.15))
        create_product(s, net.principals["M2"], ProductCreate(gtin=gtin(203), name="Gạo M2", max_yield=0.7))
        for n, g in (("R1", 201), ("B1", 202), ("R3", 201), ("R2", 203)):
            net.lots[n] = lot_uri(gtin(g), n)
        for c, m, lots in (
            ("C1", "M1", ("P11", "P12")),
            ("C2", "M1", ("P21",)),
            ("C3", "M1", ("P31",)),
            ("C4", "M2", ("P41",)),
            ("C5", "M2", ("P51",)),
        ):
            for lot in lots:
                handover(c, m, net.lots[lot], 10000, 2)
        transform("M1", 3, [("P11", 10000), ("P21", 10000), ("P31", 10000)], [("R1", 19000), ("B1", 3000)])
        transform("M1", 3, [("P12", 10000)], [("R3", 6500)])
        transform("M2", 3, [("P41", 10000), ("P51", 10000)], [("R2", 13000)])
        cap(
            "M1",
            {
                "type": "AggregationEvent",
                "eventTime": T.format(d=4, h=7),
                "eventTimeZoneOffset": "+07:00",
                "action": "ADD",
                "bizStep": "packing",
                "parentID": "https://id.gs1.org/00/089300000000000017",
                "childQuantityList": [{"epcClass": net.lots["R1"], "quantity": 19000, "uom": "KGM"}],
            },
        )
        for d, g, r, retail in (
            ("D1", 301, "R1", ("T1a", "T1b")),
            ("D2", 302, "R2", ("T2",)),
            ("D3", 303, "R3", ("T3",)),
        ):
            create_product(s, net.principals[d], ProductCreate(gtin=gtin(g), name=f"Gạo túi 5kg {d}"))
            m = "M2" if r == "R2" else "M1"
            handover(m, d, net.lots[r], {"R1": 19000, "R2": 13000, "R3": 6500}[r], 5)  # a shipment moves a whole lot
            for t in retail:
                net.lots[t] = lot_uri(gtin(g), t)
            share = 6000.0 if r != "R1" else 9000.0
            transform(d, 6, [(r, share * len(retail))], [(t, share) for t in retail])
        s.commit()
    return net
