"""Content negotiation (RFC 9110 section 12.5): which media type and which coding a client accepts,
and gzip for a response sent piece by piece.  Responses that set ``Content-Encoding`` themselves pass the app-wide
GZipMiddleware untouched: large streamed files (the FSMA spreadsheet) are compressed here, in the
worker thread that reads them with ISA-L, not in the event loop at zlib level 9."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from isal import isal_zlib  # Intel ISA-L deflate: ~1.4 GB/s at level 1 on CSV (zlib: ~300 MB/s), output smaller
from starlette.datastructures import Headers
from starlette.middleware import gzip as starlette_gzip
from starlette.types import Receive, Scope, Send

STREAM_GZIP_LEVEL = 1  # ISA-L's levels are 0-3; 1 is ~1.4 GB/s and ~12 % of the CSV's bytes


def _weighted(header: str | None) -> list[tuple[str, float]]:
    """The elements of an Accept or Accept-Encoding header, lower-cased, each with its weight
    (``q``, 1 when not given, kept within 0-1; a bad one counts as 0)."""
    out = []
    for part in (header or "").lower().split(","):
        name, *params = part.split(";")
        q = 1.0
        for p in params:
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = min(max(float(v), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        if name.strip():
            out.append((name.strip(), q))
    return out


def pick_language(query_lang: str | None, accept_language: str | None, offered: Sequence[str]) -> str:
    """``?lang=`` if it is one of ``offered`` (in any case), else the one of ``offered`` that
    Accept-Language weighs most (its primary subtag; equal weights in the header's order; ``q=0``
    refuses a language), else the first of ``offered``."""
    if query_lang and query_lang.lower() in offered:
        return query_lang.lower()
    ranked = sorted((-q, i, tag.split("-")[0]) for i, (tag, q) in enumerate(_weighted(accept_language)))
    return next((primary for neg_q, _, primary in ranked if neg_q < 0 and primary in offered), offered[0])


def choose(accept_encoding: str | None, codings: tuple[str, ...] = ("br", "gzip")) -> str:
    """The first of ``codings`` the client accepts, else ``identity``, honouring ``q=0`` refusals
    (RFC 9110 section 12.5.3)."""
    offered = dict(_weighted(accept_encoding))
    for coding in codings:
        if offered.get(coding, offered.get("*", 0.0)) > 0:
            return coding
    return "identity"


def media_ranges(accept: str) -> list[tuple[str, str, float]]:
    """The media ranges of an Accept header as (type, subtype, q), lower-cased; a bad q counts as 0."""
    out = []
    for media, q in _weighted(accept):
        kind, _, sub = media.partition("/")
        if kind and sub:
            out.append((kind, sub, q))
    return out


def quality(ranges: list[tuple[str, str, float]], media_type: str, *, named: bool = False) -> float:
    """q of ``media_type``: that of the most specific range matching it (RFC 9110 section 12.5.1);
    ``named``: only a range naming it exactly counts (a wildcard gives 0)."""
    kind, _, sub = media_type.partition("/")
    best, q = -1, 0.0
    for k, s, weight in ranges:
        rank = 2 if (k, s) == (kind, sub) else 1 if (k, s) == (kind, "*") else 0 if (k, s) == ("*", "*") else -1
        if rank > best and (rank == 2 or not named):
            best, q = rank, weight
    return q


def gzip_pieces(pieces: Iterable[bytes], level: int = STREAM_GZIP_LEVEL) -> Iterator[bytes]:
    """``pieces`` as one gzip member, compressed as they come (ISA-L releases the GIL while it works)."""
    z = isal_zlib.compressobj(level, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
    for piece in pieces:
        out = z.compress(piece)
        if out:
            yield out
    yield z.flush()


class GZipMiddleware(starlette_gzip.GZipMiddleware):
    """Starlette's app-wide gzip, deciding by ``choose`` (q-values) instead of looking for the text
    "gzip" anywhere in Accept-Encoding: ``gzip;q=0`` is a refusal, and got gzip all the same."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and choose(Headers(scope=scope).get("accept-encoding"), ("gzip",)) != "gzip":
            responder = starlette_gzip.IdentityResponder(
                self.app, self.minimum_size, exclude_content_types=tuple(self.exclude_content_types)
            )
            await responder(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
