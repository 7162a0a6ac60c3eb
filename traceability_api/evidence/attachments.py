"""Photos and documents, content-addressed by SHA-256, stored on disk; only JPEG, PNG, WebP
and PDF (recognised by their bytes, not by what the client claims), up to a size limit."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sqlmodel import Session

from traceability_api.config import Settings
from traceability_api.errors import Invalid, NotFound
from traceability_api.evidence.models import Attachment
from traceability_api.parties.service import Principal

MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"%PDF-": "application/pdf"}


def sniff(data: bytes) -> str:
    for magic, media in MAGIC.items():
        if data.startswith(magic):
            return media
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise Invalid("attachments must be JPEG, PNG, WebP images or PDF documents")


def path_of(settings: Settings, digest: str) -> Path:
    return settings.attachment_path / digest[:2] / digest


def store(session: Session, p: Principal, settings: Settings, data: bytes) -> Attachment:
    p.require_write()
    if not data:
        raise Invalid("empty file")
    if len(data) > settings.attachment_max_bytes:
        raise Invalid(f"file of {len(data):,} bytes exceeds the limit of {settings.attachment_max_bytes:,} bytes")
    media = sniff(data)
    digest = hashlib.sha256(data).hexdigest()
    existing = session.get(Attachment, digest)
    if existing is not None:
        return existing
    target = path_of(settings, digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)  # atomic: a file under its digest is always complete
    row = Attachment(sha256=digest, org_id=p.org_id, media_type=media, size=len(data))
    session.add(row)
    return row


def load(session: Session, settings: Settings, digest: str) -> tuple[Attachment, bytes]:
    row = session.get(Attachment, digest)
    if row is None:
        raise NotFound(f"no attachment {digest}")
    data = path_of(settings, digest).read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise Invalid(f"attachment {digest} on disk does not match its hash (changed or corrupted)")
    return row, data
