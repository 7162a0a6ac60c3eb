"""What an attacker or a careless client sends to the newer surfaces (FSMA 204, registries, console,
workspace uploads, sensors): each reproducer went through the real HTTP path and got a 500, a hang
or another organisation's data before its fix; each now gets a clear 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.test_mqtt import service  # noqa: F401 - the broker fixture
from tests.world import World, gtin, make_world, setup_rice
from traceability_api.parties.kinds import Role
from traceability_api.runtime import Runtime


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> Iterator[World]:
    yield make_world(runtime, app_client)


# A time that exists in its own zone but not in UTC: year 0 or year 10000 once converted
BEFORE_YEAR_1 = "0001-01-01T00:00:00+14:00"
AFTER_YEAR_9999 = "9999-12-31T23:59:59-14:00"


@pytest.mark.parametrize("bound", [BEFORE_YEAR_1, AFTER_YEAR_9999])
def test_times_outside_utc_years_in_query_parameters_are_422_not_500(w: World, bound: str) -> None:
    g = setup_rice(w)["gtin"]
    urls = [
        ("/api/v1/fsma/spreadsheet.csv", {"gtin": g, "since": bound}),
        ("/api/v1/fsma/spreadsheet.xlsx", {"gtin": g, "until": bound}),
        ("/api/v1/fsma/kde-check", {"since": bound}),
        ("/api/v1/events", {"GE_eventTime": bound}),
        ("/epcis/events", {"LT_eventTime": bound}),
        ("/api/v1/exports/events.csv", {"since": bound}),
    ]
    for path, params in urls:
        r = w.client.get(path, params=params, headers=w.coop.h())
        epcis = path.startswith("/epcis")  # the binding's bad query values: 400 QueryParameterException
        assert r.status_code == (400 if epcis else 422), (path, r.status_code, r.text[:200])
        assert "years 1 and 9999" in r.json()["detail"], (path, r.text[:200])
        assert not epcis or r.json()["type"] == "epcisException:QueryParameterException", r.text


def test_control_characters_in_names_do_not_break_xlsx_exports(w: World) -> None:
    """A product named with an escape character (pasted from a terminal) made every XLSX of it a 500:
    openpyxl refuses C0 controls; the cell now shows U+FFFD and the formula guard still holds."""
    from io import BytesIO

    from openpyxl import load_workbook

    g = gtin(77)
    r = w.post(w.coop, "/api/v1/products", {"gtin": g, "name": '=HYPERLINK("http://x")\x1b\x01\uffff', "unit": "KGM"})
    assert r.status_code == 201, r.text
    place = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Ruộng\x07", "planting_area_code": "CT-X-1"})
    assert place.status_code == 201, place.text
    lot = {"gtin": g, "lot_code": "C1", "quantity": 5, "plot_id": place.json()["id"], "harvest_date": "2025-02-28",
           "variety": "ST25\x0b", "event_time": "2025-02-28T17:00:00+07:00"}  # fmt: skip
    assert w.post(w.coop, "/api/v1/lots", lot).status_code == 201
    r = w.client.get("/api/v1/fsma/spreadsheet.xlsx", params={"gtin": g}, headers=w.coop.h())
    assert r.status_code == 200, r.text[:200]
    ws = load_workbook(BytesIO(r.content)).worksheets[0]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    named = [c.value for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert named and all(v.startswith('=HYPERLINK("http://x")\ufffd\ufffd\ufffd') for v in named), named
    assert any(c.value == "Ruộng\ufffd" or "Ruong\ufffd" in str(c.value) for c in cells)
    assert all(c.data_type != "f" for c in cells)


SUPERSCRIPT_TWO = "²"  # str.isdigit() says yes, int() says no


def test_a_quantity_beyond_a_floats_range_is_the_quantitys_error(w: World) -> None:
    """A JSON integer of 400 digits as a quantity: float() raised OverflowError before the range
    check, and every capture path answered the generic 'a value cannot be stored' 422 (on /epcis,
    not even a problem document) instead of naming the quantity."""
    from tests.world import obj_event

    rice = setup_rice(w)
    for q in (10**400, -(10**400)):
        event = obj_event(rice["uri"], q, "inspecting")
        r = w.post(w.coop, "/api/v1/events", event)
        detail = r.json()["detail"]
        assert r.status_code == 422 and detail.startswith("quantityList[0]: quantity "), r.text
        assert "characters) out of range (must be > 0" in detail and len(detail) < 200, r.text
        r = w.post(w.coop, "/epcis/events", event)
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", r.text
        assert "out of range (must be > 0" in r.json()["detail"], r.text


def test_unicode_digits_in_ids_are_refused_not_500(runtime: Runtime, app_client: TestClient) -> None:
    """'²' passed every ``text.isdigit()`` id check and then broke ``int(text)``: a 500 on the EPCIS
    capture-job URL, the console's key forms and code pages, and the workspace's diary, activity and
    shipping forms.  Each now reads ids with ``validation.db_id_of`` (ASCII digits, 64 bits) and
    answers the page with the field's error (or the API's 404)."""
    from tests.workspace_helpers import csrf_of, member_client
    from traceability_api.parties.kinds import OrgKind

    c = app_client
    _, key = member_client(c, runtime, "HTX Hai", "htx-hai")
    job = c.get(f"/epcis/capture/{SUPERSCRIPT_TWO}", headers={"Authorization": f"Bearer {key}"})
    assert job.status_code == 404, job.text
    forms = [("/app/diary", {"plot_id": SUPERSCRIPT_TWO, "activity": "irrigating", "time": "2025-03-01T07:00"}),
             ("/app/activities", {"place_id": SUPERSCRIPT_TWO, "activity": "feeding", "time": "2025-03-01T07:00"}),
             ("/app/ship", {"lot_id": SUPERSCRIPT_TWO, "partner": SUPERSCRIPT_TWO})]  # fmt: skip
    for path, form in forms:
        r = c.post(path, data={"csrf": csrf_of(c.get(path).text)} | form)
        assert r.status_code == 422 and "text/html" in r.headers["content-type"], (path, r.status_code, r.text[:200])
    c.cookies.clear()
    member_client(c, runtime, "Chi cục Hai", "chicuc-hai", OrgKind.authority)
    codes = c.get(f"/app/console/codes?page={SUPERSCRIPT_TWO}")
    assert codes.status_code == 200, codes.text[:200]
    for path, form in (("/app/console/keys/custodial", {"org_id": SUPERSCRIPT_TWO}),
                       ("/app/console/keys", {"org_id": SUPERSCRIPT_TWO, "address": "0x" + "1" * 40,
                                              "valid_from": "2026-01-01", "valid_until": "2027-01-01"}),
                       ("/app/console/keys/custodial", {"org_id": "9" * 30})):  # fmt: skip
        r = c.post(path, data={"csrf": csrf_of(c.get("/app/console/keys").text)} | form)
        assert r.status_code == 422 and "text/html" in r.headers["content-type"], (path, r.status_code, r.text[:200])


def test_a_gtin_in_other_scripts_digits_is_refused(w: World) -> None:
    """Regular expressions' ``\\d`` takes Arabic-Indic digits: a product was registered with GTIN
    "٠٨٩٣٠٠٠٠٠٠٠٠١9" (its check digit right), a lot of it harvested, and its label sheet answered
    500.  A GTIN is ASCII digits: 422."""
    arabic = "\u0660\u0668\u0669\u0663\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u06619"
    r = w.post(w.coop, "/api/v1/products", {"gtin": arabic, "name": "Xoài", "unit": "KGM"})
    assert r.status_code == 422 and "digits" in r.text, r.text
    assert w.post(w.coop, "/api/v1/products", {"gtin": gtin(7), "name": "Xoài", "unit": "KGM"}).status_code == 201


def test_a_gln_in_other_scripts_digits_is_refused(w: World) -> None:
    """The GLN check was ``\\d{13}``, which takes Arabic-Indic digits: an organisation (or a place)
    was registered with GLN "٨٩٣٠٠٠٠٠٠٠٠١9" (check digit right), a party URI no partner could
    name in ASCII.  A GLN is 13 ASCII digits: 422."""
    arabic = "\u0668\u0669\u0663\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u06619"
    body = {"name": "HTX Ả Rập", "kind": "cooperative", "admin_name": "Admin", "gln": arabic}
    r = w.post(w.authority, "/api/v1/organisations", body)
    assert r.status_code == 422 and "GLN must be 13 digits" in r.text, r.text
    r = w.post(w.coop, "/api/v1/places", {"kind": "warehouse", "name": "Kho", "gln": arabic})
    assert r.status_code == 422 and "GLN must be 13 digits" in r.text, r.text
    assert w.post(w.authority, "/api/v1/organisations", body | {"gln": "8930000000019"}).status_code == 201


def test_a_place_code_ending_in_a_newline_is_refused(w: World) -> None:
    """Place codes (planting area code, internal id, GLN extension...) were checked with ``match``
    and a pattern ending in ``$``, which matches before a final newline: "CT-TP-001\\n" was stored
    and printed.  Now the whole value must be the code: 422."""
    for field in ("planting_area_code", "internal_id"):
        r = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Thửa", field: "CT-TP-001\n"})
        assert r.status_code == 422 and "may hold 1-40 letters" in r.text, (field, r.text)
    r = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Thửa", "planting_area_code": "CT-TP-001"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "epc",
    [
        "urn:epc:class:lgtin:\u00b2\u00b2\u00b2\u00b2\u00b2\u00b2\u00b2.0.L1",  # superscripts pass isdigit
        "urn:epc:id:sgtin:\u00b2\u00b2\u00b2\u00b2\u00b2\u00b2\u00b2.012345.1",
        "urn:epc:id:sgtin:0614141.A12345.1",  # a letter in the item reference
        "urn:epc:id:sscc:0614141.X234567890",
    ],
)
def test_an_epc_urn_with_non_digits_in_its_numbers_is_not_a_500(w: World, epc: str) -> None:
    """``int`` refused the number fields of these EPC URNs while their check digit was computed: a
    capture naming one answered 500.  Such a URN is not a GS1 identifier the service converts: it is
    kept as written, as an EPC URN with letters in its company prefix always was."""
    setup_rice(w)

    def capture(uri: str) -> int:
        ev = {"type": "ObjectEvent", "eventTime": "2025-03-01T08:00:00+07:00", "eventTimeZoneOffset": "+07:00",
              "action": "OBSERVE", "bizStep": "inspecting", "epcList": [uri]}  # fmt: skip
        r = w.post(w.coop, "/api/v1/events", ev)
        assert r.status_code < 500, r.text
        return int(r.status_code)

    assert capture(epc) == capture("urn:epc:id:sgtin:abcdefg.012345.1") == 201


@pytest.mark.parametrize("bad", ['"nan"', '"-inf"', '"Infinity"', "1e309"])
def test_thresholds_must_be_finite_numbers(w: World, bad: str) -> None:
    """A device or place threshold of "nan" (a string pydantic reads as a float) or 1e309 (a JSON
    number that overflows to inf) was stored (SQLite keeps NaN as NULL, PostgreSQL as NaN): an alert
    the client asked for that no reading could ever raise.  Now a 422 naming the field."""
    from tests.test_evidence import plot

    place = plot(w)
    h = w.coop.h() | {"Content-Type": "application/json"}
    body = f'{{"name": "t-1", "kind": "temperature", "place_id": {place}, "threshold_high": {bad}}}'
    dev = w.client.post("/api/v1/devices", content=body, headers=h)
    assert dev.status_code == 422 and "threshold_high" in dev.json()["detail"], dev.text
    path = f"/api/v1/places/{place}/thresholds"
    th = w.client.put(path, content=f'{{"kind": "temperature", "low": {bad}}}', headers=h)
    assert th.status_code == 422 and "low" in th.json()["detail"], th.text
    ok = w.client.put(path, json={"kind": "temperature", "low": -5.5}, headers=w.coop.h())
    assert ok.status_code == 200 and ok.json()["low"] == -5.5, ok.text


def test_diary_times_outside_utc_years_are_the_time_fields_error(w: World, runtime: Runtime) -> None:
    """0001-01-01T00:00+14:00 is year 0 in UTC: the diary (API, workspace form and
    spreadsheet import) answered the generic out-of-range JSON body, the workspace form in English
    and not next to its field, and one such row refused the whole import.  Capture's time check now
    says 'implausibly old' / 'in the future', which the workspace shows at the time field."""
    from io import BytesIO

    from openpyxl import Workbook

    from tests.test_evidence import plot
    from tests.workspace_helpers import accept, csrf_of
    from traceability_api.workspace.invites import create_invite

    place = plot(w)
    for t, said in ((BEFORE_YEAR_1, "implausibly old"), (AFTER_YEAR_9999, "in the future")):
        r = w.post(w.coop, f"/api/v1/places/{place}/diary", {"activity": "irrigating", "time": t})
        assert r.status_code == 422 and said in r.json()["detail"], (t, r.text)
    with Session(runtime.engine) as s:
        token = create_invite(s, runtime.settings, w.coop.id, "Tư", Role.recorder, None)
        s.commit()
    c = w.client
    accept(c, token, "tu-recorder")
    form = {"plot_id": str(place), "activity": "irrigating", "time": BEFORE_YEAR_1}
    r = c.post("/app/diary", data={"csrf": csrf_of(c.get("/app/diary").text)} | form)
    assert r.status_code == 422 and "text/html" in r.headers["content-type"], r.text[:300]
    assert "Thời gian không hợp lệ (trước ngày tạo lô hoặc ở tương lai)." in r.text, r.text[r.text.find("<main") :]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Nhật ký"
    ws.append(["plot", "activity", "time"])
    code = w.get(w.coop, f"/api/v1/places/{place}").json()["planting_area_code"]
    ws.append([code, "Tưới nước", BEFORE_YEAR_1])
    ws.append([code, "Tưới nước", "2025-03-01T07:00"])
    buf = BytesIO()
    wb.save(buf)
    r = c.post("/api/v1/diary/import?mode=valid", files={"file": ("d.xlsx", buf.getvalue())}, headers=w.coop.h())
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert r.json()["stored"] == 1 and rows[0]["ok"] is False and "time" in rows[0]["errors"], rows


def test_a_sheet_declaring_a_million_blank_rows_is_refused_unscanned(w: World) -> None:
    """A 5 KB XLSX whose sheet declares A1:XFD1048576 and holds one cell in its last row made openpyxl
    yield 1,048,575 rows; the import read them all (seconds of CPU per upload, ~10 s for a 150 KB
    file of present blank rows) and then stored both filled rows.  Rows read are now bounded
    (blank or not): 413 'too many rows' before the millionth."""
    import io
    import re
    import zipfile

    from openpyxl import Workbook

    r = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Ruộng", "planting_area_code": "CT-TP-001"})
    assert r.status_code == 201, r.text
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Nhật ký"
    ws.append(["Lô đất", "Công việc", "Thời gian"])
    ws.append(["CT-TP-001", "Tưới nước", "2025-11-26T06:30"])
    plain = io.BytesIO()
    wb.save(plain)
    far = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>CT-TP-001</t></is></c></row></sheetData>'
    evil = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as src, zipfile.ZipFile(evil, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            xml = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', xml.decode())
                xml = text.replace("</sheetData>", far).encode()
            dst.writestr(info.filename, xml)
    assert len(evil.getvalue()) < 10_000
    r = w.client.post("/api/v1/diary/import", params={"mode": "valid"}, headers=w.coop.h(),
                      files={"file": ("nk.xlsx", evil.getvalue())})  # fmt: skip
    assert r.status_code == 413 and r.json()["detail"] == "Bảng có quá nhiều dòng.", r.text[:300]
    ok = w.client.post("/api/v1/diary/import", params={"mode": "valid"}, headers=w.coop.h(),
                       files={"file": ("nk.xlsx", plain.getvalue())})  # fmt: skip
    assert ok.status_code == 200 and ok.json()["stored"] == 1, ok.text


def test_console_national_record_day_before_utc_year_1_is_the_forms_error(
    runtime: Runtime, app_client: TestClient
) -> None:
    """/app/console/national-record?since=0001-01-01: midnight in Vietnam is year 0 in UTC, a 500
    when the figures were queried; now the page's own 'invalid date' refusal (422, Vietnamese)."""
    from tests.workspace_helpers import member_client
    from traceability_api.parties.kinds import OrgKind

    member_client(app_client, runtime, "Chi cục Ba", "chicuc-ba", OrgKind.authority)
    r = app_client.get("/app/console/national-record", params={"since": "0001-01-01", "until": "9999-12-31"})
    assert r.status_code == 422 and "Ngày không hợp lệ: dùng dạng năm-tháng-ngày." in r.text, r.text[:300]
    ok = app_client.get("/app/console/national-record", params={"since": "0001-01-02", "until": "9999-12-31"})
    assert ok.status_code == 200, ok.text[:300]


def test_a_too_large_photo_on_a_workspace_form_gets_a_page_not_json(runtime: Runtime) -> None:
    """A phone photo over AGRITRACE_ATTACHMENT_MAX_BYTES on the diary form: the body limit answered
    the browser with a JSON 413 in English; it now answers a page in the person's language saying
    the largest size.  API clients keep the JSON refusal."""
    from traceability_api.main import create_app

    runtime.settings.attachment_max_bytes = 2 * 2**20
    with TestClient(create_app(runtime)) as c:
        photo = b"\xff\xd8\xff" + b"0" * (3 * 2**20)
        r = c.post("/app/diary", files={"photo": ("p.jpg", photo, "image/jpeg")}, headers={"Accept": "text/html"})
        assert r.status_code == 413 and "text/html" in r.headers["content-type"], r.text[:200]
        assert "Tệp gửi lên quá lớn (tối đa 2 MB)" in r.text, r.text[r.text.find("<main") :][:500]
        c.cookies.set("agt_lang", "en", path="/app")
        r = c.post("/app/diary", files={"photo": ("p.jpg", photo, "image/jpeg")}, headers={"Accept": "text/html"})
        assert r.status_code == 413 and "The file sent is too large (at most 2 MB)" in r.text
        api = c.post("/api/v1/attachments", files={"file": ("p.jpg", photo, "image/jpeg")})
        assert api.status_code == 413 and "exceeds the limit" in api.json()["detail"]


def test_a_return_address_with_cr_lf_redirects_home_over_real_http(served: str) -> None:
    """/app/lang?next=/app%0d%0aX-Evil:1 (and the sign-in form's next): the CR LF reached the
    Location header, which uvicorn refuses after the answer had started (a broken response, a
    500 in the log); a return address must now be printable ASCII, else it is /app."""
    import httpx

    for bad in ("/app\r\nX-Evil: 1", "/app\tx", "/app/é"):
        r = httpx.get(served + "/app/lang", params={"to": "en", "next": bad}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/app" and "x-evil" not in r.headers, r.headers
    ok = httpx.get(served + "/app/lang", params={"to": "en", "next": "/app/lots/1?x=%C3%A9"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/app/lots/1?x=%C3%A9"


def test_an_unknown_username_locks_like_a_real_one(runtime: Runtime, app_client: TestClient) -> None:
    """Five wrong passwords locked an existing username ('Tạm khóa ...') but never an unknown one:
    anyone could tell which usernames exist.  Both now get the same answers, try after try."""
    from tests.workspace_helpers import member_client, sign_in

    member_client(app_client, runtime, "HTX Bốn", "real.four")
    app_client.cookies.clear()
    tries = runtime.settings.workspace_lockout_failures + 1
    answers = {}
    for name in ("real.four", "ghost.four"):
        pages = [sign_in(app_client, name, "wrong-password", expect=401) for _ in range(tries)]
        answers[name] = ["Tạm khóa" in p for p in pages]
        assert all(("Tạm khóa" in p) != ("Sai tên đăng nhập" in p) for p in pages)
    assert answers["real.four"] == answers["ghost.four"] == [False] * (tries - 2) + [True, True], answers


def test_an_unknown_usernames_failures_are_counted_for_every_worker(runtime: Runtime, app_client: TestClient) -> None:
    """The failures of a username nobody has were counted in the process that saw them: with two
    workers (or after a restart) an unknown name locked later than a real one, which told them
    apart.  They are counted in the database, as a member's are, and another app on the same
    database answers 'locked' at the same try."""
    from tests.workspace_helpers import sign_in
    from traceability_api.main import create_app
    from traceability_api.workspace.models import SignInFailure

    app_client.cookies.clear()
    for _ in range(runtime.settings.workspace_lockout_failures - 1):
        assert "Tạm khóa" not in sign_in(app_client, "ghost.worker", "wrong-password", expect=401)
    with Session(runtime.engine) as s:
        (row,) = s.exec(select(SignInFailure)).all()
    assert row.failed_count == runtime.settings.workspace_lockout_failures - 1 and row.locked_until is None
    assert row.name_hash != "ghost.worker"  # what strangers type is not kept
    with TestClient(create_app(runtime)) as second_worker:
        assert "Tạm khóa" in sign_in(second_worker, "ghost.worker", "wrong-password", expect=401)
    assert "Tạm khóa" in sign_in(app_client, "ghost.worker", "wrong-password", expect=401)


def test_unknown_usernames_kept_are_bounded(
    runtime: Runtime, app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random names must not grow the table without end: past UNKNOWN_NAMES_KEPT the least
    recently tried are forgotten (a name tried again is kept)."""
    from tests.workspace_helpers import sign_in
    from traceability_api.workspace import auth
    from traceability_api.workspace.models import SignInFailure

    monkeypatch.setattr(auth, "UNKNOWN_NAMES_KEPT", 3)
    app_client.cookies.clear()
    for name in ("ghost.a", "ghost.b", "ghost.c", "ghost.a", "ghost.d", "ghost.e"):
        sign_in(app_client, name, "wrong-password", expect=401)
    with Session(runtime.engine) as s:
        kept = {r.name_hash: r.failed_count for r in s.exec(select(SignInFailure)).all()}
    digest = {n: auth.hashlib.sha256(n.encode()).hexdigest() for n in ("ghost.a", "ghost.d", "ghost.e")}
    assert kept == {digest["ghost.a"]: 2, digest["ghost.d"]: 1, digest["ghost.e"]: 1}, kept


def test_an_organisations_open_websockets_are_bounded(w: World, runtime: Runtime) -> None:
    """Any API key could open EPCIS WebSockets without limit, each one more query per poll of the
    dispatcher (300 idle sockets of one key more than doubled the server's CPU; a few thousand pin a
    core).  Past AGRITRACE_EPCIS_STREAMS_PER_ORG the handshake is answered 429 with its reason;
    other organisations and later sockets are not affected."""
    from contextlib import ExitStack

    from starlette.testclient import WebSocketDenialResponse

    runtime.settings.epcis_streams_per_org = 2
    for org in (w.coop, w.mill):
        assert w.post(org, "/epcis/queries", {"name": "all", "query": {}}).status_code == 201
    url = "/epcis/queries/all/events"
    with ExitStack() as open_sockets:
        for _ in range(2):
            open_sockets.enter_context(w.client.websocket_connect(url, headers=w.coop.h()))
        with pytest.raises(WebSocketDenialResponse) as refused:
            with w.client.websocket_connect(url, headers=w.coop.h()) as ws:
                ws.receive_json()
        denied = refused.value
        assert denied.status_code == 429 and "at most 2 open WebSockets" in denied.json()["detail"]
        with w.client.websocket_connect(url, headers=w.mill.h()):
            pass  # another organisation's first socket
    with w.client.websocket_connect(url, headers=w.coop.h()):
        pass  # closed sockets no longer count


def test_mqtt_refusals_name_what_is_wrong_in_mqtt_terms(request: pytest.FixtureRequest) -> None:
    """Over the real broker: a topic whose device id is '²' was answered 'payload is not a JSON
    object ...: ValueError' (int() failed on the topic, not the payload), and a batch whose "sig" is
    a number 'missing X-Device-Signature', a header an MQTT device cannot send.  Now 'bad topic' and
    a signature message naming the "sig" field."""
    from tests.test_mqtt import batch, new_device

    w, _, bus = request.getfixturevalue("service")  # test_mqtt's broker fixture, imported above
    dev, secret = new_device(w)
    bus.publish(SUPERSCRIPT_TWO, json.dumps(batch(secret, 1, [25.0])))
    assert "bad topic" in bus.answer()["error"]
    bus.publish(dev, json.dumps(batch(secret, 2, [25.0]) | {"sig": 5}))
    answer = bus.answer()["error"]
    assert answer.startswith("missing signature") and '"sig"' in answer, answer
