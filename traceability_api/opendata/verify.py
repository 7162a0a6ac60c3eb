"""The audit of published open-data files: each stored file's bytes (while kept) still hash to
its recorded SHA-256, which is the anchored digest, and its Merkle proof leads to its batch's root."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from traceability_api.anchoring.models import BatchStatus, ItemKind
from traceability_api.anchoring.proofs import anchor_rows
from traceability_api.consensus.proofs import leaf_of_digest_hex, proof_leads_to
from traceability_api.consensus.records import file_digest
from traceability_api.opendata.models import OpenDataFile


@dataclass
class FileAudit:
    checked: int = 0
    pending: int = 0
    problems: list[str] = field(default_factory=list)


def audit_files(session: Session) -> FileAudit:
    rep = FileAudit()
    ids = list(session.exec(select(OpenDataFile.id).order_by(col(OpenDataFile.id))).all())
    rows = anchor_rows(session, [i for i in ids if i is not None], ItemKind.opendata)
    for file_id in ids:
        f = session.get(OpenDataFile, file_id)
        assert f is not None and f.id is not None
        rep.checked += 1
        row = rows.get(f.id)
        name = f"open-data file {f.id} ({f.dataset}.{f.fmt})"
        changed = f.content is not None and file_digest(f.content) != f.sha256  # pruned: digest and proof only
        if changed or row is None or row.digest != f.sha256:
            rep.problems.append(f"{name}: changed after it was published")
        elif row.batch_id is None or row.status != BatchStatus.anchored:
            rep.pending += 1
        elif not proof_leads_to(leaf_of_digest_hex(f.sha256), row.proof or [], row.root):
            rep.problems.append(f"{name}: Merkle proof does not lead to the anchored root")
        session.expunge(f)  # files are large: keep one in memory at a time
    return rep
