"""A database lease so that exactly one anchoring worker is active across API processes."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from traceability_api.anchoring.models import WorkerLease
from traceability_api.timeutil import utcnow


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_dead(holder: str) -> bool:
    """A holder on this host whose process is gone (killed worker): its lease can be taken."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(engine: Engine, name: str, holder: str, ttl_s: float) -> bool:
    """Take or renew the lease ``name`` for ``holder``; False if someone else holds it."""
    now = utcnow()
    with Session(engine) as s:
        row = s.exec(select(WorkerLease).where(WorkerLease.name == name).with_for_update()).first()
        if row is None:
            s.add(WorkerLease(name=name, holder=holder, expires_at=now + timedelta(seconds=ttl_s)))
            try:
                s.commit()
            except IntegrityError:
                return False
            return True
        if row.holder != holder and row.expires_at > now and not _holder_dead(row.holder):
            return False
        row.holder = holder
        row.expires_at = now + timedelta(seconds=ttl_s)
        s.add(row)
        s.commit()
        return True


def release(engine: Engine, name: str, holder: str) -> None:
    with Session(engine) as s:
        row = s.exec(select(WorkerLease).where(WorkerLease.name == name, WorkerLease.holder == holder)).first()
        if row is not None:
            s.delete(row)
            s.commit()
