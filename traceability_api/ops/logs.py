"""Structured logs: one JSON object per line with the request id of the request being served.

The request id lives in a context variable set by :class:`~traceability_api.ops.requests.RequestMiddleware`;
every record logged while a request runs (in its task or its thread-pool worker) carries it.
Standard library only: the formatter is a dozen lines and needs no extra dependency."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str | None] = ContextVar("agritrace_request_id", default=None)

_NOT_EXTRA = {"message", "asctime", "taskName", "color_message"}  # color_message: uvicorn's ANSI copy of msg
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | _NOT_EXTRA


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", "request_id"?, "exc"?, ...extra}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id.get()
        if rid is not None:
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


_INVITE = re.compile(r"(/app/invite/)[^/?\s\"]+")


class RedactInviteTokens(logging.Filter):
    """An invitation link's token is a password until used (only its SHA-256 is stored): uvicorn's
    access line names the request's path, so the log kept the token of every link opened."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "/app/invite/" in a for a in record.args):
            record.args = tuple(_INVITE.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str) and "/app/invite/" in record.msg:
            record.msg = _INVITE.sub(r"\1…", record.msg)
        return True


def configure_logging(*, json_logs: bool, level: int = logging.INFO) -> None:
    """Root logging for ``agritrace serve``: JSON lines on stderr (or plain text), uvicorn's
    loggers routed through the same handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactInviteTokens())
    if json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
