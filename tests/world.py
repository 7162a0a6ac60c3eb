"""A small cast for API tests: an authority, a cooperative, a rice mill and a distributor."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from traceability_api.consensus.gs1_uri import with_check_digit
from traceability_api.parties.models import MemberCreate, OrganisationCreate, Role
from traceability_api.parties.service import create_member, create_organisation
from traceability_api.runtime import Runtime

CTX = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"agri": "https://ns.agritrace.vn/voc/"}]


def gtin(n: int) -> str:
    return with_check_digit(f"0893{n:09d}")


def lot_uri(g: str, lot: str) -> str:
    return f"https://id.gs1.org/01/{g}/10/{lot}"


@dataclass
class Org:
    id: int
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def party(self) -> str:
        return f"urn:agritrace:party:{self.id}"

    def h(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@dataclass
class World:
    client: TestClient
    authority: Org
    coop: Org
    mill: Org
    distributor: Org

    def post(self, org: Org, path: str, body: Any, role: str = "admin", **kw: Any) -> Any:
        return self.client.post(path, json=body, headers=org.h(role) | kw.pop("headers", {}), **kw)

    def get(self, org: Org, path: str, role: str = "admin", **kw: Any) -> Any:
        return self.client.get(path, headers=org.h(role), **kw)


def make_org(session: Session, name: str, kind: str, roles: tuple[str, ...] = ()) -> Org:
    org, issued = create_organisation(session, OrganisationCreate(name=name, kind=kind, admin_name="Admin"))  # type: ignore[arg-type]
    assert org.id is not None
    o = Org(org.id, {"admin": issued.api_key})
    for role in roles:
        o.keys[role] = create_member(session, org.id, MemberCreate(name=role.title(), role=Role(role))).api_key
    return o


def make_world(runtime: Runtime, client: TestClient) -> World:
    with Session(runtime.engine) as s:
        w = World(
            client,
            make_org(s, "Chi cục QLCL Cần Thơ", "authority", ("auditor",)),
            make_org(s, "HTX Lúa gạo Thạnh Phú", "cooperative", ("recorder", "viewer", "auditor")),
            make_org(s, "Nhà máy xay xát Trà Nóc", "processor", ("recorder",)),
            make_org(s, "Công ty Phân phối Mekong", "distributor", ("recorder", "auditor")),
        )
        s.commit()
    return w


def obj_event(
    lot: str, qty: float | None, step: str, *, action: str = "OBSERVE", time: str = "2025-03-01T08:00:00+07:00",
    **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    q: dict[str, Any] = {"epcClass": lot}
    if qty is not None:
        q |= {"quantity": qty, "uom": "KGM"}
    return {
        "type": "ObjectEvent", "eventTime": time, "eventTimeZoneOffset": "+07:00", "action": action,
        "bizStep": step, "quantityList": [q], **extra,
    }  # fmt: skip


def setup_rice(w: World, lot: str = "L1", qty: float = 1000.0) -> dict[str, Any]:
    """The coop registers paddy and a plot, and harvests a lot."""
    g = gtin(1)
    if w.client.get("/api/v1/products", headers=w.coop.h()).json() == []:
        r = w.post(w.coop, "/api/v1/products", {"gtin": g, "name": "Lúa ST25", "unit": "KGM"})
        assert r.status_code == 201, r.text
        r = w.post(w.coop, "/api/v1/places", {
            "kind": "plot", "name": "Ruộng ông Tư", "planting_area_code": "CT-TP-001",
            "geo": {"type": "Point", "coordinates": [105.58, 10.12]},
        })  # fmt: skip
        assert r.status_code == 201, r.text
    plot_id = w.client.get("/api/v1/places", headers=w.coop.h()).json()[0]["id"]
    r = w.post(w.coop, "/api/v1/lots", {
        "gtin": g, "lot_code": lot, "quantity": qty, "plot_id": plot_id, "harvest_date": "2025-02-28",
        "variety": "ST25", "event_time": "2025-02-28T17:00:00+07:00",
    }, role="recorder")  # fmt: skip
    assert r.status_code == 201, r.text
    return {"gtin": g, "lot": r.json(), "uri": lot_uri(g, lot), "plot_id": plot_id}


def ship(w: World, frm: Org, to: Org, uri: str, qty: float | None = None, role: str = "admin") -> Any:
    ev = obj_event(uri, qty, "shipping", time="2025-03-02T08:00:00+07:00",
                   destinationList=[{"type": "possessing_party", "destination": to.party}],
                   sourceList=[{"type": "possessing_party", "source": frm.party}])  # fmt: skip
    return w.post(frm, "/api/v1/events", ev, role=role)


def receive(w: World, by: Org, frm: Org, uri: str, role: str = "admin", owning: bool = False) -> Any:
    dest = [{"type": "possessing_party", "destination": by.party}]
    if owning:
        dest.append({"type": "owning_party", "destination": by.party})
    ev = obj_event(uri, None, "receiving", time="2025-03-02T15:00:00+07:00", destinationList=dest,
                   sourceList=[{"type": "possessing_party", "source": frm.party}])  # fmt: skip
    return w.post(by, "/api/v1/events", ev, role=role)
