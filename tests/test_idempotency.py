"""Idempotency keys on writes (SQLite and PostgreSQL): a replay answers the first response and
stores nothing more, the same key with another body is refused (422), keys are per organisation,
concurrent replays over real HTTP store once, expired keys run again, and the workspace's own
forms take the key too."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from tests.workspace_helpers import csrf_of, member_client
from tests.world import Org, World, make_world, setup_rice, ship
from traceability_api.events.models import Event
from traceability_api.idempotency import service
from traceability_api.idempotency.models import IdempotentRequest
from traceability_api.parties.kinds import OrgKind
from traceability_api.runtime import Runtime

ENTRY = {"activity": "irrigating", "time": "2025-11-26T06:30"}


def events(runtime: Runtime, org_id: int) -> int:
    with Session(runtime.engine) as s:
        return int(s.exec(select(func.count()).select_from(Event).where(col(Event.org_id) == org_id)).one())


def diary(w: World, plot_id: int, body: dict[str, Any], key: str | None, role: str = "recorder") -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return w.post(w.coop, f"/api/v1/places/{plot_id}/diary", body, role=role, headers=headers)


def test_a_replay_answers_the_first_response_and_stores_once(runtime: Runtime, app_client: TestClient) -> None:
    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    before = events(runtime, w.coop.id)
    first = diary(w, rice["plot_id"], ENTRY, "phone-0001-aaaa")
    again = diary(w, rice["plot_id"], ENTRY, "phone-0001-aaaa")
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert events(runtime, w.coop.id) == before + 1


def test_same_key_other_body_is_refused_and_keys_are_per_organisation(
    runtime: Runtime, app_client: TestClient
) -> None:  # fmt: skip
    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    assert diary(w, rice["plot_id"], ENTRY, "key-shared-0001").status_code == 201
    other = diary(w, rice["plot_id"], ENTRY | {"activity": "pruning"}, "key-shared-0001")
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    # another member of the same organisation with the same key asks something else too
    assert diary(w, rice["plot_id"], ENTRY, "key-shared-0001", role="admin").status_code == 422
    # the mill using the same key string is a different key
    ev = {"type": "ObjectEvent", "eventTime": "2025-03-01T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
          "action": "OBSERVE", "bizStep": "inspecting", "quantityList": [{"epcClass": rice["uri"]}]}  # fmt: skip
    r = w.post(w.mill, "/api/v1/events", ev, headers={"Idempotency-Key": "key-shared-0001"})
    assert r.status_code != 422 or "different request" not in r.text
    assert diary(w, rice["plot_id"], ENTRY, "bad key").status_code == 400  # a space


def test_harvest_and_event_replays(runtime: Runtime, app_client: TestClient) -> None:
    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    body = {"gtin": rice["gtin"], "lot_code": "L-IDEM", "quantity": 50, "plot_id": rice["plot_id"],
            "harvest_date": "2025-02-28", "event_time": "2025-02-28T17:00:00+07:00"}  # fmt: skip
    h = {"Idempotency-Key": "harvest-lot-0001"}
    first = w.post(w.coop, "/api/v1/lots", body, role="recorder", headers=h)
    assert first.status_code == 201, first.text
    again = w.post(w.coop, "/api/v1/lots", body, role="recorder", headers=h)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    # a refusal is a response too: the replay says the same, nothing is stored
    bad = {"type": "ObjectEvent", "eventTime": "2025-03-01T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
           "action": "OBSERVE", "bizStep": "shipping", "quantityList": [{"epcClass": rice["uri"]}]}  # fmt: skip
    n = events(runtime, w.mill.id)
    r1 = w.post(w.mill, "/api/v1/events", bad, headers={"Idempotency-Key": "event-refused-01"})
    r2 = w.post(w.mill, "/api/v1/events", bad, headers={"Idempotency-Key": "event-refused-01"})
    assert r1.status_code in (403, 404, 409, 422) and (r2.status_code, r2.text) == (r1.status_code, r1.text)
    assert events(runtime, w.mill.id) == n


def test_concurrent_replays_store_once(runtime: Runtime, served: str) -> None:
    w = make_world(runtime, TestClient(served))  # only the organisations; requests go over real HTTP
    with httpx.Client(base_url=served) as c:
        w.client = c  # type: ignore[assignment]
        rice = setup_rice(w)
    before = events(runtime, w.coop.id)
    answers: list[httpx.Response] = []
    start = threading.Barrier(6)

    def send() -> None:
        with httpx.Client(base_url=served, timeout=30) as c:
            start.wait()
            answers.append(c.post(f"/api/v1/places/{rice['plot_id']}/diary", json=ENTRY,
                                  headers=w.coop.h("recorder") | {"Idempotency-Key": "concurrent-0001"}))  # fmt: skip

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted({a.status_code for a in answers}) in ([201], [201, 409]), [a.text for a in answers]
    assert len({a.text for a in answers if a.status_code == 201}) == 1
    assert events(runtime, w.coop.id) == before + 1


def test_expired_keys_run_again(runtime: Runtime, app_client: TestClient) -> None:
    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    assert diary(w, rice["plot_id"], ENTRY, "expiring-key-01").status_code == 201
    with Session(runtime.engine) as s:
        row = s.exec(select(IdempotentRequest).where(IdempotentRequest.key == "expiring-key-01")).one()
        row.expires_at = row.created_at - timedelta(seconds=1)
        s.add(row)
        s.commit()
    rerun = diary(w, rice["plot_id"], ENTRY, "expiring-key-01")  # runs again (the capture itself dedups it)
    assert rerun.status_code == 201 and "idempotent-replayed" not in rerun.headers
    replay = diary(w, rice["plot_id"], ENTRY, "expiring-key-01")
    assert replay.headers["idempotent-replayed"] == "true"
    # a pending row left by a request that died is taken over once stale, not before
    outcome = service.begin(runtime.engine, w.coop.id, "died-mid-way-01", "h", timedelta(hours=1))
    assert isinstance(outcome, service.Proceed)
    assert isinstance(service.begin(runtime.engine, w.coop.id, "died-mid-way-01", "h", timedelta(hours=1)),
                      service.InProgress)  # fmt: skip
    with Session(runtime.engine) as s:
        row = s.exec(select(IdempotentRequest).where(IdempotentRequest.key == "died-mid-way-01")).one()
        row.created_at = row.created_at - service.STALE_AFTER - timedelta(seconds=1)
        s.add(row)
        s.commit()
    assert isinstance(service.begin(runtime.engine, w.coop.id, "died-mid-way-01", "h", timedelta(hours=1)),
                      service.Proceed)  # fmt: skip


def test_workspace_forms_take_the_key(runtime: Runtime, app_client: TestClient) -> None:
    org_id, key = member_client(app_client, runtime, "HTX Idempotent", "idem.admin")
    r = app_client.post("/api/v1/places", json={"kind": "plot", "name": "Ruộng 1"}, headers={"X-API-Key": key})
    assert r.status_code == 201, r.text
    plot = r.json()["id"]
    csrf = csrf_of(app_client.get("/app/diary").text)
    form = {"plot_id": str(plot), "activity": "irrigating", "time": "2025-11-26T06:30"}
    # a CSRF refusal is not stored: the same key then runs for real
    refused = app_client.post("/app/diary", data=form | {"csrf": "x"}, headers={"Idempotency-Key": "form-key-0001"})
    assert refused.status_code == 403
    n = events(runtime, org_id)
    for _ in range(2):
        r = app_client.post("/app/diary", data=form | {"csrf": csrf}, headers={"Idempotency-Key": "form-key-0001"},
                            follow_redirects=False)  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == "/app?done=saved"
    # the key as a form field (a form posted without JavaScript)
    for _ in range(2):
        r = app_client.post("/app/diary", data=form | {"csrf": csrf, "idempotency_key": "form-field-0001",
                                                       "time": "2025-11-27T07:00"},
                            follow_redirects=False)  # fmt: skip
        assert r.status_code == 303
    assert events(runtime, org_id) == n + 2


def test_a_receipt_tapped_twice_with_its_key_is_one_receipt(runtime: Runtime, app_client: TestClient) -> None:
    """Without the key a resent tap (the answer lost on a weak signal) would answer "not found" (already
    received); with it the phone gets the first answer back and the lot is received once."""
    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    mill_id, _ = member_client(app_client, runtime, "Nhà máy Idempotent", "idem.mill", OrgKind.processor)
    assert ship(w, w.coop, Org(mill_id), rice["uri"]).status_code == 201
    csrf = csrf_of(app_client.get("/app").text)
    lot_id = rice["lot"]["id"]
    for _ in range(2):
        r = app_client.post(f"/app/receive/{lot_id}", data={"csrf": csrf}, headers={"Idempotency-Key": "receipt-0001"},
                            follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, r.text
    assert r.headers["idempotent-replayed"] == "true"
    with Session(runtime.engine) as s:
        steps = s.exec(select(Event.biz_step).where(col(Event.org_id) == mill_id)).all()
    assert [x for x in steps if (x or "").endswith("receiving")] == [steps[0]] and len(steps) == 1
