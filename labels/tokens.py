"""Short signed tokens for serialised unit labels.

``token = base32(HMAC-SHA256(secret, "gtin/serial"))[:16]`` (80 bits): printed in the QR code,
so a serial somebody invented, or a real serial copied onto another GTIN, does not verify.
(A copied *genuine* label does verify: that case is caught by the scan pattern.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac

TOKEN_CHARS = 16


def serial_token(secret: bytes, gtin: str, serial: str) -> str:
    mac = hmac.new(secret, f"{gtin}/{serial}".encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode()[:TOKEN_CHARS].lower()


def token_valid(secret: bytes, gtin: str, serial: str, token: str | None) -> bool:
    """As bytes: ``compare_digest`` raises TypeError on a str with a non-ASCII character (``?t=é``)."""
    expected = serial_token(secret, gtin, serial).encode()
    return token is not None and hmac.compare_digest(expected, token.lower().encode())
