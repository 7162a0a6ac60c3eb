"""A local SMTP server for e-mail tests (aiosmtpd, a real server on a free port): ``Inbox`` keeps
the raw content of each message it receives."""

from __future__ import annotations

from typing import Any


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"
