"""One place listing every domain router."""

from __future__ import annotations

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    from traceability_api.parties.router import router as parties

    app.include_router(parties)
