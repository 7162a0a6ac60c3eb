"""A local webhook receiver for subscription tests: a real HTTP server on a free port that
queues each POST it receives (headers, body)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

Received = queue.Queue[tuple[dict[str, str], bytes]]


class _Hook(BaseHTTPRequestHandler):
    received: Received

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.put((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def webhook() -> Iterator[tuple[str, Received]]:
    """(the callback URL, the queue of what it received), for the duration of the block."""
    received: Received = queue.Queue()
    server = HTTPServer(("127.0.0.1", 0), type("Hook", (_Hook,), {"received": received}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/callback", received
    finally:
        server.shutdown()
        server.server_close()
