"""Scheduled EPCIS query subscriptions: the schedule syntax and its next fire time, refusals, and
deliveries to a real local webhook (every second), with reportIfEmpty and the organisation's read rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.webhooks import Received, webhook
from tests.world import CTX, World, make_world, obj_event, receive, setup_rice, ship
from traceability_api.epcis_rest.notify import signature
from traceability_api.epcis_rest.schedule import ScheduleError, next_fire, parse
from traceability_api.runtime import Runtime

EVERY_SECOND = {"second": "[0-59]"}
CONTROLS = "epcisException:SubscriptionControlsException"
Z = {"second": "0", "minute": "0"}


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        ({}, datetime(2025, 3, 1, 8, 0, 0, 500_000, tzinfo=UTC), at(2025, 3, 1, 8, 0, 1)),
        (EVERY_SECOND, at(2025, 12, 31, 23, 59, 59), at(2026, 1, 1, 0, 0, 0)),
        ({"second": "0", "minute": "5,35"}, at(2025, 3, 1, 10, 20, 0), at(2025, 3, 1, 10, 35, 0)),
        ({"second": "0", "minute": "5,35"}, at(2025, 3, 1, 10, 35, 0), at(2025, 3, 1, 11, 5, 0)),
        ({**Z, "hour": "[9-17]"}, at(2025, 3, 1, 12, 30, 0), at(2025, 3, 1, 13, 0, 0)),
        ({**Z, "hour": "[9-17]"}, at(2025, 3, 1, 17, 0, 0), at(2025, 3, 2, 9, 0, 0)),
        ({"second": "10,[20-22]", "minute": "1"}, at(2025, 3, 1, 0, 1, 20), at(2025, 3, 1, 0, 1, 21)),
        ({"second": "10,[20-22]", "minute": "1"}, at(2025, 3, 1, 0, 1, 22), at(2025, 3, 1, 1, 1, 10)),
        # GS1's example: an omitted field is a wildcard, so seconds run through the minute 01:05
        ({"hour": "1", "minute": "5"}, at(2025, 3, 1, 0, 0, 0), at(2025, 3, 1, 1, 5, 0)),
        ({"hour": "1", "minute": "5"}, at(2025, 3, 1, 1, 5, 59), at(2025, 3, 2, 1, 5, 0)),
        # 2025-03-01 is a Saturday; 1 = Monday, 7 = Sunday
        ({**Z, "hour": "6", "dayOfWeek": "1"}, at(2025, 3, 1, 7, 0, 0), at(2025, 3, 3, 6, 0, 0)),
        ({**Z, "hour": "6", "dayOfWeek": "[6-7]"}, at(2025, 3, 2, 6, 0, 0), at(2025, 3, 8, 6, 0, 0)),
        # month boundaries: no 31 February, no 31 April
        ({**Z, "hour": "0", "dayOfMonth": "31"}, at(2025, 1, 31, 0, 0, 0), at(2025, 3, 31, 0, 0, 0)),
        ({**Z, "hour": "0", "dayOfMonth": "31"}, at(2025, 3, 31, 0, 0, 0), at(2025, 5, 31, 0, 0, 0)),
        ({**Z, "hour": "0", "dayOfMonth": "1", "month": "1,7"}, at(2025, 3, 1, 0, 0, 0), at(2025, 7, 1, 0, 0, 0)),
        ({**Z, "hour": "0", "dayOfMonth": "29", "month": "2"}, at(2025, 1, 1, 0, 0, 0), at(2028, 2, 29, 0, 0, 0)),
        # day of month and day of week must both match: Friday the 13th, Monday 29 February
        ({**Z, "hour": "0", "dayOfMonth": "13", "dayOfWeek": "5"}, at(2025, 1, 1, 0, 0, 0), at(2025, 6, 13, 0, 0, 0)),
        ({**Z, "hour": "0", "dayOfMonth": "29", "month": "2", "dayOfWeek": "1"}, at(2025, 1, 1, 0, 0, 0), at(2044, 2, 29, 0, 0, 0)),  # noqa: E501
        # times are UTC: 08:00 at +07:00 is 01:00 UTC
        ({"second": "0", "minute": "30", "hour": "1"}, datetime(2025, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=7))), at(2025, 3, 1, 1, 30, 0)),  # noqa: E501
    ],
)  # fmt: skip
def test_next_fire_time(schedule: dict[str, str], after: datetime, expected: datetime) -> None:
    assert next_fire(parse(schedule), after) == expected


BAD_SCHEDULES: list[Any] = [
    {"second": "60"}, {"minute": "[5-1]"}, {"hour": "*"}, {"hour": "24"}, {"dayOfMonth": "0"}, {"month": "13"},
    {"dayOfWeek": "8"}, {"dayOfWeek": "0"}, {"second": 5}, {"sec": "1"}, {"minute": ""}, {"minute": "1,,2"},
    {"minute": "[1-2"}, {"minute": "-1"}, {"dayOfMonth": "30", "month": "2"}, {"dayOfMonth": "31", "month": "[4-4],6"},
    "daily", None, [],
]  # fmt: skip


@pytest.mark.parametrize("schedule", BAD_SCHEDULES)
def test_invalid_schedules_are_refused(schedule: Any) -> None:
    with pytest.raises(ScheduleError):
        parse(schedule)


@pytest.fixture
def hooks() -> Iterator[list[tuple[str, Received]]]:
    """Three local webhooks, each with the queue of what it received."""
    with ExitStack() as stack:
        yield [stack.enter_context(webhook()) for _ in range(3)]


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    runtime.settings.webhook_allow_private = True
    yield make_world(runtime, app_client)


def capture(w: World, events: list[dict[str, Any]], org: Any = None) -> None:
    body = {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2025-03-05T00:00:00Z", "epcisBody": {"eventList": events}}  # fmt: skip
    r = w.post(org or w.coop, "/epcis/capture", body)
    assert r.status_code == 202, r.text
    assert w.get(org or w.coop, r.headers["Location"]).json()["success"]


def steps(body: bytes) -> list[str]:
    doc = json.loads(body)
    assert doc["type"] == "EPCISQueryDocument"
    return [e["bizStep"] for e in doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]


def next_delivery(received: Received) -> tuple[dict[str, str], bytes]:
    return received.get(timeout=30)  # a deadline for the poll, not a timing assertion


def test_scheduled_subscription_refusals(w: World) -> None:
    assert w.post(w.coop, "/epcis/queries", {"name": "all", "query": {}}).status_code == 201
    url = "/epcis/queries/all/subscriptions"
    for bad in BAD_SCHEDULES:
        r = w.post(w.coop, url, {"dest": "https://example.com/cb", "schedule": bad})
        assert r.status_code == 400, (bad, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == CONTROLS and r.json()["status"] == 400 and r.json()["detail"]
    for bad_body in (
        {"dest": "https://example.com/cb", "schedule": EVERY_SECOND, "stream": True},
        {"dest": "https://example.com/cb"},
        {"dest": "https://example.com/cb", "schedule": EVERY_SECOND, "reportIfEmpty": "yes"},
    ):
        r = w.post(w.coop, url, bad_body)
        assert r.status_code == 400 and r.json()["type"] == CONTROLS, r.text
    r = w.post(w.coop, url, {"dest": "http://example.com/cb", "initialRecordTime": "yesterday", "schedule": {}})
    assert r.status_code == 400
    assert w.get(w.coop, url).json() == []


def test_scheduled_delivery_to_a_webhook_with_report_if_empty(w: World, hooks: Any) -> None:
    (quiet_dest, quiet), (ticks_dest, ticks), (old_dest, old) = hooks
    rice = setup_rice(w)
    nq = {"name": "stored", "query": {"EQ_bizStep": ["storing"]}}
    assert w.post(w.coop, "/epcis/queries", nq).status_code == 201
    url = "/epcis/queries/stored/subscriptions"
    capture(w, [obj_event(rice["uri"], 1, "storing", time="2025-03-01T09:00:00+07:00")])  # before subscribing
    sub = {"dest": quiet_dest, "signatureToken": "s3cret", "schedule": EVERY_SECOND, "reportIfEmpty": False}
    r = w.post(w.coop, url, sub)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["schedule"] == EVERY_SECOND and body["reportIfEmpty"] is False and "stream" not in body
    assert w.get(w.coop, r.headers["Location"]).json()["schedule"] == EVERY_SECOND
    assert w.post(w.coop, url, {"dest": ticks_dest, "schedule": {}, "reportIfEmpty": True}).status_code == 201
    since = {"dest": old_dest, "schedule": EVERY_SECOND, "initialRecordTime": "2000-01-01T00:00:00Z"}
    assert w.post(w.coop, url, since).status_code == 201

    # initialRecordTime: the event recorded before the subscription is delivered at the first fire time
    assert steps(next_delivery(old)[1]) == ["storing"]
    # reportIfEmpty true: empty documents arrive before anything is captured
    assert steps(next_delivery(ticks)[1]) == []

    capture(w, [obj_event(rice["uri"], 2, "inspecting"), obj_event(rice["uri"], 3, "storing")])
    headers, sent = next_delivery(quiet)
    assert steps(sent) == ["storing"]
    assert headers["GS1-Signature"] == signature("s3cret", sent)
    assert headers["GS1-EPCIS-Version"] == "2.0.0"
    # the reportIfEmpty subscription gets the same event once, then empty documents again
    for _ in range(60):  # a bound on fire times, not a timing assertion
        if steps(next_delivery(ticks)[1]):
            break
    for _ in range(2):
        assert steps(next_delivery(ticks)[1]) == []
    # meanwhile (both fire every second) nothing was sent to the reportIfEmpty: false webhook
    assert quiet.empty()
    r = w.get(w.coop, url)
    assert sorted(s.get("lastNotifiedAt") is not None for s in r.json()) == [True, True, True]


def test_scheduled_query_delivers_only_what_the_organisation_may_read(w: World, hooks: Any) -> None:
    (mill_dest, mill), (coop_dest, coop), _ = hooks
    rice = setup_rice(w)
    for org, dest in ((w.mill, mill_dest), (w.coop, coop_dest)):
        nq = {"name": "objects", "query": {"eventType": ["ObjectEvent"]}}
        assert w.post(org, "/epcis/queries", nq).status_code == 201
        sub = {"dest": dest, "schedule": EVERY_SECOND, "reportIfEmpty": True}
        assert w.post(org, "/epcis/queries/objects/subscriptions", sub).status_code == 201
    other = setup_rice(w, lot="L2")  # a lot the cooperative keeps: the mill may not read its events
    capture(w, [obj_event(other["uri"], 1, "inspecting")])
    assert ship(w, w.coop, w.mill, rice["uri"]).status_code == 201
    assert receive(w, w.mill, w.coop, rice["uri"]).status_code == 201
    seen: dict[str, list[str]] = {"mill": [], "coop": []}
    for name, received, last in (("coop", coop, "shipping"), ("mill", mill, "receiving")):
        for _ in range(60):  # a bound on fire times, not a timing assertion
            seen[name] += steps(next_delivery(received)[1])
            if last in seen[name]:
                break
        assert last in seen[name], seen
    for _ in range(2):  # two more fire times: nothing else is delivered to the mill
        seen["mill"] += steps(next_delivery(mill)[1])
    assert "receiving" in seen["mill"] and set(seen["mill"]) <= {"shipping", "receiving"}, seen
    assert "inspecting" in seen["coop"] and "inspecting" not in seen["mill"]
    # the mill cannot see or manage the cooperative's subscriptions
    assert w.get(w.mill, "/epcis/queries/objects/subscriptions").json()[0]["dest"] == mill_dest
    assert len(w.get(w.mill, "/epcis/queries/objects/subscriptions").json()) == 1
