"""Data separation: who may read what across organisations (attachments, revoked keys), custody
writes serialised on both databases, and the SQLite file kept private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from chain.node import free_port
from tests.conftest import REPO, auth
from tests.images import picture
from tests.world import CTX, Org, make_org, make_world, obj_event, receive, setup_rice, ship
from traceability_api.compose import build_runtime
from traceability_api.config import Settings
from traceability_api.lots.models import Lot
from traceability_api.parties.models import Member
from traceability_api.runtime import Runtime


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.sqlite_only
def test_sqlite_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: without care, files come out 0644
    try:
        rt = build_runtime(Settings(data_dir=tmp_path / "var", chain_enabled=False))
        with Session(rt.engine) as s:
            make_org(s, "HTX Mỹ Xuyên", "cooperative", ("recorder",))
            s.commit()
            db = tmp_path / "var" / "agritrace.db"
            files = [db, db.with_name("agritrace.db-wal"), db.with_name("agritrace.db-shm")]
            assert all(f.exists() for f in files)  # WAL mode, connection still open
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        rt.close()
        # a database created 0644 by an earlier version is tightened on start
        db.chmod(0o644)
        build_runtime(Settings(data_dir=tmp_path / "var", chain_enabled=False)).close()
        assert _mode(db) == 0o600
    finally:
        os.umask(old)


@contextmanager
def second_worker(settings: Settings, tmp: Path) -> Iterator[str]:
    """Another API worker process (uvicorn) on the same database, as in a multi-worker deployment."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
    env |= {"DATABASE_URL": settings.effective_database_url, "AGRITRACE_CHAIN_ENABLED": "false",
            "AGRITRACE_DATA_DIR": str(tmp / "worker2"), "PYTHONPATH": str(REPO)}  # fmt: skip
    cmd = [sys.executable, "-m", "uvicorn", "traceability_api.asgi:app_factory", "--factory", "--port", str(port),
           "--log-level", "warning", "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else "worker exited"
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the second worker did not come up"
                time.sleep(0.2)  # poll with a deadline: the process gives no other signal
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_revoked_key_is_refused_at_once_by_every_worker(
    settings: Settings, runtime: Runtime, app_client: TestClient, tmp_path: Path
) -> None:
    w = make_world(runtime, app_client)
    r = w.post(w.coop, "/api/v1/members", {"name": "Chị Ba", "role": "recorder"})
    assert r.status_code == 201, r.text
    key, member_id = r.json()["api_key"], r.json()["member"]["id"]
    with second_worker(settings, tmp_path) as other:
        assert httpx.get(other + "/api/v1/lots", headers=auth(key)).status_code == 200  # worker 2 has seen the key
        assert app_client.get("/api/v1/lots", headers=auth(key)).status_code == 200
        revoked = app_client.delete(f"/api/v1/members/{member_id}/keys", headers=w.coop.h())
        assert revoked.status_code == 200, revoked.text
        for answer in (
            httpx.get(other + "/api/v1/lots", headers=auth(key)),
            app_client.get("/api/v1/lots", headers=auth(key)),
        ):
            assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
        # the organisation's admin key, used on both workers all along, still works
        assert httpx.get(other + "/api/v1/lots", headers=w.coop.h()).status_code == 200


def test_concurrent_shipments_of_one_lot_exactly_one_wins(runtime: Runtime, app_client: TestClient) -> None:
    """Two organisations' shipments of the same lot race over HTTP, many times: every time exactly
    one succeeds and the other is refused (SQLite serialises custody writes, PostgreSQL locks the row)."""
    w = make_world(runtime, app_client)
    for run in range(12):
        rice = setup_rice(w, lot=f"R{run}")
        start = threading.Barrier(2)

        def go(to: Org, uri: str = rice["uri"], start: threading.Barrier = start) -> int:
            start.wait(timeout=30)
            return int(ship(w, w.coop, to, uri).status_code)

        with ThreadPoolExecutor(2) as pool:
            codes = sorted(pool.map(go, (w.mill, w.distributor)))
        assert codes[0] == 201 and codes[1] in (403, 409), (run, codes)
        with Session(runtime.engine) as s:
            lot = s.get(Lot, rice["lot"]["id"])
            assert lot is not None and lot.in_transit_to_org_id in (w.mill.id, w.distributor.id)


def test_attachments_belong_to_uploaders_and_readers_of_citing_events(runtime: Runtime, app_client: TestClient) -> None:
    w = make_world(runtime, app_client)
    rice = setup_rice(w)
    photo = picture("JPEG", seed=int.from_bytes(os.urandom(4)))

    def upload(org: Org) -> str:
        up = w.client.post("/api/v1/attachments", files={"file": ("a.jpg", photo, "image/jpeg")}, headers=org.h())
        assert up.status_code == 201, up.text
        return str(up.json()["sha256"])

    def fetch(org: Org, role: str = "admin") -> int:
        return int(w.get(org, f"/api/v1/attachments/{digest}", role=role).status_code)

    digest = upload(w.coop)
    # nobody but the uploader, not even an authority, while no event cites it; unknown and foreign look alike
    assert [fetch(w.coop), fetch(w.coop, "viewer"), fetch(w.mill), fetch(w.authority)] == [200, 200, 404, 404]
    assert w.get(w.mill, "/api/v1/attachments/" + "ab" * 32).json()["detail"] == f"no attachment {'ab' * 32}"
    assert w.get(w.mill, "/api/v1/attachments/..%2f..%2fx").status_code in (404, 422)
    assert w.get(w.mill, "/api/v1/attachments/" + "zz" * 32).status_code == 422
    # another organisation may not cite it, through the diary or in any event
    mill_yard = w.post(w.mill, "/api/v1/places", {"kind": "farm", "name": "Sân phơi"}).json()["id"]
    cite = {"activity": "pest_observation", "time": "2025-01-10T07:00:00+07:00", "attachments": [digest]}
    refused = w.post(w.mill, f"/api/v1/places/{mill_yard}/diary", cite)
    assert refused.status_code == 422 and "not uploaded by your organisation" in refused.json()["detail"]
    sneaky = obj_event(rice["uri"], None, "inspecting", **{"agri:diary": {"attachments": [f"ni:///sha-256;{digest}"]}})
    sneaky["@context"] = CTX
    r = w.post(w.distributor, "/api/v1/events", sneaky)
    assert r.status_code == 422 and "not uploaded by your organisation" in r.json()["detail"]
    assert fetch(w.mill) == 404 and fetch(w.distributor) == 404
    # the coop cites it on its lot: readers of that event (the authority; the mill once it holds the lot) may fetch
    cited = obj_event(rice["uri"], None, "inspecting", **{"agri:diary": {"attachments": [f"ni:///sha-256;{digest}"]}})
    cited["@context"] = CTX
    assert w.post(w.coop, "/api/v1/events", cited).status_code == 201
    assert [fetch(w.authority, "auditor"), fetch(w.mill), fetch(w.distributor)] == [200, 404, 404]
    assert ship(w, w.coop, w.mill, rice["uri"]).status_code == 201
    assert receive(w, w.mill, w.coop, rice["uri"]).status_code == 201
    assert [fetch(w.mill), fetch(w.distributor)] == [200, 404]
    # whoever uploads the same bytes owns them too, and may cite them
    assert upload(w.distributor) == digest and fetch(w.distributor) == 200
    ok = w.post(w.mill, f"/api/v1/places/{mill_yard}/diary", cite)
    assert ok.status_code == 422  # the mill reads it (a citing event) but never uploaded it: still no citing
    upload(w.mill)
    assert w.post(w.mill, f"/api/v1/places/{mill_yard}/diary", cite).status_code == 201


def test_two_organisations_may_not_share_a_gln(runtime: Runtime, app_client: TestClient) -> None:
    """A GLN is the party identifier shipments and owners name (``https://id.gs1.org/417/<GLN>``):
    a second organisation registered with the first one's GLN was accepted, and a shipment to that
    GLN went to whichever of the two the database returned first.  Now 409, naming the holder."""
    w = make_world(runtime, app_client)
    body = {"name": "HTX Một", "kind": "cooperative", "admin_name": "Admin", "gln": "8930000000019"}
    first = w.post(w.authority, "/api/v1/organisations", body)
    assert first.status_code == 201, first.text
    org_id = first.json()["organisation"]["id"]
    again = w.post(w.authority, "/api/v1/organisations", body | {"name": "HTX Hai"})
    assert again.status_code == 409, again.text
    assert f"GLN 8930000000019 is already the party identifier of organisation {org_id}" in again.json()["detail"]
    names = [o["name"] for o in w.get(w.authority, "/api/v1/organisations").json()]
    assert "HTX Hai" not in names


def test_an_admin_may_not_deactivate_themselves(runtime: Runtime, app_client: TestClient) -> None:
    """DELETE /api/v1/members/{own id}/keys deactivated the calling admin and revoked their keys:
    an organisation's only admin left it with nobody who could add members or keys again (the
    workspace already refused).  Both doors now share one rule: 403, and the admin stays."""
    w = make_world(runtime, app_client)
    me = [m for m in w.get(w.coop, "/api/v1/members").json() if m["role"] == "admin"]
    assert len(me) == 1
    r = app_client.delete(f"/api/v1/members/{me[0]['id']}/keys", headers=w.coop.h())
    assert r.status_code == 403 and "may not deactivate themselves" in r.json()["detail"], r.text
    assert w.get(w.coop, "/api/v1/members").status_code == 200  # the key still works
    other = w.post(w.coop, "/api/v1/members", {"name": "Phó", "role": "admin"}).json()["member"]["id"]
    assert app_client.delete(f"/api/v1/members/{other}/keys", headers=w.coop.h()).json() == {"revoked": 1}


def test_a_secret_made_at_once_by_two_processes_is_never_read_empty(tmp_path: Path) -> None:
    """The data directory's generated secrets (custodial keystore password, consumer HMAC key,
    evidence key, anchoring keystore password) were created in place: while the first process made
    and wrote one, the file existed empty, and another starting at that moment read an empty
    secret.  Now each is written whole beside it and linked into place."""
    from traceability_api.local_secrets import secret_file

    path = tmp_path / "keys" / "signing-keys.password"
    made = threading.Event()

    def slow() -> bytes:
        made.wait(5)  # still making it while the others look
        return b"the-real-secret"

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(secret_file, path, slow)
        time.sleep(0.2)
        others = [pool.submit(secret_file, path, lambda: b"another-secret") for _ in range(7)]
        time.sleep(0.2)
        made.set()
        got = {first.result(), *(f.result() for f in others)}
    assert len(got) == 1 and b"" not in got, got
    assert path.read_bytes() in got and _mode(path) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no drafts left behind


def test_two_admins_removing_each_other_at_once_leave_one(runtime: Runtime) -> None:
    """Each request's principal is read when it is authenticated: admin B's request to demote (or
    deactivate) admin A, authenticated just before A demoted B, still passed the admin check, and
    the organisation had no admin left.  The caller's admin role is now read again under the lock."""
    from traceability_api.errors import Forbidden
    from traceability_api.parties.models import MemberCreate, OrganisationCreate, OrgKind, Role
    from traceability_api.parties.service import (
        Principal,
        create_member,
        create_organisation,
        deactivate_member,
        set_role,
    )

    with Session(runtime.engine) as s:
        org, issued = create_organisation(s, OrganisationCreate(name="HTX Đôi", kind="cooperative", admin_name="A"))  # type: ignore[arg-type]
        b = create_member(s, org.id or 0, MemberCreate(name="B", role=Role.admin)).member
        s.commit()
        org_id, a = org.id or 0, issued.member
    as_a, as_b = (Principal(m.id, m.name, Role.admin, org_id, OrgKind.cooperative) for m in (a, b))  # admins when asked
    with Session(runtime.engine) as s:
        set_role(s, as_a, b.id, Role.viewer)
        s.commit()
    for change in (lambda s: set_role(s, as_b, a.id, Role.viewer), lambda s: deactivate_member(s, as_b, a.id)):
        with Session(runtime.engine) as s, pytest.raises(Forbidden, match="admin role or membership has just ended"):
            change(s)
    with Session(runtime.engine) as s:
        admins = [m.name for m in s.exec(select(Member).where(Member.org_id == org_id)) if m.role == Role.admin]
        assert admins == ["A"] and all(m.active for m in s.exec(select(Member).where(Member.org_id == org_id)))
