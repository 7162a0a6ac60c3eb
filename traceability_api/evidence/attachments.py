"""Photos and documents, content-addressed by SHA-256, stored on disk; only JPEG, PNG, WebP
and PDF (recognised by their bytes, not by what the client claims), up to a size limit.  A file
belongs to the organisations that uploaded it and is readable by whoever may read an event citing
it; a record may cite only its own organisation's files."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from sqlalchemy import Text, cast
from sqlmodel import Session, select

from traceability_api.config import Settings
from traceability_api.db import insert_ignore
from traceability_api.errors import Invalid, NotFound
from traceability_api.events.models import Event
from traceability_api.events.service import visible_to
from traceability_api.evidence.models import Attachment, AttachmentOwner
from traceability_api.images import TooManyPixels, UnreadableImage, read_whole
from traceability_api.parties.service import Principal

CITE = "ni:///sha-256;"  # how events cite a file
_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"%PDF-": "application/pdf"}


def sniff(data: bytes) -> str:
    for magic, media in MAGIC.items():
        if data.startswith(magic):
            return media
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise Invalid("attachments must be JPEG, PNG, WebP images or PDF documents")


MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo fits; a picture of more is refused unread
_PICTURES = frozenset({"JPEG", "PNG", "WEBP"})


def check_whole(data: bytes, media: str) -> None:
    """Refuse a file whose start looks right but which cannot be read through: an upload cut short
    on a weak connection, a damaged photo (every reader of the record would see a broken image).
    Images are decoded to their end (``images.read_whole``); a PDF must end with its ``%%EOF``."""
    if media == "application/pdf":
        if b"%%EOF" not in data[-1024:]:
            raise Invalid("the PDF is incomplete (it lacks the %%EOF end marker): the upload may have been cut short")
        return
    try:
        read_whole(data, MAX_PIXELS, _PICTURES, jpeg_draft=True).close()
    except TooManyPixels as exc:
        raise Invalid(str(exc)) from exc
    except UnreadableImage as exc:
        raise Invalid(f"the image cannot be read ({exc}): the file is damaged or the upload was cut short") from exc


def path_of(settings: Settings, digest: str) -> Path:
    return settings.attachment_path / digest[:2] / digest


def store(session: Session, p: Principal, settings: Settings, data: bytes) -> Attachment:
    p.require_write()
    if not data:
        raise Invalid("empty file")
    if len(data) > settings.attachment_max_bytes:
        raise Invalid(f"file of {len(data):,} bytes exceeds the limit of {settings.attachment_max_bytes:,} bytes")
    media = sniff(data)
    check_whole(data, media)
    digest = hashlib.sha256(data).hexdigest()
    row = session.get(Attachment, digest)
    if row is None:
        target = path_of(settings, digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)  # atomic: a file under its digest is always complete
        row = Attachment(sha256=digest, org_id=p.org_id, media_type=media, size=len(data))
        insert_ignore(session, Attachment, [row.model_dump()])  # a concurrent upload of the same bytes: fine
    insert_ignore(session, AttachmentOwner, [{"sha256": digest, "org_id": p.org_id}])
    return row


def check_digest(digest: str) -> str:
    if not _DIGEST.fullmatch(digest):
        raise Invalid(f"{digest[:80]!r} is not a SHA-256 digest (64 hexadecimal characters)")
    return digest.lower()


def require_own(session: Session, p: Principal, digests: list[str]) -> None:
    """A record may cite only files its organisation uploaded (else it would open them to its readers)."""
    owned = set(session.exec(select(AttachmentOwner.sha256).where(
        AttachmentOwner.org_id == p.org_id, AttachmentOwner.sha256.in_(digests))))  # type: ignore[attr-defined]  # fmt: skip
    for digest in digests:
        if digest not in owned:
            raise Invalid(f"attachment {digest} was not uploaded by your organisation: upload it first")


def readable(session: Session, p: Principal, digest: str) -> bool:
    """Its uploaders' members, and whoever may read an event citing it (recorded by an uploader)."""
    owners = select(AttachmentOwner.org_id).where(AttachmentOwner.sha256 == digest)
    if session.exec(owners.where(AttachmentOwner.org_id == p.org_id)).first() is not None:
        return True
    citing = select(Event.id).where(
        Event.org_id.in_(owners),  # type: ignore[attr-defined]
        cast(Event.document, Text).like(f"%{CITE}{digest}%"),
        visible_to(p),
    )
    return session.exec(citing.limit(1)).first() is not None


def load(session: Session, p: Principal, settings: Settings, digest: str) -> tuple[Attachment, bytes]:
    digest = check_digest(digest)
    row = session.get(Attachment, digest)
    if row is None or not readable(session, p, digest):
        raise NotFound(f"no attachment {digest}")  # another organisation's file: as if absent
    data = path_of(settings, digest).read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise Invalid(f"attachment {digest} on disk does not match its hash (changed or corrupted)")
    return row, data
