from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from chain.client import AnchorContract
from traceability_api.anchoring.models import BatchStatus, ItemKind
from traceability_api.anchoring.proofs import anchor_rows, verify_events
from traceability_api.audit.disclosures import audit_disclosures
from traceability_api.authority.models import WriteLogEntry
from traceability_api.authority.write_log import entry_digest
from traceability_api.consensus.proofs import leaf_of_digest_hex, proof_leads_to
from traceability_api.consensus.records import correction_digest
from traceability_api.events.models import Event, EventCorrection
from traceability_api.events.service import declaration_of
from traceability_api.evidence.summary import check_digests
from traceability_api.opendata.verify import audit_files

PAGE = 2000


@dataclass
class AuditReport:
    events: int = 0
    corrections: int = 0
    write_log_entries: int = 0
    disclosures: int = 0  # commitments of non-public events (audit/disclosures.py)
    opendata_files: int = 0
    pending: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _no_progress(_phase: str, _done: int, _total: int) -> None:
    return None


def audit(
    engine: Engine, contract: AnchorContract | None, progress: Callable[[str, int, int], None] = _no_progress
) -> AuditReport:
    """Every event, error declaration, audit-log entry and open-data file; ``progress(phase, done, total)`` is
    called as each page of records is checked."""
    rep = AuditReport()
    roots: dict[str, bool] = {}
    last = 0
    with Session(engine) as s:
        total = s.exec(select(func.count()).select_from(Event)).one()
        progress("events", 0, total)
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
            progress("events", rep.events, total)
        corrections = s.exec(select(EventCorrection)).all()
        c_rows = anchor_rows(s, [c.id for c in corrections if c.id is not None], ItemKind.correction)
        progress("error declarations", 0, len(corrections))
        for c in corrections:
            rep.corrections += 1
            event = s.get(Event, c.event_id)
            assert event is not None
            digest = correction_digest(event.hash_id, declaration_of(c))
            row = c_rows.get(c.id or -1)
            if digest != c.record_hash or row is None or row.digest != digest:
                rep.problems.append(f"errorDeclaration {c.id} on event {c.event_id}: changed after it was recorded")
                continue
            if row.batch_id is None or row.status != BatchStatus.anchored:
                rep.pending += 1
                continue
            if not proof_leads_to(leaf_of_digest_hex(digest), row.proof or [], row.root):
                rep.problems.append(f"errorDeclaration {c.id}: Merkle proof does not lead to the anchored root")
        progress("error declarations", len(corrections), len(corrections))
        entries = s.exec(select(WriteLogEntry)).all()
        e_rows = anchor_rows(s, [e.id for e in entries if e.id is not None], ItemKind.audit)
        for entry in entries:
            rep.write_log_entries += 1
            anchored = e_rows.get(entry.id or -1)
            if entry_digest(entry) != entry.digest or anchored is None or anchored.digest != entry.digest:
                rep.problems.append(f"write log entry {entry.id}: changed after it was written")
        progress("audit-log entries", len(entries), len(entries))
        checked, pending, problems = audit_disclosures(s)
        rep.disclosures, rep.pending = checked, rep.pending + pending
        rep.problems.extend(problems)
        files = audit_files(s)
        rep.opendata_files, rep.pending = files.checked, rep.pending + files.pending
        rep.problems.extend(files.problems)
    return rep
