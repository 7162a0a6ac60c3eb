"""ASGI entry point for running several API workers:

    uvicorn traceability_api.asgi:app_factory --factory --workers 4

With several workers use PostgreSQL and an external chain (CHAIN_RPC_URL) or
AGRITRACE_CHAIN_ENABLED=false; the anchoring worker lease keeps one active anchorer.
"""

from __future__ import annotations

from fastapi import FastAPI

from traceability_api.compose import build_service
from traceability_api.config import get_settings


def app_factory() -> FastAPI:
    app, _runtime = build_service(get_settings())
    return app
