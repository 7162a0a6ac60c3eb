"""Bounds on untrusted JSON, checked before anything parses it (one place for HTTP bodies, MQTT
payloads and stored documents).

``json.loads`` recurses once per nesting level; importing web3 (py_ecc) raises Python's recursion
limit to 100,000, so a 140 KB body of ``[`` overflows the C stack and kills the process.  The scan
here is not recursive: escapes, then strings are cut out with regular expressions, the brackets left are mapped
to +1/-1 and summed with ``itertools.accumulate`` (C loops only).
"""

from __future__ import annotations

import json
import math
import re
import sys
from array import array
from itertools import accumulate
from typing import Any

MAX_JSON_BYTES = 10 * 1024 * 1024  # defaults; the service takes them from Settings
MAX_JSON_DEPTH = 32  # an EPCIS document with sensor reports nests about 10 deep
SANE_RECURSION_LIMIT = 3_000

_ESCAPE = re.compile(rb"\\.", re.DOTALL)  # a backslash and the byte it escapes (only inside strings)
_STRING = re.compile(rb'"[^"]*"')  # once escapes are gone, a string holds no quote
_NON_STANDARD = re.compile(rb"NaN|Infinity")  # Python's json accepts them; JSON and PostgreSQL do not
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")  # every byte but brackets: deleted
_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # opening +1, closing -1 (signed bytes)


class JsonTooLarge(ValueError):
    """The text is longer than allowed (HTTP 413)."""


class JsonRefused(ValueError):
    """The text nests too deep or holds a NUL character (HTTP 422)."""


def _strip_strings(raw: bytes) -> bytes:
    return _STRING.sub(b"", _ESCAPE.sub(b"", raw))


def _depth_of_stripped(stripped: bytes) -> int:
    return max(accumulate(array("b", stripped.translate(_STEP, _BRACKETS))), default=0)


def json_depth(raw: bytes) -> int:
    """Deepest nesting of arrays/objects in a JSON text, without recursion."""
    return _depth_of_stripped(_strip_strings(raw))


def check_json_bounds(raw: bytes, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> None:
    if len(raw) > max_bytes:
        raise JsonTooLarge(f"JSON of {len(raw):,} bytes exceeds the limit of {max_bytes:,} bytes")
    stripped = _strip_strings(raw)
    depth = _depth_of_stripped(stripped)
    if depth > max_depth:
        raise JsonRefused(f"JSON nested {depth} levels deep; at most {max_depth} levels are allowed")
    if _NON_STANDARD.search(stripped):
        raise JsonRefused("JSON has no NaN or Infinity: send numbers or null")
    if b"\\u0000" in raw and _NUL.search(raw):  # the substring test is ~50x faster than the regex
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


def shallow_copy_to(value: Any, max_depth: int | None = None) -> Any:
    """A JSON-ready copy of ``value``: everything nested deeper than ``max_depth`` (if given)
    replaced by a note, each non-finite float by its text (``"nan"``, ``"inf"``, ``"-inf"``: JSON
    has no such numbers); tuples become lists.  Iterative: safe on any depth."""
    note = f"(nested deeper than {max_depth} levels: not shown)"
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 1)]
    while stack:
        v, parent, key, depth = stack.pop()
        if isinstance(v, dict | list | tuple) and max_depth is not None and depth > max_depth:
            parent[key] = note
        elif isinstance(v, dict):
            parent[key] = out = dict.fromkeys(v)
            stack.extend((x, out, k, depth + 1) for k, x in v.items())
        elif isinstance(v, list | tuple):
            parent[key] = items = [None] * len(v)
            stack.extend((x, items, i, depth + 1) for i, x in enumerate(v))
        elif isinstance(v, float) and not math.isfinite(v):
            parent[key] = str(v)
        else:
            parent[key] = v
    return root[0]


def loads_stored(text: str | bytes) -> Any:
    """``json.loads`` for what the database holds: a document nested too deep for this process
    (written before the limits, or behind the service's back) reads as a note, not a crash."""
    try:
        return json.loads(text)
    except RecursionError:
        return {"agritrace:unreadable": "the stored document nests too deep to be read"}


def dumps_response(content: Any) -> bytes:
    """JSON for a response (stdlib encoder: no 255-level cap as in pydantic's); too deep to encode
    here means the deep parts are replaced by a note.  A non-finite number (NaN or an infinity,
    in documents stored before capture refused them) is sent as its text, ``"nan"``, ``"inf"`` or
    ``"-inf"``, the form the event hash reads it in: JSON has no such numbers, and writing them
    as bare ``NaN`` made the whole answer unreadable to a strict parser."""
    from pydantic_core import to_jsonable_python

    def dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=to_jsonable_python, allow_nan=False)

    try:
        try:
            text = dumps(content)
        except ValueError:  # a non-finite float
            text = dumps(shallow_copy_to(content))
    except RecursionError:
        text = dumps(shallow_copy_to(content, SANE_RECURSION_LIMIT // 4))
    return text.encode()


def check_event_bounds(event: Any, max_depth: int, max_bytes: int) -> None:
    """Capture refuses an event nested deeper or larger than allowed (documented in docs/vocabulary.md):
    every reader, hasher and verifier must be able to handle what is stored."""
    from traceability_api.errors import Invalid

    depth = value_depth(event)
    if depth > max_depth:
        raise Invalid(f"the event nests {depth} levels deep; at most {max_depth} levels are allowed")
    size = len(json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str).encode())
    if size > max_bytes:
        raise Invalid(f"the event takes {size:,} bytes as JSON; at most {max_bytes:,} are allowed")
