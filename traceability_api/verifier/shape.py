"""The shape of a proof bundle, checked before any record is: every member the verifier reads has
the type it reads it as (a JSON object where it looks members up, a list where it walks one, a
0x-prefixed 32-byte hex string where it decodes a hash).  A bundle edited by hand, truncated into
other JSON or written by another tool gets one line per problem naming where it is, not a
traceback.  Members the verifier does not read are left alone (a bundle may carry more)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

Hex32 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")]
MAX_PROBLEMS = 20  # lines of a malformed bundle's report; the rest are counted


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _Anchoring(_Open):
    """The proof part of a record (an event, a correction, a disclosure commitment)."""

    status: str | None = None
    leaf: str | None = None
    proof: list[Hex32] = []
    batch: int | str | None = None


class _Revealed(_Open):
    salt: str
    path: str
    value: Any = None
    proof: list[str]


class _Disclosure(_Anchoring):
    root: str = ""
    digest: str | None = None
    revealed: list[_Revealed] = []


class _Event(_Anchoring):
    event: dict[str, Any] = {}
    hashId: str = ""  # noqa: N815 - the bundle's member names
    hashRule: int = 1  # noqa: N815
    disclosure: _Disclosure | None = None
    signature: Any = None


class _Correction(_Anchoring):
    eventHashId: str = ""  # noqa: N815
    errorDeclaration: dict[str, Any] = {}  # noqa: N815
    digest: str | None = None


class _Batch(_Open):
    root: Hex32
    txHash: str  # noqa: N815
    blockNumber: int  # noqa: N815


class _Chain(_Open):
    chainId: int | None = None  # noqa: N815
    contractAddress: str | None = None  # noqa: N815


class _Lot(_Open):
    uri: str = "?"


class _Bundle(_Open):
    format: str | None = None
    version: int | None = None
    lot: _Lot = _Lot()
    chain: _Chain = _Chain()
    batches: dict[str, _Batch] = {}
    events: list[_Event] = []
    corrections: list[_Correction] = []


_WHAT = {
    "string_pattern_mismatch": "is not a 0x-prefixed 32-byte hex string",
    "missing": "is missing",
    "dict_type": "is not a JSON object",
    "model_type": "is not a JSON object",
    "model_attributes_type": "is not a JSON object",
    "list_type": "is not a list",
    "string_type": "is not a string",
    "int_type": "is not an integer",
}


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {"int", "str", "none"} or "[" in part:  # the union member tried, not a place
            continue
        else:
            out += f".{part}" if out else part
    return out or "the bundle"


def _one_of(whats: list[str]) -> str:
    """One line for a place: a member that may be one of several types fails as each of them."""
    whats = list(dict.fromkeys(whats))
    if len(whats) > 1 and all(w.startswith("is not ") for w in whats):
        return "is neither " + " nor ".join(w.removeprefix("is not ") for w in whats)
    return "; ".join(whats)


def member(bundle: Any, *path: str) -> Any:
    """The value at ``path`` (object members), or None where the bundle has no object to look in."""
    for name in path:
        if not isinstance(bundle, dict):
            return None
        bundle = bundle.get(name)
    return bundle


def shape_problems(bundle: dict[str, Any]) -> list[str]:
    """What is wrong with the bundle's shape, one line per place (empty: the verifier can read it)."""
    try:
        _Bundle.model_validate(bundle)
    except ValidationError as exc:
        found: dict[str, list[str]] = {}
        for err in exc.errors(include_url=False, include_input=False):
            what = _WHAT.get(err["type"], err["msg"])
            found.setdefault(_where(tuple(err["loc"])), []).append(what)
        lines = [f"{where} {_one_of(whats)}" for where, whats in found.items()]
        if len(lines) > MAX_PROBLEMS:
            lines = [*lines[:MAX_PROBLEMS], f"... and {len(lines) - MAX_PROBLEMS} more"]
        return lines
    return []
