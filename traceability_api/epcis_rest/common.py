"""What every ``/epcis`` response shares: the GS1 version headers, version negotiation (406),
RFC 7807 problem bodies for errors, and bounded reading of request bodies."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from traceability_api.content_coding import media_ranges, quality
from traceability_api.epcis_rest.search import QueryTooLarge
from traceability_api.epcis_rest.values import QueryParameterError
from traceability_api.errors import DomainError, Unauthorized

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
PROBLEM = "application/problem+json"
LD_JSON = "application/ld+json"
_EXCEPTION = {
    400: "epcisException:ValidationException", 401: "epcisException:SecurityException",
    403: "epcisException:SecurityException", 404: "epcisException:NoSuchNameException",
    406: "epcisException:NotAcceptableException", 409: "epcisException:ResourceAlreadyExistsException",
    413: "epcisException:CaptureLimitExceededException", 415: "epcisException:UnsupportedMediaTypeException",
    422: "epcisException:ValidationException", 500: "epcisException:ImplementationException",
}  # fmt: skip


class EpcisProblem(Exception):
    def __init__(self, status: int, detail: str, kind: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.kind = status, detail, kind


def problem(status: int, detail: str, kind: str | None = None) -> JSONResponse:
    kind = kind or _EXCEPTION.get(status, "epcisException:ImplementationException")
    body = {"type": kind, "title": kind.split(":", 1)[1], "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=version_headers())


def version_headers() -> dict[str, str]:
    return {"GS1-EPCIS-Version": EPCIS_VERSION, "GS1-CBV-Version": CBV_VERSION, "GS1-Extensions": ""}


def _negotiate(request: Request) -> None:
    """406 when the client insists on EPCIS or CBV versions other than 2.0.x."""
    h = request.headers
    for name in ("GS1-EPCIS-Version", "GS1-CBV-Version"):
        v = h.get(name)
        if v is not None and not re.fullmatch(r"2\.0(\.\d+)?", v.strip()):
            raise EpcisProblem(406, f"{name} {v!r} is not supported; this server speaks 2.0.0")
    for name in ("GS1-EPCIS-Min", "GS1-CBV-Min"):
        v = h.get(name)
        if v is not None and _ver(v) > (2, 0, 0):
            raise EpcisProblem(406, f"{name} {v!r}: this server speaks 2.0.0 only")
    for name in ("GS1-EPCIS-Max", "GS1-CBV-Max"):
        v = h.get(name)
        if v is not None and _ver(v) < (2, 0, 0):
            raise EpcisProblem(406, f"{name} {v!r}: this server speaks 2.0.0 only")


def _media_type(request: Request) -> str | None:
    """What a GET's body is labelled, by its Accept: JSON-LD when asked for before plain JSON, else
    JSON; 406 when it accepts neither (application/xml: this server answers no XML)."""
    accept = request.headers.get("accept")
    if request.method != "GET" or not accept:
        return None
    ranges = media_ranges(accept)
    q_json, q_ld = quality(ranges, "application/json"), quality(ranges, LD_JSON)
    if q_json <= 0 and q_ld <= 0:
        raise EpcisProblem(406, f"Accept {accept[:200]!r}: this server answers application/json or {LD_JSON}, no XML")
    return LD_JSON if q_ld > q_json else None


def _ver(v: str) -> tuple[int, ...]:
    parts = [p.lstrip("0")[:18] or "0" for p in re.findall(r"[0-9]+", v)[:3]]  # int() of 4,301 digits raised: 500
    return tuple(int(x) for x in parts) + (0,) * (3 - len(parts)) if parts else (0, 0, 0)


class EpcisRoute(APIRoute):
    """Adds the version headers to every response and turns every refusal into a problem body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                _negotiate(request)
                media_type = _media_type(request)
                response = await handler(request)
            except EpcisProblem as exc:
                return problem(exc.status, exc.detail, exc.kind)
            except QueryParameterError as exc:
                return problem(400, str(exc), "epcisException:QueryParameterException")
            except QueryTooLarge as exc:
                return problem(413, str(exc), "epcisException:QueryTooLargeException")
            except DomainError as exc:
                status = 400 if exc.status_code == 422 else exc.status_code
                refusal = problem(status, exc.message)
                if isinstance(exc, Unauthorized) and exc.challenge:
                    refusal.headers["WWW-Authenticate"] = exc.challenge
                return refusal
            except RequestValidationError as exc:
                summary = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg', '')}" for e in exc.errors()[:5]
                )
                return problem(400, f"invalid request: {summary}")
            for k, v in version_headers().items():
                response.headers.setdefault(k, v)
            if media_type and response.headers.get("content-type") == "application/json":
                response.headers["content-type"] = media_type
            return response

        return route
