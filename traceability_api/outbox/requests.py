"""The write requests a transaction records: a session lists them in ``session.info`` under
``WRITE_REQUESTS`` and the write log (``authority.write_log``) adds one entry each, anchored like
events, in that transaction just before it commits.  Here, below every domain, so that the
request layer and capture's group commit can name them without importing the write log."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

WRITE_REQUESTS = "agritrace.write_requests"
LOGGED = "write_logged"  # key in a request's scope state: its entry is in the transaction being committed
REQUEST_STATE = "agritrace.request_state"  # session.info key: the scope state of a read request's session
PRIVATE_READ = "private_read"  # key in a request's scope state: it read another organisation's non-public data
READ_OWNERS = "private_read_owners"  # key in a request's scope state: the set of organisations whose data it read


@dataclass
class WriteRequest:
    state: MutableMapping[str, Any]  # the request's scope state (its principal; marked once logged)
    method: str
    path: str
    status: int | None = None  # None: the route's success status
    scope: MutableMapping[str, Any] | None = None


def add_write_request(info: MutableMapping[str, Any], request: WriteRequest) -> None:
    info.setdefault(WRITE_REQUESTS, []).append(request)


def note_private_read(info: MutableMapping[str, Any], owners: Iterable[int] = ()) -> None:
    """Mark the request whose session this is as a read of another organisation's non-public data
    (``owners``: the organisations whose data it read): the write log records it (method GET), with
    its owners, once the response is sent."""
    state = info.get(REQUEST_STATE)
    if state is not None:
        state[PRIVATE_READ] = True
        state.setdefault(READ_OWNERS, set()).update(int(o) for o in owners)


def take_write_requests(info: MutableMapping[str, Any]) -> list[WriteRequest]:
    """The write requests of a session, removed from it (another transaction will record them)."""
    taken: list[WriteRequest] = info.pop(WRITE_REQUESTS, None) or []
    return taken
