"""Responses that carry stored EPCIS documents: encoded by the standard library (pydantic's
serialiser stops at 255 levels), deep parts replaced by a note when even that cannot encode them,
so what is already stored can always be read back."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from traceability_api.limits import dumps_response


class StoredJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps_response(content)
