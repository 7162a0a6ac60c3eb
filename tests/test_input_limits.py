"""Hostile input: deep or huge JSON, out-of-range ids, NUL characters, odd headers must get a clear
4xx and never crash the process (issue 19, input part)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text as text_sql
from sqlmodel import Session

from chain.node import AnvilNode, free_port
from tests.conftest import REPO
from tests.world import CTX, World, gtin, lot_uri, make_world, obj_event, setup_rice
from traceability_api.events.models import Event
from traceability_api.runtime import Runtime


def _wait_health(url: str, proc: subprocess.Popen[bytes], deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not come up")


@pytest.fixture
def server(tmp_path: Path, database_url: str, anvil: AnvilNode) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The real service under uvicorn in its own process, web3 imported (external chain = anvil)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
    env |= {
        "AGRITRACE_DATA_DIR": str(tmp_path / "var"), "DATABASE_URL": database_url, "CHAIN_RPC_URL": anvil.url,
        "AGRITRACE_ANCHOR_PRIVATE_KEY": "0x" + "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "AGRITRACE_ANCHOR_WORKER": "false", "PYTHONPATH": str(REPO),
    }  # fmt: skip
    cmd = [sys.executable, "-m", "uvicorn", "traceability_api.asgi:app_factory", "--factory", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_health(url + "/healthz", proc)
        yield url, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_deeply_nested_body_is_refused_and_the_server_lives(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, proc = server
    body = b"[" * 70_000 + b"]" * 70_000
    r = httpx.post(url + "/api/v1/events", content=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 422, r.text
    assert "nested 70000 levels" in r.json()["detail"]
    r = httpx.post(url + "/api/v1/capture", content=b"{}" + b" " * (11 * 1024 * 1024), timeout=30)
    assert r.status_code == 413, r.text
    assert "exceeds the limit" in r.json()["detail"]
    assert httpx.get(url + "/healthz", timeout=10).status_code == 200
    assert proc.poll() is None


HUGE = "99999999999999999999"  # beyond 64 bits
BEYOND_PG = str(2**31)  # beyond PostgreSQL's integer ids: was a vague 422 there, a 404 on SQLite


@pytest.fixture
def w(runtime: Runtime, app_client: TestClient) -> World:
    return make_world(runtime, app_client)


@pytest.mark.parametrize("huge", [HUGE, BEYOND_PG], ids=["64-bit", "32-bit"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/places/{HUGE}", "/api/v1/events/{HUGE}", "/api/v1/lots/{HUGE}", "/api/v1/events/{HUGE}/proof",
        "/api/v1/trace/lots/{HUGE}", "/api/v1/trace/lots/{HUGE}/origins", "/api/v1/trace/places/{HUGE}/downstream",
        "/api/v1/places/{HUGE}/diary", "/api/v1/recalls/{HUGE}", "/api/v1/lots/{HUGE}/qr.svg",
        "/api/v1/events?nextPageToken={HUGE}", "/api/v1/lots?after_id={HUGE}", "/api/v1/lots?limit={HUGE}",
        "/api/v1/audit-log?after_id={HUGE}",
    ],
)  # fmt: skip
def test_ids_beyond_the_id_columns_are_a_clear_422(w: World, path: str, huge: str) -> None:
    """Every id column is a 32-bit integer on PostgreSQL: a larger id is refused by name, on both databases."""
    r = w.get(w.authority, path.replace("{HUGE}", huge))
    assert r.status_code == 422, r.text
    limit = "1000" if "limit=" in path else str(2**31 - 1)  # a page size has a bound of its own
    assert f"Input should be less than or equal to {limit}" in r.json()["detail"], r.text


def test_huge_ids_in_bodies_and_events_are_refused(w: World) -> None:
    rice = setup_rice(w)
    r = w.post(w.authority, "/api/v1/recalls", {"lot_ids": [int(HUGE)], "reason": "pesticide residue"})
    assert r.status_code == 422 and "lot_ids" in r.json()["detail"], r.text
    raw = json.dumps({"readings": []}).encode()
    r = w.client.post(f"/api/v1/devices/{HUGE}/readings", content=raw, headers={"X-Device-Signature": "00"})
    assert r.status_code == 422, r.text
    ev = obj_event(rice["uri"], None, "inspecting", readPoint={"id": f"urn:agritrace:place:{HUGE}"})
    r = w.post(w.coop, "/api/v1/events", ev)
    assert r.status_code == 422 and "not a registered place" in r.json()["detail"], r.text
    dest = [{"type": "possessing_party", "destination": f"urn:agritrace:party:{HUGE}"}]
    src = [{"type": "possessing_party", "source": w.coop.party}]
    shipped = obj_event(rice["uri"], 10, "shipping", sourceList=src, destinationList=dest)
    r = w.post(w.coop, "/api/v1/events", shipped)
    assert 400 <= r.status_code < 500, r.text
    r = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Ruộng", "parent_id": int(HUGE)})
    assert r.status_code == 422, r.text


def test_nul_characters_are_refused_everywhere(w: World) -> None:
    r = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Ruộng\x00 ông Tư"})
    assert r.status_code == 422 and "NUL" in r.json()["detail"], r.text
    r = w.post(w.coop, "/api/v1/products", {"gtin": gtin(1), "name": "Lúa\x00"})
    assert r.status_code == 422 and "NUL" in r.json()["detail"], r.text
    r = w.get(w.coop, "/api/v1/events", params={"EQ_bizStep": "ship\x00ping"})
    assert r.status_code == 422 and "NUL" in r.json()["detail"], r.text
    r = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Ruộng \\u0000 (text, not NUL)"})
    assert r.status_code == 201, r.text


def test_non_ascii_device_signature_is_401(w: World) -> None:
    plot = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Ruộng 7"}).json()["id"]
    dev = w.post(w.coop, "/api/v1/devices", {"name": "t-1", "kind": "temperature", "place_id": plot}).json()
    raw = json.dumps({"readings": []}).encode()
    headers = {"X-Device-Signature": "chữ ký".encode(), "Content-Type": "application/json"}
    r = w.client.post(f"/api/v1/devices/{dev['device']['id']}/readings", content=raw, headers=headers)
    assert r.status_code == 401 and "hex" in r.json()["detail"], r.text


def test_a_compressed_body_is_a_415_naming_the_coding_not_a_bad_signature(w: World) -> None:
    """A device maker gzipping batches for a cellular link (Content-Encoding: gzip) got '401 signature
    does not match' when signing the JSON, or '422 not acceptable JSON' when signing what it sent: the
    service reads bodies as sent. Now 415 with Accept-Encoding: identity (RFC 9110), here as on
    /api/v1 and the EPCIS binding; the batch's seq is not used up."""
    import gzip
    import hmac
    from datetime import timedelta
    from hashlib import sha256

    from traceability_api.timeutil import utcnow

    plot = w.post(w.coop, "/api/v1/places", {"kind": "plot", "name": "Ruộng 8"}).json()["id"]
    dev = w.post(w.coop, "/api/v1/devices", {"name": "t-1", "kind": "temperature", "place_id": plot}).json()
    raw = json.dumps({"seq": 1, "readings": [{"ts": (utcnow() - timedelta(minutes=1)).isoformat(), "value": 21}]})
    sig = hmac.new(dev["secret"].encode(), raw.encode(), sha256).hexdigest()
    url = f"/api/v1/devices/{dev['device']['id']}/readings"
    gz = {"X-Device-Signature": sig, "Content-Type": "application/json", "Content-Encoding": "gzip"}
    r = w.client.post(url, content=gzip.compress(raw.encode()), headers=gz)
    assert r.status_code == 415 and r.headers["Accept-Encoding"] == "identity", r.text
    assert "'gzip' is not accepted" in r.json()["detail"]
    r = w.client.post("/epcis/capture", content=gzip.compress(b"{}"), headers=w.coop.h() | {"Content-Encoding": "br"})
    assert r.status_code == 415 and r.json()["type"] == "epcisException:UnsupportedMediaTypeException", r.text
    plain = w.client.post(url, content=raw.encode(), headers=gz | {"Content-Encoding": "identity"})
    assert plain.status_code == 200 and plain.json()["accepted"] == 1, plain.text


@pytest.mark.parametrize("code", ["L" * 100, "<script>alert(1)</script>"])
def test_lot_code_rule_holds_for_epcis_commissioning(w: World, code: str) -> None:
    setup_rice(w)
    before = w.get(w.coop, "/api/v1/lots").json()
    ev = obj_event(lot_uri(gtin(1), code), 50, "commissioning", action="ADD")
    doc = {"@context": CTX, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2025-03-01T08:00:00Z",
           "epcisBody": {"eventList": [ev]}}  # fmt: skip
    r = w.post(w.coop, "/api/v1/capture", doc, role="recorder")
    assert r.status_code == 422 and "lot code" in r.json()["detail"], r.text
    assert w.get(w.coop, "/api/v1/lots").json() == before


def _deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"agri:n": value}
    return value


def test_deep_extension_is_refused_at_capture(w: World) -> None:
    rice = setup_rice(w)
    for levels in (30, 900):
        ev = obj_event(rice["uri"], None, "inspecting", **{"agri:note": _deep(levels)})
        r = w.post(w.coop, "/api/v1/events", ev)
        assert r.status_code == 422 and "levels" in r.json()["detail"], r.text


@pytest.mark.parametrize("levels", [900, 5000])
def test_readers_survive_a_deep_event_already_stored(w: World, runtime: Runtime, levels: int) -> None:
    rice = setup_rice(w)
    ev = obj_event(rice["uri"], None, "inspecting", **{"agri:note": "x"})
    event_id = w.post(w.coop, "/api/v1/events", ev).json()["id"]
    with Session(runtime.engine) as s:  # stored before the limits existed, or written behind the service's back
        row = s.get(Event, event_id)
        assert row is not None
        deep = '{"agri:n":' * levels + '"bottom"' + "}" * levels
        text = json.dumps(row.document)[:-1] + ', "agri:note": ' + deep + "}"
        s.execute(text_sql("UPDATE event SET document = :d WHERE id = :i"), {"d": text, "i": event_id})
        s.commit()
    g, lot = rice["gtin"], rice["lot"]["lot_code"]
    for org, path in [
        (w.coop, f"/api/v1/proofs/lots/{g}/{lot}"), (w.coop, f"/api/v1/proofs/lots/{g}/{lot}/status"),
        (w.coop, "/api/v1/events"), (w.coop, f"/api/v1/events/{event_id}"), (w.authority, "/api/v1/exports/epcis"),
        (w.authority, "/api/v1/exports/events.csv"), (w.coop, f"/01/{g}/10/{lot}"),
        (w.coop, f"/api/v1/events/{event_id}/proof"), (w.coop, f"/api/v1/places/{rice['plot_id']}/diary"),
    ]:  # fmt: skip
        r = w.get(org, path)
        assert r.status_code < 500, (path, r.status_code, r.text[:300])


def test_mqtt_payload_is_bounded_before_parsing(runtime: Runtime) -> None:
    from traceability_api.evidence.mqtt import MqttIngest

    ingest = MqttIngest(runtime.engine, runtime.settings.model_copy(update={"mqtt_url": "mqtt://127.0.0.1:1883"}))
    out = ingest.handle("agritrace/sensors/1/readings", b"[" * 70_000 + b"]" * 70_000)
    assert "error" in out


def test_oversized_uploads_are_413_before_being_read(w: World) -> None:
    limit = 10 * 1024 * 1024 + 64 * 1024  # the attachment limit plus multipart overhead
    big = b"\xff\xd8\xff" + b"0" * limit
    r = w.client.post("/api/v1/attachments", files={"file": ("a.jpg", big, "image/jpeg")}, headers=w.coop.h())
    assert r.status_code == 413 and "exceeds the limit" in r.json()["detail"], r.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n\xff\xd8\xff'
        for _ in range(11):
            yield b"0" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    headers = w.coop.h() | {"Content-Type": "multipart/form-data; boundary=b"}
    r = w.client.post("/api/v1/attachments", content=chunks(), headers=headers)
    assert r.status_code == 413 and "exceeds the limit" in r.json()["detail"], r.text
    r = w.client.post("/api/v1/events", content=b"[" + b"1," * (6 * 1024 * 1024) + b"1]", headers=w.coop.h())
    assert r.status_code == 413, r.text


def test_nan_and_infinity_are_not_json(w: World) -> None:
    rice = setup_rice(w)
    raw = json.dumps(obj_event(rice["uri"], None, "inspecting", **{"agri:reading": float("nan")}))
    assert "NaN" in raw
    r = w.client.post("/api/v1/events", content=raw.encode(), headers=w.coop.h() | {"Content-Type": "application/json"})
    assert r.status_code == 422 and "NaN" in r.json()["detail"], r.text
    ok = json.dumps(obj_event(rice["uri"], None, "inspecting", **{"agri:note": "NaN and Infinity as text"}))
    r = w.client.post("/api/v1/events", content=ok.encode(), headers=w.coop.h() | {"Content-Type": "application/json"})
    assert r.status_code == 201, r.text


@pytest.mark.sqlite_only
def test_cli_verify_refuses_a_deeply_nested_bundle(tmp_path: Path, anvil: AnvilNode) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(b"[" * 70_000 + b"]" * 70_000)
    cmd = [sys.executable, "-m", "traceability_api.cli", "verify", str(path), "--rpc", anvil.url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "nested 70000 levels" in r.stdout + r.stderr


@pytest.mark.sqlite_only
def test_cli_verify_refuses_a_bundle_too_large_before_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``agritrace verify`` read the whole file before its size was checked: a file of many
    gigabytes (or /dev/zero, which never ends) ran the machine out of memory.  A regular file is
    now refused by its size, anything else read no further than the limit."""
    from typer.testing import CliRunner

    from traceability_api.cli import app, verify_cmd

    monkeypatch.setattr(verify_cmd, "MAX_BUNDLE_BYTES", 1000, raising=False)
    big = tmp_path / "bundle.json"
    with big.open("wb") as fh:
        fh.truncate(5000)  # sparse: nothing to read but zeros
    refusals = [(big, f"bundle {big} is 5,000 bytes, larger than a bundle may be (1,000 bytes)"),
                (Path("/dev/zero"), "bundle /dev/zero is larger than a bundle may be (1,000 bytes)")]  # fmt: skip
    for path, said in refusals:
        r = CliRunner().invoke(app, ["verify", str(path), "--rpc", "http://127.0.0.1:9"])
        assert r.exit_code == 2 and said in r.output, (r.exit_code, r.output)


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "value", [{"a": 'x\\"[[[['}, {"a": ['"]]]]]]', [[1]]]}, ["\\", "[", {"b": '\\\\"{'}], [[[[]]]], "]]]", 5, {}]
)
def test_depth_scan_agrees_with_the_parsed_value(value: Any) -> None:
    from traceability_api.limits import json_depth, value_depth

    assert json_depth(json.dumps(value).encode()) == value_depth(value)


def test_nul_characters_in_workspace_forms_are_refused_on_a_page(runtime: Runtime, app_client: TestClient) -> None:
    """A form field holding NUL (form-encoded %00, or a multipart text part) is refused before any
    screen reads it: SQLite would store it and PostgreSQL refuse it (a JSON answer to a person); both
    now answer the workspace's page in the member's language, 422, and nothing is saved."""
    from sqlmodel import select

    from tests.conftest import auth
    from tests.workspace_helpers import csrf_of, member_client
    from traceability_api.registries.models import Certificate

    c = app_client
    _, key = member_client(c, runtime, "HTX Ký Tự", "admin-nul")
    plot = c.post("/api/v1/places", headers=auth(key), json={"kind": "plot", "name": "Ruộng"}).json()["id"]
    form = {"csrf": csrf_of(c.get("/app/products").text), "scheme": "vietgap", "number": "VG\x00-1",
            "issuer": "Trung tâm", "valid_from": "2025-01-01", "valid_until": "2027-01-01",
            "place_ids": str(plot)}  # fmt: skip
    for files in (None, {"document": ("", b"", "application/octet-stream")}):  # form-encoded, then multipart
        r = c.post("/app/certificates", data=form, files=files, follow_redirects=False)
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html"), (r.status_code, r.text)
        assert "dữ liệu gửi lên không hợp lệ" in r.text
    r = c.post("/app/grants", data={"csrf": form["csrf"], "lot_id": "1", "grantee_org_id": "1", "until": "x\x00"})
    assert r.status_code == 422 and "dữ liệu gửi lên không hợp lệ" in r.text
    with Session(runtime.engine) as s:
        assert s.exec(select(Certificate)).all() == []
    assert c.post("/app/certificates", data=form | {"number": "VG-1"}, follow_redirects=False).status_code == 303
