"""Regenerating the open-data files: every dataset in every format, stored with its SHA-256 and
queued for anchoring (outbox kind ``opendata``) in one transaction.

A file whose bytes equal the dataset's current file is not stored again (nor anchored again).
One build at a time: a lock in this process and the ``opendata`` lease across processes."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from traceability_api.anchoring import lease
from traceability_api.config import Settings
from traceability_api.consensus.records import file_digest
from traceability_api.errors import Conflict
from traceability_api.opendata.datasets import Lookups, datasets
from traceability_api.opendata.encode import FORMATS, encode
from traceability_api.opendata.models import OpenDataFile
from traceability_api.outbox.models import ItemKind
from traceability_api.outbox.service import Pending, enqueue

log = logging.getLogger(__name__)
LEASE = "opendata"
LEASE_TTL_S = 600.0  # longer than any build; a crashed builder's lease is taken over when it expires
_local = threading.Lock()


@dataclass
class BuildReport:
    files: list[dict[str, object]] = field(default_factory=list)
    changed: int = 0
    seconds: float = 0.0


def current(session: Session, dataset: str, fmt: str) -> OpenDataFile | None:
    """The newest file of a dataset in a format (with its bytes)."""
    q = select(OpenDataFile).where(OpenDataFile.dataset == dataset, OpenDataFile.fmt == fmt)
    return session.exec(q.order_by(col(OpenDataFile.id).desc()).limit(1)).first()


def _newest(session: Session, dataset: str, fmt: str, keep: int) -> list[tuple[int, str]]:
    """(id, sha256) of the newest ``keep`` files of a dataset in a format, newest first."""
    q = select(OpenDataFile.id, OpenDataFile.sha256).where(OpenDataFile.dataset == dataset, OpenDataFile.fmt == fmt)
    return [(int(i or 0), h) for i, h in session.exec(q.order_by(col(OpenDataFile.id).desc()).limit(keep)).all()]


def _prune(session: Session, dataset: str, fmt: str, keep: int) -> None:
    """Drop the bytes of all but the newest ``keep`` files (their rows, digests and proofs stay)."""
    kept = _newest(session, dataset, fmt, keep)
    if len(kept) == keep:
        old = (col(OpenDataFile.dataset) == dataset, col(OpenDataFile.fmt) == fmt, col(OpenDataFile.id) < kept[-1][0])
        session.execute(update(OpenDataFile).where(*old, col(OpenDataFile.content).is_not(None)).values(content=None))


def build(engine: Engine, settings: Settings) -> BuildReport:
    """Regenerate every file; Conflict if another build is running."""
    holder = lease.holder_id()
    if not _local.acquire(blocking=False):
        raise Conflict("an open-data build is already running in this process")
    try:
        if not lease.acquire(engine, LEASE, holder, ttl_s=LEASE_TTL_S):
            raise Conflict("an open-data build is already running in another process")
        try:
            return _build(engine, settings)
        finally:
            lease.release(engine, LEASE, holder)
    finally:
        _local.release()


@dataclass(frozen=True)
class _File:
    dataset: str
    fmt: str
    media_type: str
    content: bytes
    rows: int


def _encode_all(engine: Engine, settings: Settings) -> list[_File]:
    """Every dataset in every format, read and encoded before anything is written (on SQLite a
    write transaction would block capture for the whole build)."""
    files = []
    with Session(engine) as s:
        lookups = Lookups(s)
        for ds in datasets(settings):
            rows = ds.rows(lookups, settings)
            for fmt, media in FORMATS.items():
                content = encode(fmt, ds.slug, settings.opendata_license, ds.columns, rows)
                files.append(_File(ds.slug, fmt, media, content, len(rows)))
    return files


def _build(engine: Engine, settings: Settings) -> BuildReport:
    t0 = time.perf_counter()
    rep = BuildReport()
    files = _encode_all(engine, settings)
    with Session(engine, expire_on_commit=False) as s:  # the short write: changed files and their outbox rows
        for f in files:
            digest = file_digest(f.content)
            newest = _newest(s, f.dataset, f.fmt, 1)
            if newest and newest[0][1] == digest:
                file_id = newest[0][0]
            else:
                row = OpenDataFile(dataset=f.dataset, fmt=f.fmt, media_type=f.media_type, sha256=digest,
                                   size=len(f.content), rows=f.rows, content=f.content)  # fmt: skip
                s.add(row)
                s.flush()
                assert row.id is not None
                file_id = row.id
                enqueue(s, [Pending(ItemKind.opendata, file_id, digest)])
                _prune(s, f.dataset, f.fmt, settings.opendata_keep_files)
                rep.changed += 1
            rep.files.append({"dataset": f.dataset, "format": f.fmt, "sha256": digest, "size": len(f.content),
                              "rows": f.rows, "id": file_id})  # fmt: skip
        s.commit()
    rep.seconds = time.perf_counter() - t0
    log.info("open data built: %d files, %d changed, %.2f s", len(rep.files), rep.changed, rep.seconds)
    return rep
