"""Reading an EPCIS request body: bounded in size and JSON depth (deep JSON would overflow the C
stack), JSON-LD as is, EPCIS XML converted to JSON-LD; used by /api/v1/capture and /epcis/capture."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from traceability_api.errors import DomainError, Invalid

MAX_BODY = 8 * 1024 * 1024
MAX_JSON_DEPTH = 64
JSON_TYPES = ("application/json", "application/ld+json")
XML_TYPES = ("application/xml", "text/xml")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


class PayloadTooLarge(DomainError):
    status_code = 413


class UnsupportedMediaType(DomainError):
    status_code = 415


def check_depth(body: bytes) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH before parsing it."""
    depth = 0
    for c in _STRING.sub(b"", body).translate(None, delete=_NOT_BRACKETS):
        depth += 1 if c in b"[{" else -1
        if depth > MAX_JSON_DEPTH:
            raise Invalid(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    return body


async def read_json(request: Request, limit: int = MAX_BODY) -> Any:
    kind = media_type(request)  # none given: JSON
    if kind not in JSON_TYPES and not kind.endswith("+json"):
        raise UnsupportedMediaType(f"send the body as application/json, not {kind}")
    body = await read_body(request, limit)
    check_depth(body)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"the body is not valid JSON: {exc}") from exc


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "application/json").split(";", 1)[0].strip().lower()


async def read_document(request: Request, default_context: list[Any]) -> Any:
    """The body as a JSON-LD document: JSON as sent, EPCIS 2.0 / 1.2 XML converted."""
    kind = media_type(request)
    if kind in JSON_TYPES:
        return await read_json(request)
    if kind in XML_TYPES:
        from traceability_api.epcis.xml_document import xml_to_jsonld

        return xml_to_jsonld(await read_body(request), default_context)
    raise UnsupportedMediaType(f"unsupported media type {kind!r}: send application/ld+json, application/json or XML")
