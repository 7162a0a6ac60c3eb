"""The one SSRF guard for every URL the service calls on a client's behalf (EPCIS subscription
webhooks, sensor-alert webhooks): http(s) only, no credentials, and every address of the host public
unless private destinations are allowed (``AGRITRACE_WEBHOOK_ALLOW_PRIVATE``, tests and closed networks)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeDestination(ValueError):
    """A webhook destination the server refuses to call."""


def check_destination(url: str, allow_private: bool) -> None:
    """http(s) only; every address of the host public unless private destinations are allowed (SSRF)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a port out of 0-65535 or not a number, a broken [IPv6] literal: was a 500
        raise UnsafeDestination(f"dest is not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeDestination("dest must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise UnsafeDestination("dest may not carry credentials")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(f"dest host {host!r} does not resolve") from exc
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not addr.is_global:
            raise UnsafeDestination(f"dest {host!r} resolves to a non-public address ({addr})")
