from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import text
from sqlmodel import Session, select

from traceability_api.anchoring.models import WorkerLease
from traceability_api.anchoring.worker import LEASE
from traceability_api.deps import RuntimeDep
from traceability_api.runtime import Runtime
from traceability_api.timeutil import utcnow

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Database, chain, anchoring lease holder and MQTT subscriber status")
def healthz(runtime: RuntimeDep, response: Response) -> dict[str, Any]:
    db: dict[str, Any] = {"ok": True, "backend": runtime.engine.dialect.name}
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - report, never raise, from a health check
        db = {"ok": False, "backend": runtime.engine.dialect.name, "error": exc.__class__.__name__}
    chain: dict[str, Any] = {"ok": False, "enabled": runtime.chain is not None}
    if runtime.chain is not None:
        rt = runtime.chain
        try:
            chain.update(
                ok=True,
                chain_id=rt.chain_id,
                block_number=rt.contract.block_number(),
                contract_address=rt.contract.address,
                embedded=rt.node is not None,
                node_restarts=rt.supervisor.restarts if rt.supervisor is not None else 0,
            )
        except Exception as exc:  # noqa: BLE001
            chain.update(ok=False, error=exc.__class__.__name__)
    worker = _lease(runtime, db["ok"])
    subscriber = runtime.mqtt
    mqtt: dict[str, Any] = subscriber.health() if subscriber is not None else {"ok": False, "enabled": False}
    ok = db["ok"] and (chain["ok"] or not chain["enabled"]) and (mqtt["ok"] or not mqtt["enabled"])
    response.status_code = 200 if ok else 503
    return {"status": "ok" if ok else "degraded", "database": db, "chain": chain, "worker": worker, "mqtt": mqtt}


def _lease(runtime: Runtime, db_ok: bool) -> dict[str, Any]:
    """Who holds the anchoring lease (any instance), and whether this process runs a worker."""
    out: dict[str, Any] = {"runs_here": runtime.worker is not None, "lease_holder": None}
    if not db_ok:
        return out
    try:
        with Session(runtime.engine) as s:
            row = s.exec(select(WorkerLease).where(WorkerLease.name == LEASE)).first()
    except Exception as exc:  # noqa: BLE001
        return out | {"error": exc.__class__.__name__}
    if row is not None and row.expires_at > utcnow():
        here = runtime.worker is not None and row.holder == runtime.worker.holder
        out.update(lease_holder=row.holder, lease_expires_at=row.expires_at.isoformat(), holder_is_this_process=here)
    return out
