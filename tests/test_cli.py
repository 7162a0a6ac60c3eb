"""The ``agritrace`` command line as a user runs it: a real process, real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import REPO, auth
from traceability_api.runtime import Runtime

AGRITRACE = [sys.executable, "-m", "traceability_api.cli"]


def _run(runtime: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGRITRACE_", "DATABASE_URL", "CHAIN_RPC"))}
    env |= {
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": runtime.settings.effective_database_url,
        "AGRITRACE_DATA_DIR": str(runtime.settings.data_dir),
    }
    return subprocess.run([*AGRITRACE, *args], env=env, capture_output=True, text=True, timeout=120)


def test_create_org_prints_a_working_admin_key_and_refuses_a_second_run(
    runtime: Runtime, app_client: TestClient
) -> None:
    first = _run(runtime, "create-org", "--name", "HTX Thạnh Phú", "--kind", "cooperative")
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["name"] == "HTX Thạnh Phú" and out["kind"] == "cooperative"
    lots = app_client.get("/api/v1/lots", headers=auth(out["api_key"]))
    assert lots.status_code == 200, lots.text
    invite = out["admin_invite_url"]  # the admin's one-time link to the workspace (on the CLI's base URL)
    assert "/app/invite/" in invite and app_client.get(invite[invite.index("/app/invite/") :]).status_code == 200

    again = _run(runtime, "create-org", "--name", "HTX Thạnh Phú", "--kind", "cooperative")
    assert again.returncode == 1, again.stdout + again.stderr
    assert f"already exists (id {out['organisation_id']}" in again.stderr and "Nothing was changed" in again.stderr
    assert "Traceback" not in again.stderr and again.stdout == ""
    assert app_client.get("/api/v1/lots", headers=auth(out["api_key"])).status_code == 200  # the first key still works


def test_create_org_lists_the_allowed_kinds(runtime: Runtime) -> None:
    bad = _run(runtime, "create-org", "--name", "HTX X", "--kind", "coop")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    for kind in ("cooperative", "farmer_club", "processor", "distributor", "retailer", "authority"):
        assert kind in bad.stderr
    bad_gln = _run(runtime, "create-org", "--name", "HTX X", "--kind", "cooperative", "--gln", "8930000000001")
    assert bad_gln.returncode == 2 and "bad value gln" in bad_gln.stderr and "expected" in bad_gln.stderr


def test_help_loads_no_heavy_library() -> None:
    code = (
        "import sys, traceability_api.cli\n"
        "print(sorted(m for m in ('web3', 'sqlmodel', 'sqlalchemy', 'fastapi', 'reportlab', 'uvicorn') "
        "if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert res.stdout.strip() == "[]"
    wide = os.environ | {"COLUMNS": "300"}  # rich wraps help text to the terminal width
    helped = subprocess.run([*AGRITRACE, "labels", "--help"], capture_output=True, text=True, cwd=REPO, env=wide)
    assert helped.returncode == 0 and "thermal-60x40" in helped.stdout


def test_label_layout_choices_match_the_renderer() -> None:
    from labels.pdf import LAYOUTS
    from traceability_api.cli.label_cmds import Layout

    assert [m.value for m in Layout] == list(LAYOUTS)


def test_export_writes_every_event_with_a_summary(runtime: Runtime, app_client: TestClient, tmp_path: Path) -> None:
    from tests.world import make_world, setup_rice

    w = make_world(runtime, app_client)
    setup_rice(w)
    setup_rice(w, "L2")
    out = tmp_path / "events.csv"
    res = _run(runtime, "export", str(out), "--lang", "vi")
    assert res.returncode == 0, res.stderr
    text = out.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and "Thời điểm sự kiện" in text.decode("utf-8-sig")
    assert len(text.decode("utf-8-sig").splitlines()) >= 3  # header and the lot's events
    assert "events" in res.stdout and "export" in res.stdout  # the closing summary
    doc = tmp_path / "events.jsonld"
    assert _run(runtime, "export", str(doc), "--format", "epcis").returncode == 0
    assert json.loads(doc.read_text())["type"] == "EPCISDocument"
    bad = _run(runtime, "export", str(doc), "--format", "pdf")
    assert bad.returncode == 2 and "csv" in bad.stderr and "epcis" in bad.stderr


def test_exports_refuse_an_unwritable_file_or_an_id_beyond_64_bits_in_one_line(
    runtime: Runtime, app_client: TestClient, tmp_path: Path
) -> None:
    """A file in a directory that does not exist, an organisation id beyond 64 bits: one line on
    stderr and exit 1 (refused input) or 2 (bad option), never a traceback."""
    missing = str(tmp_path / "no-such-dir" / "out")
    huge = str(2**64)
    runs = {
        "events": _run(runtime, "export", missing + ".csv"),
        "fsma": _run(runtime, "export", "fsma", missing + ".xlsx", "--gtin", "08930000000989"),
        "national": _run(runtime, "export", "national-record", missing + ".json"),
        "labels": _run(runtime, "labels", "08930000000989", "L1", "--out", missing + ".pdf"),
        "fsma org": _run(
            runtime, "export", "fsma", str(tmp_path / "f.csv"), "--gtin", "08930000000989", "--org-id", huge
        ),
        "national org": _run(runtime, "export", "national-record", str(tmp_path / "n.json"), "--org", huge),
    }
    for name, r in runs.items():
        assert r.returncode in (1, 2), (name, r.returncode, r.stderr)
        assert "Traceback" not in r.stderr and "rror" in r.stderr, (name, r.stderr)
        assert len(r.stderr.strip().splitlines()) <= 4, (name, r.stderr)
    for name in ("events", "fsma", "national"):
        assert "no-such-dir" in runs[name].stderr, runs[name].stderr
