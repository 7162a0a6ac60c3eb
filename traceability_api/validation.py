"""Reusable input checks for the *Create models (SQLModel does not enforce ``regex=``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from traceability_api.consensus.gs1_uri import gs1_check_digit

GLN_RE = re.compile(r"^\d{13}$")
CODE_RE = re.compile(r"^[A-Za-z0-9._/-]{1,40}$")


def check_gln(v: str | None) -> str | None:
    if v is None:
        return v
    if not GLN_RE.match(v):
        raise ValueError("GLN must be 13 digits")
    if gs1_check_digit(v[:-1]) != v[-1]:
        raise ValueError(f"GLN check digit is wrong (expected {gs1_check_digit(v[:-1])})")
    return v


def check_code(what: str) -> Callable[[Any], Any]:
    def _check(v: str | None) -> str | None:
        if v is not None and not CODE_RE.match(v):
            raise ValueError(f"{what} may hold 1-40 letters, digits and . _ / - only")
        return v

    return _check
