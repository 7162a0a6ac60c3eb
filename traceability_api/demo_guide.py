"""What a newcomer needs after ``./scripts/demo.sh``: the demo lots' consumer pages, an API key
per demo organisation (demo data only, kept in the data directory with mode 0600), the chain and
where the docs are.  The same lots are linked from the landing page ``/``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from traceability_api.local_secrets import secret_file

if TYPE_CHECKING:
    from traceability_api.config import Settings
    from traceability_api.runtime import Runtime

KEYS_FILE = "demo-keys.json"


def save_demo_keys(settings: Settings, keys: dict[str, str]) -> None:
    """Written once, when the demo is seeded (mode 0600, beside the demo database)."""
    secret_file(settings.data_dir / KEYS_FILE, lambda: json.dumps(keys, ensure_ascii=False, indent=1).encode())


def load_demo_keys(settings: Settings) -> dict[str, str]:
    path = settings.data_dir / KEYS_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def demo_lots(runtime: Runtime) -> list[tuple[str, str, str]]:
    """(product name, lot code, consumer URL) of the demo lots, when this process seeded them."""
    from sqlmodel import Session

    from labels.digital_link import build
    from traceability_api.lots.service import find_lot

    base = runtime.settings.public_base_url
    out = []
    with Session(runtime.engine) as s:
        for gtin, lot in runtime.demo_lots:
            found = find_lot(s, gtin, lot)
            if found is not None:
                out.append((found[1].name, lot, build(gtin, lot).uri(base)))
    return out


def guide(runtime: Runtime) -> str:
    st = runtime.settings
    base = st.public_base_url
    lines = [
        "",
        "AgriTrace demo is ready.",
        "",
        "Consumer pages of the demo lots (what a QR code on the package opens):",
    ]
    lots = demo_lots(runtime)
    lines += [f"  {name} · {lot}: {url}" for name, lot, url in lots]
    keys = load_demo_keys(st)
    lines += ["", "API keys, one admin per demo organisation (DEMO DATA ONLY; Authorization: Bearer <key>):"]
    lines += [f"  {org}: {key}" for org, key in keys.items()] or [
        f"  (not found: they are printed only when the demo is first seeded; delete {st.data_dir} to reseed)"
    ]
    if runtime.chain is not None:
        lines += ["", f"Chain: JSON-RPC {runtime.chain.rpc_url} (chain id {runtime.chain.chain_id}), "
                  f"anchor contract {runtime.chain.contract.address}"]  # fmt: skip
    lines += ["", f"Docs: {base}/docs (Swagger UI) and {base}/redoc; landing page {base}/; README.md in the repository"]
    if lots:
        gtin_lot = lots[0][2].removeprefix(f"{base}/01/").replace("/10/", "/")
        rpc = runtime.chain.rpc_url if runtime.chain else "<rpc>"
        lines += ["", "Verify a lot yourself, without trusting this server:",
                  f"  curl -o bundle.json {base}/api/v1/proofs/lots/{gtin_lot}",
                  f"  .venv/bin/agritrace verify bundle.json --rpc {rpc}"]  # fmt: skip
    return "\n".join(lines) + "\n"
