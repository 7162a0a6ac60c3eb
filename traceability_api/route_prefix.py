"""Routers asked only about paths under their prefix.

FastAPI tries the included routers in turn, and each tries its routes one by one (a regex and some
bookkeeping, ~4 µs a route): a workspace page, included after the API, went through ~160 API
routes before its own (~0.3 ms of a 3.5 ms page).  ``include`` puts a gate in front of a router
whose routes share a prefix: a path outside it is refused with one ``startswith``, a path inside
it goes to the router as before.  The order of the routes is kept, so the same route wins."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send


class PrefixGate(BaseRoute):
    def __init__(self, inner: BaseRoute, prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket") and not get_route_path(scope).startswith(self.prefix):
            return Match.NONE, {}
        return self.inner.matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.inner.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        return self.inner.url_path_for(name, **path_params)

    def __repr__(self) -> str:
        return f"PrefixGate({self.prefix!r}, {self.inner!r})"


def common_prefix(paths: Iterable[str]) -> str:
    """The literal start every path shares, up to its first path parameter."""
    prefix = os.path.commonprefix(list(paths))
    return prefix.split("{", 1)[0]


def include(app: FastAPI, router: APIRouter) -> None:
    """``app.include_router(router)``, gated by the prefix of the router's routes when they share one."""
    before = len(app.router.routes)
    app.include_router(router)
    paths = [getattr(r, "path", "") for r in router.routes]
    prefix = common_prefix(paths) if paths else ""
    if len(prefix) > 1 and len(app.router.routes) == before + 1:
        app.router.routes[before] = PrefixGate(app.router.routes[before], prefix)


def plain(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """The routes without their gates (for FastAPI's OpenAPI generator, which walks included routers)."""
    return [r.inner if isinstance(r, PrefixGate) else r for r in routes]
