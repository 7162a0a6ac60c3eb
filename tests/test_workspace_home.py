"""The workspace home's few round trips (issue 14), on SQLite and PostgreSQL: my lots and incoming
shipments come from one query and the alert lists run only when one query of EXISTS probes says
they have something to show.  These tests check that every list still shows what it did (a running
pre-harvest interval, a sensor out of range, a running withdrawal period, an open recall notice,
FSMA records lacking KDEs, an incoming shipment), to its own organisation only, with a write
showing at the next page (nothing cached), and that an organisation with nothing to show costs
two statements."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, select

from tests.test_workspace_screens import option, post
from tests.workspace_helpers import csrf_of, member_client
from traceability_api.authority.models import Recall, RecallNotice
from traceability_api.epcis.builder import object_event
from traceability_api.epcis.identifiers import lot_uri
from traceability_api.events.capture import DEFAULT_CONTEXT, capture_events
from traceability_api.evidence.diary import Activity, DiaryEntry, diary_event
from traceability_api.evidence.models import Device, SensorReading
from traceability_api.husbandry.activities import Activity as Husbandry
from traceability_api.husbandry.activities import ActivityEntry
from traceability_api.husbandry.record import record_activity
from traceability_api.lots.models import ProductCreate
from traceability_api.lots.service import create_product
from traceability_api.parties.kinds import OrgKind, Role
from traceability_api.parties.models import Member, Organisation
from traceability_api.parties.service import Principal, party_uri
from traceability_api.places.models import PlaceCreate, PlaceKind
from traceability_api.places.service import create_place, place_uri
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow

FTL_GTIN = "08930000099990"  # check digit 0
MILL_GTIN = "08930000099983"


def _admin(s: Session, org_id: int) -> Principal:
    m = s.exec(select(Member).where(Member.org_id == org_id, Member.role == Role.admin)).first()
    org = s.get(Organisation, org_id)
    assert m is not None and m.id is not None and org is not None
    return Principal(m.id, m.name, Role.admin, org_id, OrgKind(org.kind))


def _seed_alerts(rt: Runtime, coop_id: int, mill_id: int) -> None:
    """Everything the coop's home lists: a spray 2 days ago (14 days' PHI), a salinity probe out of
    range, a drug given at a pond (7 days' withdrawal), an open recall notice, an FTL harvest that
    lacks KDEs, and a lot the mill ships to the coop."""
    now, zone, checks = utcnow(), rt.settings.zone, rt.capture_checks
    with Session(rt.engine) as s:
        coop, mill = _admin(s, coop_id), _admin(s, mill_id)
        plot = create_place(s, coop, PlaceCreate(kind=PlaceKind.plot, name="Thửa Bảy Tám"))
        pond = create_place(s, coop, PlaceCreate(kind=PlaceKind.pond, name="Ao Cá Chín"))
        spray = DiaryEntry(activity=Activity.spraying, time=now - timedelta(days=2), product="Anvil 5SC",
                           active_ingredient="hexaconazole", dose=1, dose_unit="l/ha", phi_days=14)  # fmt: skip
        capture_events(s, coop, [diary_event(s, coop, plot.id or 0, spray, zone)], DEFAULT_CONTEXT, rt.settings,
                       checks=checks)  # fmt: skip
        drug = ActivityEntry(
            activity=Husbandry.veterinary_drug,
            time=now - timedelta(days=1),
            dose=3,
            dose_unit="g/kg",
            product="Oxytetracyclin",
            active_ingredient="oxytetracycline",
            withdrawal_days=7,
        )
        record_activity(s, coop, pond.id or 0, drug, rt.settings, checks)
        dev = Device(org_id=coop_id, name="Cống Mười Một", kind="salinity", threshold_high=4, secret_encrypted="x")  # type: ignore[arg-type]
        s.add(dev)
        s.flush()
        s.add(SensorReading(device_id=dev.id or 0, ts=now - timedelta(minutes=5), value=6.5))
        create_product(s, coop, ProductCreate(gtin=FTL_GTIN, name="Xoài Mười Hai", ftl_category="Tropical tree fruits"))
        harvest = object_event("commissioning", zone, action="ADD", lot=lot_uri(FTL_GTIN, "XM-12"), quantity=50,
                               uom="KGM", when=now - timedelta(days=3), bizLocation={"id": place_uri(plot)},
                               ilmd={"agri:plot": place_uri(plot)})  # fmt: skip
        capture_events(s, coop, [harvest], DEFAULT_CONTEXT, rt.settings, checks=checks)
        create_product(s, mill, ProductCreate(gtin=MILL_GTIN, name="Gạo Mười Ba"))
        lot = lot_uri(MILL_GTIN, "GM-13")
        made = object_event("commissioning", zone, action="ADD", lot=lot, quantity=700, uom="KGM",
                            when=now - timedelta(days=1))  # fmt: skip
        dest = [{"type": "owning_party", "destination": party_uri(s.get(Organisation, coop_id))}]  # type: ignore[arg-type]
        sent = object_event("shipping", zone, lot=lot, quantity=700, uom="KGM", destinationList=dest)
        capture_events(s, mill, [made, sent], DEFAULT_CONTEXT, rt.settings, checks=checks)
        recall = Recall(org_id=mill_id, member_id=mill.member_id, reason="Thu hồi Mười Bốn", scope="lot")
        s.add(recall)
        s.flush()
        s.add(RecallNotice(recall_id=recall.id or 0, org_id=coop_id))
        s.commit()


@contextmanager
def _statements(rt: Runtime) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(rt.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(rt.engine, "before_cursor_execute", count)


SHOWN = ("Đang trong thời gian cách ly: Thửa Bảy Tám – Anvil 5SC", "Cảm biến vượt ngưỡng: Cống Mười Một – 1 lần",
         "Đang trong thời gian ngưng thuốc: Ao Cá Chín – Oxytetracyclin", "Thu hồi Mười Bốn",
         "Hồ sơ xuất khẩu Hoa Kỳ (FSMA 204)", "XM-12", "GM-13")  # fmt: skip


def test_home_shows_every_alert_to_its_organisation_only(app_client: TestClient, runtime: Runtime) -> None:
    coop_id, _ = member_client(app_client, runtime, "HTX Mười Lăm", "coop15.admin")
    other = TestClient(app_client.app)
    member_client(other, runtime, "HTX Mười Sáu", "coop16.admin")
    mill = TestClient(app_client.app)
    mill_id, _ = member_client(mill, runtime, "Nhà máy Mười Bảy", "mill17.admin", OrgKind.processor)
    _seed_alerts(runtime, coop_id, mill_id)

    home = app_client.get("/app").text
    for text in SHOWN:
        assert text in home, text
    assert "<strong>Gạo Mười Ba</strong> · GM-13 · 700 kg · Nhà máy Mười Bảy" in home, home
    assert 'action="/app/receive/' in home
    assert "Xoài Mười Hai · XM-12" in home  # our own lot, listed by stage

    with _statements(runtime) as seen:
        empty = other.get("/app").text
    assert not any(text in empty for text in SHOWN), empty
    assert len(seen) <= 2, seen  # the session; lots, incoming and the EXISTS probes: no alert query ran
    mine = mill.get("/app").text
    assert "GM-13" in mine and "Thu hồi Mười Bốn" not in mine and "Cống Mười Một" not in mine
    assert 'action="/app/receive/' not in mine  # the sender does not receive its own shipment

    app_client.cookies.set("agt_lang", "en")
    en = app_client.get("/app").text
    assert "Withdrawal period running: Ao Cá Chín" in en and "Sensor out of range" in en


def test_home_shows_a_write_at_the_next_page(app_client: TestClient, runtime: Runtime) -> None:
    coop_id, _ = member_client(app_client, runtime, "HTX Hai Mươi", "coop20.admin")
    mill = TestClient(app_client.app)
    mill_id, _ = member_client(mill, runtime, "Nhà máy Hai Mốt", "mill21.admin", OrgKind.processor)
    home = app_client.get("/app").text
    assert "Đang trong thời gian cách ly" not in home and "data-notice-id" not in home
    post(app_client, "/app/places", {"kind": "plot", "name": "Thửa Hai Hai"})
    diary = app_client.get("/app/diary").text
    now = re.search(r'name="time" type="datetime-local" value="([^"]+)"', diary).group(1)  # type: ignore[union-attr]
    spray = {"plot_id": option(diary, "Thửa Hai Hai"), "activity": "spraying", "time": now, "product": "Score 250EC",
             "active_ingredient": "difenoconazole", "dose": "1", "dose_unit": "l/ha", "phi_days": "7"}  # fmt: skip
    assert post(app_client, "/app/diary", spray).status_code == 303  # type: ignore[attr-defined]
    assert "Đang trong thời gian cách ly: Thửa Hai Hai – Score 250EC" in app_client.get("/app").text

    _seed_alerts(runtime, coop_id, mill_id)
    home = app_client.get("/app").text
    notice = re.search(r'data-notice-id="(\d+)"', home).group(1)  # type: ignore[union-attr]
    r = app_client.post(f"/app/recalls/{notice}/ack", data={"csrf": csrf_of(home)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    home = app_client.get("/app").text
    assert "data-notice-id" not in home and "Thu hồi Mười Bốn" not in home
    lot = re.search(r'action="/app/receive/(\d+)"', home).group(1)  # type: ignore[union-attr]
    assert post(app_client, f"/app/receive/{lot}", {}, page="/app").status_code == 303  # type: ignore[attr-defined]
    home = app_client.get("/app").text
    assert 'action="/app/receive/' not in home and "Gạo Mười Ba · GM-13" in home  # now one of ours


def test_home_and_diary_read_without_begin_and_rollback(app_client: TestClient, runtime: Runtime) -> None:
    """The two pages members open most read in autocommit (each query on its own: no BEGIN and
    ROLLBACK round trips, a third of a home page's time waiting for PostgreSQL under load), while
    the FSMA block, which reads through a server-side cursor, still gets a transaction of its own
    and shows its records."""
    coop_id, _ = member_client(app_client, runtime, "HTX Ba Mươi", "coop30.admin")
    mill = TestClient(app_client.app)
    mill_id, _ = member_client(mill, runtime, "Nhà máy Ba Mốt", "mill31.admin", OrgKind.processor)
    _seed_alerts(runtime, coop_id, mill_id)
    modes: list[tuple[str, bool]] = []

    def mode(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        autocommit = dbapi.autocommit if hasattr(dbapi, "autocommit") else dbapi.isolation_level is None
        modes.append((statement, bool(autocommit)))

    event.listen(runtime.engine, "before_cursor_execute", mode)
    try:
        home = app_client.get("/app").text
        diary = app_client.get("/app/diary")
    finally:
        event.remove(runtime.engine, "before_cursor_execute", mode)
    assert "Hồ sơ xuất khẩu Hoa Kỳ (FSMA 204)" in home and "XM-12" in home and diary.status_code == 200
    session_lookups = [a for stmt, a in modes if "workspace_session" in stmt]
    assert len(session_lookups) == 2 and all(session_lookups), modes  # the sign-in check of both pages
    assert any(not a for _, a in modes), "the FSMA block ran in a transaction"
