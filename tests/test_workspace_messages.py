"""Form refusals in the person's language: a field given but too short says how short it may be
(it said "Required." though the person had typed something); an empty field says it is required."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from traceability_api.workspace.messages import from_validation


class _Form(BaseModel):
    issuer: str = Field(min_length=2)
    name: str = Field(min_length=1)


def _errors(data: dict[str, str], lang: str) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        _Form(**data)
    return from_validation(caught.value, lang)


def test_too_short_says_how_short_and_empty_says_required() -> None:
    assert _errors({"issuer": "x", "name": ""}, "vi") == {"issuer": "Quá ngắn: ít nhất 2 ký tự.", "name": "Bắt buộc."}
    assert _errors({"issuer": "x", "name": "a"}, "en") == {"issuer": "Too short: at least 2 characters."}
    assert _errors({"issuer": "", "name": "a"}, "en") == {"issuer": "Required."}
