"""Bounds on untrusted JSON, checked before anything parses it (one place for HTTP bodies, MQTT
payloads and stored documents).

``json.loads`` recurses once per nesting level; importing web3 (py_ecc) raises Python's recursion
limit to 100,000, so a 140 KB body of ``[`` overflows the C stack and kills the process.  The scan
here is not recursive: strings are cut out with one regular expression, the brackets left are mapped
to +1/-1 and summed with ``itertools.accumulate`` (C loops only).
"""

from __future__ import annotations

import json
import re
import sys
from array import array
from itertools import accumulate
from typing import Any

MAX_JSON_BYTES = 10 * 1024 * 1024  # defaults; the service takes them from Settings
MAX_JSON_DEPTH = 32  # an EPCIS document with sensor reports nests about 10 deep
SANE_RECURSION_LIMIT = 3_000

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")  # every byte but brackets: deleted
_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # opening +1, closing -1 (signed bytes)


class JsonTooLarge(ValueError):
    """The text is longer than allowed (HTTP 413)."""


class JsonRefused(ValueError):
    """The text nests too deep or holds a NUL character (HTTP 422)."""


def json_depth(raw: bytes) -> int:
    """Deepest nesting of arrays/objects in a JSON text, without recursion."""
    steps = _STRING.sub(b"", raw).translate(_STEP, _BRACKETS)
    return max(accumulate(array("b", steps)), default=0)


def check_json_bounds(raw: bytes, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> None:
    if len(raw) > max_bytes:
        raise JsonTooLarge(f"JSON of {len(raw):,} bytes exceeds the limit of {max_bytes:,} bytes")
    depth = json_depth(raw)
    if depth > max_depth:
        raise JsonRefused(f"JSON nested {depth} levels deep; at most {max_depth} levels are allowed")
    if _NUL.search(raw):
        raise JsonRefused("text must not contain the NUL character (\\u0000)")


def parse_json_bounded(raw: bytes | str, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` after the size, depth and NUL checks; raises JsonTooLarge, JsonRefused or
    ValueError (not JSON)."""
    data = raw.encode() if isinstance(raw, str) else raw
    check_json_bounds(data, max_bytes, max_depth)
    return json.loads(data)


def value_depth(value: Any) -> int:
    """Nesting depth of an already parsed value (iterative; the same count as json_depth)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
        else:
            continue
        deepest = max(deepest, d)
    return deepest


def sane_recursion_limit(limit: int = SANE_RECURSION_LIMIT) -> None:
    """Undo py_ecc's recursion limit of 100,000 (set when web3 is imported): with it a deep
    structure overflows the C stack (a segfault) instead of raising RecursionError."""
    import py_ecc  # noqa: F401 - import first, so its limit cannot come back later

    if sys.getrecursionlimit() > limit:
        sys.setrecursionlimit(limit)
