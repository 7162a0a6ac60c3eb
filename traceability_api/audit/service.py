from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from chain import merkle
from chain.client import AnchorContract
from traceability_api.anchoring.models import AnchorBatch, AnchorItem, BatchStatus, ItemKind
from traceability_api.anchoring.proofs import verify_events
from traceability_api.authority.audit_log import entry_digest
from traceability_api.authority.models import AuditLog
from traceability_api.events.capture import correction_digest
from traceability_api.events.models import Event, EventCorrection
from traceability_api.events.service import declaration_of
from traceability_api.evidence.summary import check_digests

PAGE = 2000


@dataclass
class AuditReport:
    events: int = 0
    corrections: int = 0
    audit_entries: int = 0
    pending: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit(engine: Engine, contract: AnchorContract | None) -> AuditReport:
    rep = AuditReport()
    roots: dict[str, bool] = {}
    last = 0
    with Session(engine) as s:
        while True:
            page = list(s.exec(select(Event).where(Event.id > last).order_by(Event.id).limit(PAGE)).all())  # type: ignore[arg-type, operator]
            if not page:
                break
            last = page[-1].id or last
            v = verify_events(s, page, contract, roots)
            for ev in page:
                if ev.document.get("sensorElementList"):
                    rep.problems.extend(check_digests(s, ev))
            rep.events += v.checked
            rep.pending += v.pending
            rep.problems.extend(v.problems)
        for c in s.exec(select(EventCorrection)).all():
            rep.corrections += 1
            event = s.get(Event, c.event_id)
            assert event is not None
            digest = correction_digest(event.hash_id, declaration_of(c))
            row = s.exec(
                select(AnchorItem, AnchorBatch)
                .join(AnchorBatch, AnchorBatch.id == AnchorItem.batch_id, isouter=True)  # type: ignore[arg-type]
                .where(AnchorItem.kind == ItemKind.correction, AnchorItem.ref_id == c.id)
            ).first()
            if digest != c.record_hash or row is None or row[0].digest != digest:
                rep.problems.append(f"errorDeclaration {c.id} on event {c.event_id}: changed after it was recorded")
                continue
            item, batch = row
            if batch is None or batch.status != BatchStatus.anchored:
                rep.pending += 1
                continue
            leaf = merkle.leaf_of_digest(bytes.fromhex(digest))
            if merkle.process_proof(leaf, [bytes.fromhex(p) for p in item.proof or []]) != bytes.fromhex(batch.root):
                rep.problems.append(f"errorDeclaration {c.id}: Merkle proof does not lead to the anchored root")
        for entry in s.exec(select(AuditLog)).all():
            rep.audit_entries += 1
            anchored = s.exec(
                select(AnchorItem).where(AnchorItem.kind == ItemKind.audit, AnchorItem.ref_id == entry.id)
            ).first()
            if entry_digest(entry) != entry.digest or anchored is None or anchored.digest != entry.digest:
                rep.problems.append(f"audit log entry {entry.id}: changed after it was written")
    return rep
