"""Reusable input checks for the *Create models (SQLModel does not enforce ``regex=``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from annotated_types import Ge, Le

from traceability_api.consensus.gs1_uri import gs1_check_digit

GLN_RE = re.compile(r"[0-9]{13}")  # [0-9], not \d: a str pattern's \d takes other scripts' digits
CODE_RE = re.compile(r"[A-Za-z0-9._/-]{1,40}")  # fullmatch: "$" matches before a final newline


def check_gln(v: str | None) -> str | None:
    if v is None:
        return v
    if not GLN_RE.fullmatch(v):
        raise ValueError("GLN must be 13 digits")
    if gs1_check_digit(v[:-1]) != v[-1]:
        raise ValueError(f"GLN check digit is wrong (expected {gs1_check_digit(v[:-1])})")
    return v


def check_code(what: str) -> Callable[[Any], Any]:
    def _check(v: str | None) -> str | None:
        if v is not None and not CODE_RE.fullmatch(v):
            raise ValueError(f"{what} may hold 1-40 letters, digits and . _ / - only")
        return v

    return _check


MAX_DB_ID = 2**31 - 1  # every id column is INTEGER: 32-bit signed in PostgreSQL (64 in SQLite)
DbId = Annotated[int, Ge(0), Le(MAX_DB_ID)]
"""Every id, page token or cursor taken from a request: beyond what an id column holds it is a 422
naming the limit on both databases (PostgreSQL refused it only when comparing: a vague 422)."""


def db_id_of(text: str) -> int | None:
    """The id ``text`` spells (a form field, a path segment, the end of an ``urn:agritrace:...:<id>``),
    or None if it is not one we could store.  ASCII digits only: ``str.isdigit`` also takes '²', which
    ``int`` refuses (a 500), and ``int`` refuses more than 4,300 digits."""
    ok = text.isascii() and text.isdigit() and len(text) <= len(str(MAX_DB_ID))
    return int(text) if ok and int(text) <= MAX_DB_ID else None


EARLIEST_VALIDITY = date(1990, 1, 1)  # no Vietnamese certificate or registered code starts earlier
LATEST_VALIDITY = date(2099, 12, 31)


def check_validity(valid_from: date, valid_until: date | None) -> None:
    """A certificate's or a registered code's validity, as a person would type it: a slip of one
    digit (2205 for 2025, 1025) made a certificate valid for centuries or since the Middle Ages,
    and the consumer page showed it.  Raises ValueError (pydantic's model validators)."""
    if valid_until is not None and valid_until < valid_from:
        raise ValueError("valid_until is before valid_from")
    if valid_from < EARLIEST_VALIDITY:
        raise ValueError(f"valid_from {valid_from.isoformat()} is before {EARLIEST_VALIDITY.year}: check the year")
    if valid_from > datetime.now(UTC).date() + timedelta(days=366):  # not timeutil: the CLI's --help imports this
        raise ValueError(f"valid_from {valid_from.isoformat()} is more than a year ahead: check the year")
    if valid_until is not None and valid_until > LATEST_VALIDITY:
        raise ValueError(f"valid_until {valid_until.isoformat()} is after {LATEST_VALIDITY.year}: check the year")
