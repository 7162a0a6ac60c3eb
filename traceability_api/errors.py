"""Exception hierarchy of the service, translated to HTTP at one place (main.py).

AgriTraceError
├── ConfigError          bad configuration: the CLI prints one line and exits 2
└── DomainError          a request the domain refuses (carries an HTTP status)
    ├── NotFound            404
    ├── Forbidden           403
    ├── Unauthorized        401
    │   └── ApiKeyRefused       401 with a Bearer challenge (WWW-Authenticate)
    ├── Conflict            409
    └── Invalid             422 (bad input the schema could not catch)
"""

from __future__ import annotations

from typing import Any


class AgriTraceError(Exception):
    """Root of every error raised by traceability_api."""


class ConfigError(AgriTraceError):
    pass


class DomainError(AgriTraceError):
    status_code = 400
    html: str | None = None  # a page for a person's browser, set by a raiser that has one (else the JSON)

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Unauthorized(DomainError):
    status_code = 401
    challenge: str | None = None  # the WWW-Authenticate header a 401 must carry (RFC 9110), where a scheme applies


class ApiKeyRefused(Unauthorized):
    """No API key, or one the service does not take (the API's 401)."""

    challenge = 'Bearer realm="AgriTrace API"'


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    status_code = 422
