"""Whether anything a consumer page shows may have changed: one cheap query per request.

The stamp is read BEFORE a page's data: a page rendered from data loaded after a write but filed
under the stamp of before it is merely recomputed once more; a page can never be filed under a stamp
newer than its data, because each part of the stamp is committed with (or after) the write it marks.

- ``event``: the newest event (captured through HTTP, EPCIS documents, MQTT summaries, the CLI);
- ``audit_log``: the newest write-log entry, one per successful write request of the API (lots,
  products, organisations, places, recalls, corrections), committed after the write itself;
- ``anchor_batch``: the newest anchored batch (pending records becoming verified; one worker
  anchors batches in nonce order).
Edits made behind the service's back are not writes the stamp sees: the tamper audit finds them.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from traceability_api.anchoring.models import BatchStatus

_STAMP = text(
    "SELECT (SELECT max(id) FROM event), (SELECT max(id) FROM audit_log), "
    "(SELECT max(id) FROM anchor_batch WHERE status = :anchored)"
)


def data_stamp(session: Session) -> tuple[object, ...]:
    row = session.execute(_STAMP, {"anchored": BatchStatus.anchored.value}).one()
    return tuple(row)
