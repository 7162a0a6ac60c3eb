"""Regenerating the open-data files: every dataset in every format, stored with its SHA-256 and
queued for anchoring (outbox kind ``opendata``) in one transaction.

A file whose bytes equal the dataset's current file is not stored again (nor anchored again).
One build at a time: a lock in this process and the ``opendata`` lease across processes."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

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
    q = select(OpenDataFile).where(OpenDataFile.dataset == dataset, OpenDataFile.fmt == fmt)
    return session.exec(q.order_by(OpenDataFile.id.desc()).limit(1)).first()  # type: ignore[union-attr]


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


def _build(engine: Engine, settings: Settings) -> BuildReport:
    t0 = time.perf_counter()
    rep = BuildReport()
    with Session(engine, expire_on_commit=False) as s:
        lookups = Lookups(s)
        for ds in datasets(settings):
            rows = ds.rows(lookups, settings)
            for fmt, media in FORMATS.items():
                content = encode(fmt, ds.slug, settings.opendata_license, ds.columns, rows)
                digest = file_digest(content)
                row = current(s, ds.slug, fmt)
                if row is None or row.sha256 != digest:
                    row = OpenDataFile(dataset=ds.slug, fmt=fmt, media_type=media, sha256=digest,
                                       size=len(content), rows=len(rows), content=content)  # fmt: skip
                    s.add(row)
                    s.flush()
                    assert row.id is not None
                    enqueue(s, [Pending(ItemKind.opendata, row.id, digest)])
                    rep.changed += 1
                rep.files.append({"dataset": ds.slug, "format": fmt, "sha256": digest, "size": len(content),
                                  "rows": len(rows), "id": row.id})  # fmt: skip
        s.commit()
    rep.seconds = time.perf_counter() - t0
    log.info("open data built: %d files, %d changed, %.2f s", len(rep.files), rep.changed, rep.seconds)
    return rep
