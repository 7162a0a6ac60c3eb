"""Demo data (filled in once capture exists)."""

from __future__ import annotations

from traceability_api.runtime import Runtime


def seed_demo(runtime: Runtime) -> dict[str, str]:
    return {"consumer_url": runtime.settings.public_base_url + "/healthz"}
