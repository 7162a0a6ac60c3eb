"""The anchoring outbox: one row per record to anchor, written in the same transaction as the
record.  It sits below every domain that writes records (events, the write log), so they can
enqueue without knowing the anchoring worker, which reads the rows from above."""

from traceability_api.outbox.models import AnchorItem, ItemKind
from traceability_api.outbox.requests import (
    LOGGED,
    PRIVATE_READ,
    READ_OWNERS,
    REQUEST_STATE,
    WRITE_REQUESTS,
    WriteRequest,
    add_write_request,
    note_private_read,
    take_write_requests,
)
from traceability_api.outbox.service import ALL_ROWS_AT_ONCE, Pending, enqueue

__all__ = [
    "ALL_ROWS_AT_ONCE",
    "LOGGED",
    "PRIVATE_READ",
    "READ_OWNERS",
    "REQUEST_STATE",
    "WRITE_REQUESTS",
    "AnchorItem",
    "ItemKind",
    "Pending",
    "WriteRequest",
    "add_write_request",
    "enqueue",
    "note_private_read",
    "take_write_requests",
]
