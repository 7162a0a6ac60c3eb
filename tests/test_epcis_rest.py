"""The EPCIS 2.0 REST binding under /epcis, over HTTP: capture jobs, the query language, top-level
resources, named queries, webhook and WebSocket subscriptions, XML capture, version headers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.webhooks import Received, webhook
from tests.world import CTX, World, make_world, obj_event, receive, setup_rice, ship
from traceability_api.consensus.event_hash import hash_ids_of_json_document
from traceability_api.consensus.xml_reader import hash_ids_of_xml_document
from traceability_api.epcis_rest.notify import signature
from traceability_api.runtime import Runtime

PROBLEM = "application/problem+json"


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


def doc(events: list[dict[str, Any]], ctx: Any = CTX) -> dict[str, Any]:
    return {"@context": ctx, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2025-03-05T00:00:00Z", "epcisBody": {"eventList": events}}  # fmt: skip


def events_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]  # type: ignore[no-any-return]


def capture(w: World, body: Any, org: Any = None, **headers: str) -> dict[str, Any]:
    r = w.post(org or w.coop, "/epcis/capture", body, headers=headers)
    assert r.status_code == 202, r.text
    assert r.headers["GS1-EPCIS-Version"] == "2.0.0" and int(r.headers["GS1-EPCIS-Capture-Limit"]) > 0
    job = w.get(org or w.coop, r.headers["Location"])
    assert job.status_code == 200, job.text
    return job.json()  # type: ignore[no-any-return]


def q(w: World, org: Any = None, path: str = "/epcis/events", **params: Any) -> list[dict[str, Any]]:
    r = w.get(org or w.coop, path, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["GS1-EPCIS-Version"] == "2.0.0" and r.headers["GS1-CBV-Version"] == "2.0.0"
    return events_of(r.json())


def test_capture_job_reports_success_and_errors(w: World) -> None:
    rice = setup_rice(w)
    good = [obj_event(rice["uri"], 1, "inspecting", time=f"2025-03-01T0{i}:00:00+07:00") for i in range(3)]
    job = capture(w, doc(good))
    assert (job["running"], job["success"], job["errors"], job["captureErrorBehaviour"]) == (
        False,
        True,
        [],
        "rollback",
    )
    assert len(q(w, EQ_bizStep="inspecting")) == 3
    # rollback: one bad event rejects all; the job says which and why
    bad = [obj_event(rice["uri"], 1, "storing"), obj_event(rice["uri"], -1, "storing")]
    job = capture(w, doc(bad))
    assert job["success"] is False and job["errors"][0]["detail"].startswith("event 1:")
    assert q(w, EQ_bizStep="storing") == []
    # proceed: the good event is stored, the bad one reported
    job = capture(w, doc(bad), **{"GS1-Capture-Error-Behaviour": "proceed"})
    assert job["success"] is False and len(job["errors"]) == 1 and len(q(w, EQ_bizStep="storing")) == 1
    jobs = w.get(w.coop, "/epcis/capture").json()
    assert len(jobs) == 3 and {j["success"] for j in jobs} == {True, False}
    # another organisation sees neither the jobs nor the events
    assert w.get(w.mill, f"/epcis/capture/{jobs[0]['captureID']}").status_code == 404
    assert w.get(w.mill, "/epcis/capture").json() == [] and q(w, w.mill) == []


def test_capture_refusals_are_problem_documents(w: World) -> None:
    for body, status in [({"type": "Nope"}, 400), ([1, 2], 400), ("[" * 100_000 + "]" * 100_000, 400)]:
        data = body if isinstance(body, str) else json.dumps(body)
        r = w.client.post("/epcis/capture", content=data, headers=w.coop.h() | {"Content-Type": "application/json"})
        assert r.status_code == status and r.headers["content-type"] == PROBLEM, r.text
        assert {"type", "title", "status", "detail"} <= set(r.json())
    r = w.client.post("/epcis/capture", content=b"x", headers=w.coop.h() | {"Content-Type": "text/csv"})
    assert r.status_code == 415
    assert w.client.post("/epcis/capture", json=doc([])).status_code == 401
    assert w.post(w.coop, "/epcis/capture", doc([]), role="viewer").status_code == 403
    r = w.post(w.coop, "/epcis/capture", doc([]), headers={"GS1-Capture-Error-Behaviour": "maybe"})
    assert r.status_code == 400
    assert w.client.get("/epcis/events", headers=w.coop.h() | {"GS1-EPCIS-Version": "1.2"}).status_code == 406
    assert w.client.options("/epcis/capture").headers["GS1-EPCIS-Max"] == "2.0.0"


def test_single_event_capture_and_lookup_by_event_id(w: World) -> None:
    rice = setup_rice(w)
    ev = obj_event(rice["uri"], 2, "inspecting", eventID="urn:uuid:6a7c1f2e-0000-4000-8000-000000000001")
    r = w.post(w.coop, "/epcis/events", ev)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == "/epcis/events/" + quote(ev["eventID"], safe="")
    got = w.get(w.coop, r.headers["Location"])
    assert got.status_code == 200 and events_of(got.json())[0]["eventID"] == ev["eventID"]
    assert w.post(w.coop, "/epcis/events", ev).status_code == 200  # the same event again: stored once
    assert w.get(w.mill, r.headers["Location"]).status_code == 404


def test_a_declared_event_shows_its_error_declaration_and_the_query_parameters_find_it(w: World) -> None:
    """An EPCIS client declares an event erroneous the standard's way (the event again, with an
    errorDeclaration): the declaration was stored and anchored, but no query result showed it, and
    EXISTS_errorDeclaration, EQ_errorReason and GE_errorDeclarationTime never matched anything."""
    rice = setup_rice(w)
    wrong = obj_event(rice["uri"], 2, "inspecting")
    eid = w.post(w.coop, "/epcis/events", wrong).json()["eventID"]
    assert w.post(w.coop, "/epcis/events", obj_event(rice["uri"], 3, "storing")).status_code == 201
    decl = {"declarationTime": "2025-03-02T00:00:00Z", "reason": "incorrect_data"}
    r = w.post(w.coop, "/epcis/events", wrong | {"errorDeclaration": decl})
    assert r.status_code == 201 and r.json()["errorDeclaration"]["reason"] == "incorrect_data", r.text
    shown = {"declarationTime": "2025-03-02T00:00:00.000Z", "reason": "incorrect_data"}
    for params in ({"EXISTS_errorDeclaration": ""}, {"EQ_errorReason": "incorrect_data"},
                   {"EQ_errorReason": "urn:epcglobal:cbv:er:incorrect_data"},
                   {"GE_errorDeclarationTime": "2025-03-01T00:00:00Z"}):  # fmt: skip
        found = q(w, **params)
        assert [(e["eventID"], e.get("errorDeclaration")) for e in found] == [(eid, shown)], params
    assert q(w, LT_errorDeclarationTime="2025-03-01T00:00:00Z") == []
    assert eid not in {e["eventID"] for e in q(w, EXISTS_errorDeclaration="false")}
    got = w.get(w.coop, "/epcis/events/" + quote(eid, safe="")).json()
    assert events_of(got)[0]["errorDeclaration"] == shown
    assert hash_ids_of_json_document(got)[0] == eid  # outside the hash: the event still re-hashes to its ID


def test_a_sensor_type_is_found_by_its_bare_word_however_the_event_writes_it(w: World) -> None:
    """GS1's binding asks for standard sensor types as bare words (EQ_type=Temperature), the JSON
    schema's form, while XML events (GS1's own examples) write type="gs1:Temperature", kept as
    written: such an event was never found by the bare word, and an event of the bare word never by
    the gs1: term or the type's URI."""
    rice = setup_rice(w)
    for i, typ in enumerate(("gs1:Temperature", "Temperature", "gs1:RelativeHumidity")):
        report = {"type": typ, "value": 20 + i, "uom": "CEL"}
        ev = obj_event(rice["uri"], 1, "storing", time=f"2025-03-0{i + 2}T08:00:00+07:00",
                       sensorElementList=[{"sensorReport": [report]}])  # fmt: skip
        r = w.post(w.coop, "/epcis/events", ev)
        assert r.status_code == 201, r.text
    for asked in ("Temperature", "gs1:Temperature", "https://gs1.org/voc/Temperature"):
        assert sorted(e["sensorElementList"][0]["sensorReport"][0]["value"] for e in q(w, EQ_type=asked)) == [20, 21]
    assert len(q(w, EQ_type="Temperature|RelativeHumidity")) == 3 and q(w, EQ_type="Illuminance") == []


def test_a_query_answers_the_json_its_accept_asks_for_or_406(w: World) -> None:
    """An ERP asking for XML (Accept: application/xml), or a browser for HTML, got JSON labelled
    application/json with 200, which its parser then failed on; a client asking for JSON-LD got it
    labelled application/json.  GS1's binding answers 406 NotAcceptableException when it cannot."""
    rice = setup_rice(w)
    eid = w.post(w.coop, "/epcis/events", obj_event(rice["uri"], 1, "inspecting")).json()["eventID"]
    paths = ("/epcis/events", "/epcis/events/" + quote(eid, safe=""), "/epcis/eventTypes")
    for accept, media in (("application/ld+json", "application/ld+json"), ("application/json", "application/json"),
                          ("*/*", "application/json"), ("application/ld+json;q=0.5, application/*", "application/json"),
                          ("text/html, application/ld+json;q=0.9", "application/ld+json")):  # fmt: skip
        for path in paths:
            r = w.client.get(path, headers=w.coop.h() | {"Accept": accept})
            assert (r.status_code, r.headers["content-type"]) == (200, media), (accept, path, r.text[:200])
    for accept in ("application/xml", "text/html", "application/json;q=0, application/ld+json;q=0"):
        r = w.client.get("/epcis/events", headers=w.coop.h() | {"Accept": accept})
        assert r.status_code == 406 and r.headers["content-type"] == PROBLEM, (accept, r.text)
        assert r.json()["type"] == "epcisException:NotAcceptableException" and "no XML" in r.json()["detail"]
    r = w.client.post("/epcis/events", json=obj_event(rice["uri"], 2, "inspecting"),
                      headers=w.coop.h() | {"Accept": "application/xml"})  # fmt: skip
    assert r.status_code == 201, r.text  # a capture is not refused for what its client reads


def test_a_path_or_method_the_binding_does_not_serve_is_a_problem_naming_what_it_serves(w: World) -> None:
    """Every unknown path under /epcis was '405 Method Not Allowed' with 'Allow: OPTIONS' (the OPTIONS
    route matched every path), a wrong method on a real path said the same, and both were FastAPI's
    {"detail": ...}, not a problem body; OPTIONS listed HEAD, which no route serves."""
    setup_rice(w)
    h = w.coop.h()
    for path in ("/epcis/nonexistent", "/epcis/capture/1/more", "/epcis/epcs/a%0Ab/events"):
        r = w.client.get(path, headers=h)
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM, (path, r.text)
        assert r.json()["type"] == "epcisException:NoSuchNameException" and r.headers["GS1-EPCIS-Version"]
    r = w.client.delete("/epcis/capture", headers=h)
    assert r.status_code == 405 and r.headers["content-type"] == PROBLEM, r.text
    assert r.headers["Allow"] == "OPTIONS, GET, POST" and "use GET, POST" in r.json()["detail"]
    assert w.client.put("/epcis/queries/q1", headers=h).headers["Allow"] == "OPTIONS, GET, DELETE"
    assert w.client.options("/epcis/events").headers["Allow"] == "OPTIONS, GET, POST"
    assert w.client.options("/epcis/queries/q1/subscriptions/7").headers["Allow"] == "OPTIONS, GET, DELETE"
    assert w.get(w.coop, "/epcis/capture").status_code == 200  # the routes themselves still answer


def rich_events(rice: dict[str, Any], w: World) -> list[dict[str, Any]]:
    rp = "https://id.gs1.org/414/8930000000019"
    return [
        obj_event(rice["uri"], 5, "inspecting", time="2025-03-02T08:00:00+07:00", readPoint={"id": rp},
                  bizTransactionList=[{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:8930000000019:PO-7"}],
                  **{"agri:moisture": 14.5, "agri:grade": "A"}),
        obj_event(rice["uri"], 50, "storing", time="2025-03-03T08:00:00+07:00", disposition="in_progress",
                  sensorElementList=[{"sensorMetadata": {"deviceID": "urn:epc:id:giai:893000.T1"},
                                      "sensorReport": [{"type": "Temperature", "value": 31.5, "uom": "CEL"}]}]),
        obj_event(rice["uri"], 7, "inspecting", time="2025-03-04T08:00:00+07:00",
                  **{"agri:lab": {"agri:result": "pass"}}),
    ]  # fmt: skip


def test_query_language_families(w: World) -> None:
    rice = setup_rice(w)
    assert capture(w, doc(rich_events(rice, w)))["success"]

    def steps(**params: Any) -> list[str]:
        return [e["bizStep"] for e in q(w, **params)]

    assert steps(EQ_bizStep="storing|inspecting", orderBy="eventTime", orderDirection="ASC") == [
        "inspecting", "storing", "inspecting"]  # fmt: skip
    assert steps(EQ_bizStep="inspecting", orderBy="eventTime")[0] == "inspecting"
    assert len(q(w, eventType="ObjectEvent")) == 4 and q(w, eventType="AggregationEvent") == []
    assert steps(GE_eventTime="2025-03-03T00:00:00+07:00", LT_eventTime="2025-03-04T00:00:00+07:00") == ["storing"]
    assert steps(EQ_disposition="in_progress") == ["storing"]
    assert steps(EQ_readPoint="urn:epc:id:sgln:893000.000001.0") == ["inspecting"]  # EPC URN = its DL form
    assert len(q(w, MATCH_epcClass=rice["uri"])) == 4 and q(w, MATCH_epcClass="https://id.gs1.org/01/1/10/x") == []
    assert len(q(w, MATCH_anyEPCClass=rice["uri"].replace("id.gs1.org", "trace.example.vn"))) == 4
    assert steps(GT_quantity=6, LT_quantity=49) == ["inspecting"] and steps(EQ_quantity=50) == ["storing"]
    assert steps(EQ_bizTransaction_po="urn:epcglobal:cbv:bt:8930000000019:PO-7") == ["inspecting"]
    assert steps(**{"EQ_agri:grade": "A"}) == ["inspecting"] and steps(**{"GE_agri:moisture": 14}) == ["inspecting"]
    assert len(q(w, **{"EXISTS_agri:moisture": "true"})) == 1 and len(q(w, **{"EXISTS_agri:moisture": "false"})) == 3
    assert steps(**{"EQ_INNER_agri:result": "pass"}) == ["inspecting"]
    assert steps(EQ_type="Temperature", GE_value=30) == ["storing"] and steps(GE_value=40) == []
    assert steps(EQ_deviceID="urn:epc:id:giai:893000.T1") == ["storing"]
    assert steps(**{"EQ_ILMD_agri:variety": "ST25"}) == ["commissioning"]  # setup_rice's harvest
    assert q(w, EXISTS_errorDeclaration="true") == []
    for bad in ({"EQ_nonsense": "x", "perPage": 0}, {"GE_eventTime": "yesterday"}, {"eventType": "Foo"},
                {"orderBy": "bizStep"}, {"nextPageToken": "garbage"}, {"GT_quantity": "many"}):  # fmt: skip
        r = w.get(w.coop, "/epcis/events", params=bad)
        assert r.status_code == 400 and r.json()["type"] == "epcisException:QueryParameterException", (bad, r.text)


def test_paging_follows_link_and_token(w: World) -> None:
    rice = setup_rice(w)
    for i in range(6):
        ev = obj_event(rice["uri"], 1, "inspecting", time=f"2025-03-0{i + 2}T08:00:00+07:00")
        assert w.post(w.coop, "/epcis/events", ev).status_code == 201
    seen: list[str] = []
    url, params = "/epcis/events", {"perPage": 3, "EQ_bizStep": "inspecting", "orderBy": "eventTime"}
    while True:
        r = w.get(w.coop, url, params=params) if params else w.get(w.coop, url)
        assert r.status_code == 200, r.text
        seen += [e["eventTime"] for e in events_of(r.json())]
        if "Link" not in r.headers:
            break
        url, params = r.headers["Link"].split(">", 1)[0][1:], {}
    assert len(seen) == 6 and seen == sorted(seen, reverse=True)  # orderBy without direction: newest first
    assert len(q(w, eventCountLimit=4, perPage=3)) == 3
    r = w.get(w.coop, "/epcis/events", params={"eventCountLimit": 4, "perPage": 3})
    token = r.json()["epcisBody"]["queryResults"]["nextPageToken"]
    assert len(q(w, eventCountLimit=4, perPage=3, nextPageToken=token)) == 1
    r = w.get(w.coop, "/epcis/events", params={"perPage": 3, "EQ_bizStep": "storing", "nextPageToken": token})
    assert r.status_code == 400  # a token of another query
    assert w.get(w.coop, "/epcis/events", params={"maxEventCount": 2}).status_code == 413


def test_crafted_page_tokens_and_out_of_range_times_are_query_refusals(w: World) -> None:
    """A page token is unsigned base64 JSON whose query fingerprint anyone can compute: a naive time
    in it failed in the database (500), an id beyond a BIGINT gave the generic 422 (not a problem
    document); so did a time that is year 0 or 10000 once in UTC."""
    import base64

    from traceability_api.epcis_rest.search import _fingerprint

    setup_rice(w)

    def token(params: dict[str, Any], **state: Any) -> str:
        raw = json.dumps({"q": _fingerprint(params), "v": None, "i": 1, "n": None} | state).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    by_time = {"orderBy": "eventTime"}
    for params in (
        by_time | {"nextPageToken": token(by_time, v="2025-01-01T00:00:00")},
        by_time | {"nextPageToken": token(by_time, v="0001-01-01T00:00:00+14:00")},
        {"nextPageToken": token({}, i=10**30)},
        {"nextPageToken": token({}, n=-5)},
        {"GE_eventTime": "0001-01-01T00:00:00+14:00"},
        {"LT_recordTime": "9999-12-31T23:59:59-14:00"},
    ):
        r = w.get(w.coop, "/epcis/events", params=params)
        assert r.status_code == 400 and r.headers["content-type"] == PROBLEM, (params, r.status_code, r.text)
        assert r.json()["type"] == "epcisException:QueryParameterException", r.text
    assert len(q(w, nextPageToken=token({}, i=0))) == 1  # a well-formed token still reads on


def test_version_headers_with_huge_numbers_are_negotiated_not_a_500(w: World) -> None:
    """GS1-EPCIS-Min/Max are read as numbers: one of more than 4,300 digits made int() raise (500)."""
    r = w.client.get("/epcis/events", headers=w.coop.h() | {"GS1-EPCIS-Min": "9" * 5000})
    assert r.status_code == 406 and r.headers["content-type"] == PROBLEM, r.text
    r = w.client.get("/epcis/events", headers=w.coop.h() | {"GS1-CBV-Max": "2." + "1" * 5000})
    assert r.status_code == 200, r.text
    r = w.client.get("/epcis/events", headers=w.coop.h() | {"GS1-EPCIS-Max": "1." + "0" * 5000 + "9"})
    assert r.status_code == 406, r.text


def test_a_named_query_is_checked_whole(w: World) -> None:
    """NAME_RE.match let a final line break through ($ matches before it): the name went into the
    Location header (a header injection; h11 refuses to send it).  And its perPage is checked."""
    for name in ("abc\n", "abc\r\nX-Evil: 1", "ok\n\n"):
        r = w.post(w.coop, "/epcis/queries", {"name": name, "query": {}})
        assert r.status_code == 400 and "query name" in r.json()["detail"], (name, r.text)
    assert w.get(w.coop, "/epcis/queries").json() == []
    # a perPage the query could never be read with was stored (the check replaced it by 1)
    for bad in ({"a": 1}, "0", "many", 5000):
        r = w.post(w.coop, "/epcis/queries", {"name": "paged", "query": {"perPage": bad}})
        assert r.status_code == 400 and "perPage" in r.json()["detail"], (bad, r.text)
    assert w.post(w.coop, "/epcis/queries", {"name": "paged", "query": {"perPage": 5}}).status_code == 201
    # a body that says it is not JSON is refused as such (it was read as JSON all the same)
    plain = {"headers": {"Content-Type": "text/plain"}}
    r = w.client.post(
        "/epcis/queries", content=b'{"name": "plain", "query": {}}', headers=w.coop.h() | plain["headers"]
    )
    assert r.status_code == 415 and "application/json" in r.json()["detail"], r.text
    assert [q["name"] for q in w.get(w.coop, "/epcis/queries").json()] == ["paged"]


def test_top_level_resources(w: World) -> None:
    rice = setup_rice(w)
    assert capture(w, doc(rich_events(rice, w)))["success"]
    root = w.get(w.coop, "/epcis").json()
    assert root["type"] == "Collection" and "eventTypes" in root["member"]
    assert "ObjectEvent" in w.get(w.coop, "/epcis/eventTypes").json()["member"]
    steps = w.get(w.coop, "/epcis/bizSteps").json()["member"]
    assert "https://ref.gs1.org/cbv/BizStep-storing" in steps
    assert w.get(w.coop, "/epcis/bizSteps/storing").json()["member"] == ["events"]
    assert [e["bizStep"] for e in q(w, path="/epcis/bizSteps/storing/events")] == ["storing"]
    assert w.get(w.coop, "/epcis/bizSteps/destroying").status_code == 404
    assert rice["uri"] in w.get(w.coop, "/epcis/epcs").json()["member"]
    assert len(q(w, path=f"/epcis/epcs/{quote(rice['uri'], safe='')}/events")) == 4
    rps = w.get(w.coop, "/epcis/readPoints").json()["member"]
    assert rps == ["https://id.gs1.org/414/8930000000019"]
    assert len(q(w, path=f"/epcis/readPoints/{quote(rps[0], safe='')}/events")) == 1
    assert "https://ref.gs1.org/cbv/Disp-in_progress" in w.get(w.coop, "/epcis/dispositions").json()["member"]
    assert w.get(w.coop, "/epcis/bizSteps", params={"perPage": 1}).headers["Link"].endswith('rel="next"')
    # the mill sees nothing of the cooperative's
    assert (
        w.get(w.mill, "/epcis/epcs").json()["member"] == [] and w.get(w.mill, "/epcis/bizSteps").json()["member"] == []
    )
    assert w.get(w.mill, "/epcis/bizSteps/storing").status_code == 404


@pytest.fixture
def hook() -> Iterator[tuple[str, Received]]:
    with webhook() as hook:
        yield hook


def test_named_query_and_webhook_subscription(w: World, runtime: Runtime, hook: Any) -> None:
    dest, received = hook
    rice = setup_rice(w)
    nq = {"name": "storing", "query": {"EQ_bizStep": ["storing"], "eventType": ["ObjectEvent"]}}
    r = w.post(w.coop, "/epcis/queries", nq)
    assert r.status_code == 201 and r.headers["Location"] == "/epcis/queries/storing"
    assert w.post(w.coop, "/epcis/queries", nq).status_code == 409
    assert w.post(w.coop, "/epcis/queries", {"name": "x", "query": {"EQ_bogus": 1}}).status_code == 400
    assert w.get(w.coop, "/epcis/queries").json() == [nq] and w.get(w.mill, "/epcis/queries").json() == []
    assert w.get(w.mill, "/epcis/queries/storing/events").status_code == 404
    sub = {"dest": dest, "signatureToken": "s3cret", "stream": True}
    r = w.post(w.coop, "/epcis/queries/storing/subscriptions", sub)
    assert r.status_code == 400 and "non-public" in r.json()["detail"]  # SSRF guard: loopback refused
    for bad in ({"dest": "file:///etc/passwd", "stream": True}, {"dest": "https://example.com/x"},
                {"dest": "http://169.254.169.254/latest", "stream": True}):  # fmt: skip
        assert w.post(w.coop, "/epcis/queries/storing/subscriptions", bad).status_code == 400
    runtime.settings.webhook_allow_private = True
    r = w.post(w.coop, "/epcis/queries/storing/subscriptions", sub)
    assert r.status_code == 201, r.text
    assert "signatureToken" not in r.json() and w.get(w.coop, r.headers["Location"]).json()["dest"] == dest
    assert capture(w, doc([obj_event(rice["uri"], 1, "inspecting"), obj_event(rice["uri"], 2, "storing")]))["success"]
    headers, body = received.get(timeout=20)
    sent = json.loads(body)
    assert [e["bizStep"] for e in events_of(sent)] == ["storing"]
    assert headers["GS1-Signature"] == signature("s3cret", body)
    assert [e["bizStep"] for e in q(w, path="/epcis/queries/storing/events")] == ["storing"]
    assert w.client.delete(r.headers["Location"], headers=w.coop.h()).status_code == 204
    assert w.client.delete("/epcis/queries/storing", headers=w.coop.h()).status_code == 204
    assert w.get(w.coop, "/epcis/queries/storing").status_code == 404


def test_a_subscription_whose_query_fails_does_not_stop_the_others(w: World, runtime: Runtime, hook: Any) -> None:
    """One dispatcher round serves every organisation's subscriptions: a named query with
    maxEventCount (valid while nothing matched) raised QueryTooLarge in the round as soon as an event
    matched, every round, so no other subscription or WebSocket of the process got anything again;
    nor may a query stored before the parameters it uses were refused (now each fails alone)."""
    from sqlmodel import Session

    from traceability_api.epcis_rest.models import NamedQuery, Subscription

    dest, received = hook
    runtime.settings.webhook_allow_private = True
    rice = setup_rice(w)
    admin = w.get(w.coop, "/api/v1/members").json()[0]["id"]
    with Session(runtime.engine) as s:  # first in the round: a query the server no longer understands
        old = NamedQuery(org_id=w.coop.id, member_id=admin, name="old", query={"EQ_retired": "x"})
        s.add(old)
        s.flush()
        s.add(Subscription(query_id=old.id or 0, org_id=w.coop.id, member_id=admin, dest=dest, stream=True))
        s.commit()
    bomb = {"name": "bomb", "query": {"maxEventCount": "0", "EQ_bizStep": "receiving"}}
    assert w.post(w.coop, "/epcis/queries", bomb).status_code == 201
    assert w.post(w.mill, "/epcis/queries", {"name": "mine", "query": {"EQ_bizStep": "receiving"}}).status_code == 201
    for org, name in ((w.coop, "bomb"), (w.mill, "mine")):
        r = w.post(org, f"/epcis/queries/{name}/subscriptions", {"dest": f"{dest}?{name}", "stream": True})
        assert r.status_code == 201, r.text
    assert ship(w, w.coop, w.mill, rice["uri"]).status_code == 201
    assert receive(w, w.mill, w.coop, rice["uri"]).status_code == 201
    got = [json.loads(received.get(timeout=20)[1]) for _ in range(2)]
    assert [[e["bizStep"] for e in events_of(d)] for d in got] == [["receiving"], ["receiving"]]
    assert {d["epcisBody"]["queryResults"]["queryName"] for d in got} == {"bomb", "mine"}


def test_a_stored_query_now_refused_is_logged_once_and_its_websocket_closed_with_the_reason(
    w: World, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """A named query stored while its parameters were valid, refused by a later version: its
    subscription logged a traceback at every dispatcher round (every poll, for ever), and a socket
    on it did the same while staying open with nothing to send."""
    from sqlmodel import Session
    from starlette.websockets import WebSocketDisconnect

    from traceability_api.epcis_rest.models import NamedQuery, Subscription
    from traceability_api.epcis_rest.notify import dispatcher

    rice = setup_rice(w)
    admin = w.get(w.coop, "/api/v1/members").json()[0]["id"]
    with Session(runtime.engine) as s:
        old = NamedQuery(org_id=w.coop.id, member_id=admin, name="old", query={"EQ_retired": "x"})
        s.add(old)
        s.flush()
        s.add(Subscription(query_id=old.id or 0, org_id=w.coop.id, member_id=admin, dest="http://example.com/h"))
        s.commit()
    with caplog.at_level("WARNING", logger="traceability_api.epcis_rest.notify"):
        assert capture(w, doc([obj_event(rice["uri"], 1, "inspecting")]))["success"]  # wakes the dispatcher
        for _ in range(3):
            dispatcher(runtime).run_once()
    told = [r for r in caplog.records if "named query is refused" in r.getMessage()]
    assert len(told) == 1 and "unknown query parameter" in told[0].getMessage() and told[0].exc_info is None
    with w.client.websocket_connect("/epcis/queries/old/events", headers=w.coop.h()) as ws:
        assert capture(w, doc([obj_event(rice["uri"], 2, "inspecting")]))["success"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1008 and "refused: " in closed.value.reason
    assert "unknown query parameter" in closed.value.reason


def test_a_stored_nan_is_sent_as_its_text_not_a_500(w: World, runtime: Runtime) -> None:
    """SQLite holds documents as text, and capture stored NaN and infinities before it refused
    them: every EPCIS query whose page held such an event failed with a 500 (the encoder refuses
    NaN), and /api/v1/events sent a bare NaN no strict JSON parser reads.  Such a number is now
    sent as the text the event hash reads it as."""
    from sqlalchemy import text

    from traceability_api.consensus.event_hash import hash_id_of_event

    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's json type never held NaN")
    rice = setup_rice(w)
    ev = obj_event(rice["uri"], 1, "inspecting", **{"agri:moisturePct": 12.5, "agri:drift": -3.25})
    assert capture(w, doc([ev]))["success"]
    with runtime.engine.begin() as c:
        event_id = c.execute(text("SELECT max(id) FROM event")).scalar_one()
        c.execute(text("UPDATE event SET document = replace(replace(document, '12.5', 'NaN'), '-3.25', '-Infinity') "
                       "WHERE id = :i"), {"i": event_id})  # fmt: skip

    def strict(body: str) -> Any:
        return json.loads(body, parse_constant=lambda c: pytest.fail(f"bare {c} in the answer"))

    for path, params in (("/epcis/events", {}), ("/epcis/events", {"EQ_bizStep": "inspecting"}),
                         ("/api/v1/events", {}), (f"/api/v1/events/{event_id}", {})):  # fmt: skip
        r = w.get(w.coop, path, params=params)
        assert r.status_code == 200, (path, r.text[:200])
        assert '"agri:moisturePct":"nan"' in r.text and '"agri:drift":"-inf"' in r.text, path
        strict(r.text)
    as_number = {**ev, "agri:moisturePct": float("nan"), "agri:drift": float("-inf")}
    as_text = {**ev, "agri:moisturePct": "nan", "agri:drift": "-inf"}
    assert hash_id_of_event(as_number) == hash_id_of_event(as_text)


def test_only_its_maker_or_an_admin_deletes_a_named_query_or_subscription(w: World, runtime: Runtime) -> None:
    """Any member may make named queries and webhook subscriptions; a viewer or auditor could also
    delete the ones an admin had set up for the organisation (found by the accounts probe)."""
    runtime.settings.webhook_allow_private = True
    assert w.post(w.coop, "/epcis/queries", {"name": "admins", "query": {}}).status_code == 201
    r = w.post(w.coop, "/epcis/queries/admins/subscriptions", {"dest": "http://127.0.0.1:9/h", "stream": True})
    assert r.status_code == 201, r.text
    sub = r.json()["id"] if "id" in r.json() else r.headers["Location"].rsplit("/", 1)[1]
    for role in ("viewer", "auditor", "recorder"):
        gone = w.client.delete(f"/epcis/queries/admins/subscriptions/{sub}", headers=w.coop.h(role))
        assert gone.status_code == 403 and "admin" in gone.json()["detail"], gone.text
        gone = w.client.delete("/epcis/queries/admins", headers=w.coop.h(role))
        assert gone.status_code == 403 and gone.json()["type"] == "epcisException:SecurityException"
    assert len(w.get(w.coop, "/epcis/queries/admins/subscriptions").json()) == 1
    # a viewer's own query and subscription are the viewer's to delete, and an admin's too
    viewer = w.coop.h("viewer")
    assert w.client.post("/epcis/queries", json={"name": "mine", "query": {}}, headers=viewer).status_code == 201
    r = w.client.post("/epcis/queries/mine/subscriptions", json={"dest": "http://127.0.0.1:9/v", "stream": True},
                      headers=viewer)  # fmt: skip
    assert r.status_code == 201
    mine = r.headers["Location"].rsplit("/", 1)[1]
    assert w.client.delete(f"/epcis/queries/mine/subscriptions/{mine}", headers=viewer).status_code == 204
    assert w.client.delete("/epcis/queries/mine", headers=viewer).status_code == 204
    assert w.client.delete(f"/epcis/queries/admins/subscriptions/{sub}", headers=w.coop.h()).status_code == 204
    assert w.client.delete("/epcis/queries/admins", headers=w.coop.h()).status_code == 204


def test_a_subscription_dest_that_is_no_url_is_a_400(w: World, runtime: Runtime) -> None:
    """urlsplit raises on a port out of range or a broken IPv6 literal: the SSRF guard let it out (500)."""
    assert w.post(w.coop, "/epcis/queries", {"name": "all", "query": {}}).status_code == 201
    for allow in (False, True):
        runtime.settings.webhook_allow_private = allow
        for dest in ("http://example.com:99999/x", "http://example.com:port/x", "http://[::1/x", "http://[zz]/x"):
            r = w.post(w.coop, "/epcis/queries/all/subscriptions", {"dest": dest, "stream": True})
            assert r.status_code == 400 and "not a valid URL" in r.json()["detail"], (dest, r.text)
    assert w.get(w.coop, "/epcis/queries/all/subscriptions").json() == []


def test_websocket_streams_new_matching_events(w: World) -> None:
    rice = setup_rice(w)
    r = w.post(w.coop, "/epcis/queries", {"name": "ship", "query": {"EQ_bizStep": "shipping"}})
    assert r.status_code == 201
    with w.client.websocket_connect("/epcis/queries/ship/events", headers=w.coop.h()) as ws:
        assert capture(w, doc([obj_event(rice["uri"], 1, "inspecting")]))["success"]
        assert ship(w, w.coop, w.mill, rice["uri"]).status_code == 201
        got = ws.receive_json()
        assert [e["bizStep"] for e in events_of(got)] == ["shipping"]
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect):
        with w.client.websocket_connect("/epcis/queries/ship/events", headers=w.mill.h()) as ws:
            ws.receive_json()


def test_the_websocket_of_a_revoked_member_is_closed(w: World) -> None:
    """Every request authenticates anew (a revoked key is refused from the next one on), but an open
    WebSocket kept the principal it started with: a member whose keys were revoked went on
    receiving the organisation's new events for as long as the socket stayed open."""
    from starlette.websockets import WebSocketDisconnect

    rice = setup_rice(w)
    recorder = next(m["id"] for m in w.get(w.mill, "/api/v1/members").json() if m["role"] == "recorder")
    assert w.post(w.mill, "/epcis/queries", {"name": "all", "query": {}}).status_code == 201
    assert ship(w, w.coop, w.mill, rice["uri"]).status_code == 201
    with w.client.websocket_connect("/epcis/queries/all/events", headers=w.mill.h("recorder")) as ws:
        assert receive(w, w.mill, w.coop, rice["uri"]).status_code == 201
        assert [e["bizStep"] for e in events_of(ws.receive_json())] == ["receiving"]
        assert w.client.delete(f"/api/v1/members/{recorder}/keys", headers=w.mill.h()).status_code == 200
        ev = obj_event(rice["uri"], 1, "inspecting", time="2025-03-03T08:00:00+07:00")
        assert w.post(w.mill, "/api/v1/events", ev).status_code == 201
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008 and "revoked" in closed.value.reason


def test_the_websocket_of_a_deleted_query_is_closed(w: World) -> None:
    """A socket went on streaming the query it was opened on after that query was deleted (or
    deleted and created again with other parameters under the same name)."""
    from starlette.websockets import WebSocketDisconnect

    rice = setup_rice(w)
    assert w.post(w.mill, "/epcis/queries", {"name": "all", "query": {}}).status_code == 201
    assert ship(w, w.coop, w.mill, rice["uri"]).status_code == 201
    with w.client.websocket_connect("/epcis/queries/all/events", headers=w.mill.h()) as ws:
        assert receive(w, w.mill, w.coop, rice["uri"]).status_code == 201
        assert [e["bizStep"] for e in events_of(ws.receive_json())] == ["receiving"]
        assert w.client.delete("/epcis/queries/all", headers=w.mill.h()).status_code == 204
        replaced = {"name": "all", "query": {"EQ_bizStep": ["shipping"]}}
        assert w.post(w.mill, "/epcis/queries", replaced).status_code == 201
        ev = obj_event(rice["uri"], 1, "inspecting", time="2025-03-03T08:00:00+07:00")
        assert w.post(w.mill, "/api/v1/events", ev).status_code == 201
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008 and "deleted or replaced" in closed.value.reason


XML = """<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:agri="https://ns.agritrace.vn/voc/"
    schemaVersion="2.0" creationDate="2025-03-05T00:00:00Z">
  <EPCISBody><EventList>
    <ObjectEvent>
      <eventTime>2025-03-02T08:00:00+07:00</eventTime><eventTimeZoneOffset>+07:00</eventTimeZoneOffset>
      <epcList/><action>OBSERVE</action><bizStep>inspecting</bizStep>
      <readPoint><id>urn:epc:id:sgln:893000.000001.0</id></readPoint>
      <quantityList><quantityElement><epcClass>{uri}</epcClass><quantity>3</quantity><uom>KGM</uom>
      </quantityElement></quantityList>
      <agri:moisture>14.5</agri:moisture>
    </ObjectEvent>
  </EventList></EPCISBody>
</epcis:EPCISDocument>"""


@pytest.mark.parametrize("path", ["/epcis/capture", "/api/v1/capture"])
def test_xml_capture_stores_the_same_event_hash(w: World, path: str) -> None:
    rice = setup_rice(w)
    xml = XML.format(uri=rice["uri"]).encode()
    r = w.client.post(path, content=xml, headers=w.coop.h() | {"Content-Type": "application/xml"})
    assert r.status_code in (201, 202), r.text
    if "Location" in r.headers:
        job = w.get(w.coop, r.headers["Location"]).json()
        assert job["success"], job["errors"]
    stored = q(w, EQ_bizStep="inspecting")
    assert len(stored) == 1 and stored[0]["agri:moisture"] == "14.5"
    assert stored[0]["eventID"] == hash_ids_of_xml_document(xml)[0]
    assert hash_ids_of_json_document(doc(stored))[0] == hash_ids_of_xml_document(xml)[0]
    bad = b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><epcis:EPCISDocument>&e;</epcis:EPCISDocument>"
    r = w.client.post(path, content=bad, headers=w.coop.h() | {"Content-Type": "application/xml"})
    assert r.status_code in (400, 422), r.text


@pytest.mark.parametrize("path", ["/epcis/capture", "/api/v1/capture"])
def test_xml_numbers_that_json_cannot_hold_are_refused(w: World, path: str) -> None:
    """xsd:double has NaN and INF, JSON has neither: an XML sensor value NaN was stored (SQLite) and
    every /epcis/events query that could read the event then failed to serialise it (500), for
    each organisation that may read it; other scripts' digits ('١') passed as numbers."""
    rice = setup_rice(w)
    for value, said in (("NaN", "not a finite number"), ("INF", "not a finite number"),
                        ("-INF", "not a finite number"), ("1e400", "not a finite number"),
                        ("١", "not a number"), ("9" * 5000, "not a number")):  # fmt: skip
        xml = XML.format(uri=rice["uri"]).replace(
            "<agri:moisture>14.5</agri:moisture>",
            '<sensorElementList><sensorElement><sensorMetadata time="2025-03-02T08:00:00+07:00"/>'
            f'<sensorReport type="gs1:Temperature" value="{value}" uom="CEL"/></sensorElement></sensorElementList>',
        )
        r = w.client.post(path, content=xml.encode(), headers=w.coop.h() | {"Content-Type": "application/xml"})
        assert r.status_code in (400, 422) and f"value {value[:40]!r}"[:20] in r.text and said in r.text, r.text
        assert len(r.text) < 600, r.text
    r = w.get(w.coop, "/epcis/events")
    assert r.status_code == 200 and [e["bizStep"] for e in events_of(r.json())] == ["commissioning"], r.text


def test_a_websocket_client_that_reads_too_slowly_is_closed_not_buffered_without_bound() -> None:
    """The dispatcher offers each matching document to an open WebSocket's queue; a client that
    does not read (its sends block) lets at most LISTENER_QUEUE documents wait, then is closed with
    1008 and told to reconnect, instead of every later document piling up in the server."""
    import asyncio

    from traceability_api.epcis_rest import notify
    from traceability_api.epcis_rest.notify import SLOW_CLIENT
    from traceability_api.epcis_rest.queries import _pump
    from traceability_api.parties.models import OrgKind, Role
    from traceability_api.parties.service import Principal

    class StuckClient:
        def __init__(self) -> None:
            self.sent = 0
            self.closed: tuple[int, str] | None = None

        async def receive(self) -> dict[str, Any]:
            await asyncio.Event().wait()  # never says anything
            return {}

        async def send_json(self, doc: dict[str, Any]) -> None:
            self.sent += 1
            await asyncio.sleep(0.05)  # a slow link

        async def close(self, code: int, reason: str) -> None:
            self.closed = (code, reason)

    async def scenario() -> tuple[StuckClient, int]:
        loop = asyncio.get_running_loop()
        li = notify.Listener(Principal(1, "a", Role.admin, 1, OrgKind.cooperative), {}, "q", 0, loop)
        client = StuckClient()
        pump = asyncio.ensure_future(_pump(client, li))  # type: ignore[arg-type]
        for i in range(notify.LISTENER_QUEUE * 3):  # the dispatcher thread, far faster than the link
            li.offer({"n": i})
        waiting = li.queue.qsize()
        await asyncio.wait_for(pump, timeout=10)
        return client, waiting

    client, waiting = asyncio.run(scenario())
    assert waiting <= notify.LISTENER_QUEUE
    assert client.closed == (1008, SLOW_CLIENT) and client.sent <= 2
