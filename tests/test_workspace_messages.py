"""Form refusals in the person's language: a field given but too short says how short it may be
(it said "Required." though the person had typed something); an empty field says it is required."""

from __future__ import annotations

import re
import string

import pytest
from pydantic import BaseModel, Field, ValidationError

from traceability_api.workspace.messages import _DOMAIN, from_validation


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


def test_every_rule_words_what_its_pattern_finds() -> None:
    """Each rule is one row: its pattern, field, both languages and, for the refusals whose numbers
    and units are worded as the pages write them, how (the row's fifth element, which was a table
    beside the rules keyed by the pattern's text). Both languages use the same places, and a row
    without its own wording uses only groups its pattern has (a missing one raised at refusal time)."""

    def places(text: str) -> set[int]:
        return {int(name) for _, name, _, _ in string.Formatter().parse(text) if name is not None}

    for pattern, _field, vi, en, *worded in _DOMAIN:
        assert places(vi) == places(en), pattern
        assert worded or all(i < re.compile(pattern).groups for i in places(vi)), pattern
