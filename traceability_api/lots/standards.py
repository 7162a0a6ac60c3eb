"""Standards a product is made to (Circular 02/2024/TT-BKHCN: "national standards, technical
regulations ... and the facility's own standards applied"): TCVN (national standard), QCVN (national
technical regulation) or TCCS (the company's own standard, tiêu chuẩn cơ sở), each with its number
and title.  Stored on the product as plain JSON objects ``{"kind", "number", "title"}``."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

MAX_STANDARDS = 20
# "11888:2017", "8-2:2011/BYT", "01:2024/HTX-TP": letters (Vietnamese included), digits and . : / - _ space
_NUMBER_RE = re.compile(r"^[0-9A-Za-zÀ-ỹĐđ][0-9A-Za-zÀ-ỹĐđ .:/_-]{0,39}$")


class StandardKind(StrEnum):
    TCVN = "TCVN"  # tiêu chuẩn quốc gia
    QCVN = "QCVN"  # quy chuẩn kỹ thuật quốc gia
    TCCS = "TCCS"  # tiêu chuẩn cơ sở (the company's own standard)


class AppliedStandard(BaseModel):
    kind: StandardKind
    number: str = Field(min_length=1, max_length=40, description="e.g. 11888:2017 (without the kind)")
    title: str = Field(min_length=1, max_length=300)

    @field_validator("number")
    @classmethod
    def _number(cls, v: str) -> str:
        v = v.strip()
        for kind in StandardKind:  # "TCVN 11888:2017" typed whole: keep the number only
            if v.upper().startswith(kind.value + " "):
                v = v[len(kind.value) + 1 :].strip()
        if not _NUMBER_RE.match(v):
            raise ValueError("a standard's number holds 1-40 letters, digits and . : / - _ (e.g. 11888:2017)")
        return v

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        if not v.strip() or any(ord(c) < 32 for c in v):
            raise ValueError("a standard's title must be plain text")
        return v.strip()


def check_standards(v: Any) -> list[dict[str, str]]:
    """The product's list, each item validated and normalised; at most MAX_STANDARDS, no repeats."""
    if v is None:
        return []
    if not isinstance(v, list):
        raise ValueError("standards must be a list of {kind, number, title}")
    if len(v) > MAX_STANDARDS:
        raise ValueError(f"at most {MAX_STANDARDS} standards per product")
    out: list[dict[str, str]] = []
    for i, item in enumerate(v):
        try:
            s = item if isinstance(item, AppliedStandard) else AppliedStandard.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"standards[{i}].{where}: {first['msg']}") from None
        d = {"kind": s.kind.value, "number": s.number, "title": s.title}
        if any(o["kind"] == d["kind"] and o["number"] == d["number"] for o in out):
            raise ValueError(f"standards[{i}]: {d['kind']} {d['number']} is listed twice")
        out.append(d)
    return out


def standard_label(s: dict[str, Any]) -> str:
    """'TCVN 11888:2017 Gạo trắng' as printed."""
    return f"{s.get('kind', '')} {s.get('number', '')} {s.get('title', '')}".strip()
