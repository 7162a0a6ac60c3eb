"""The FastAPI application: routers, error translation, lifespan (anchoring worker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse

from traceability_api.errors import DomainError
from traceability_api.health.router import router as health_router
from traceability_api.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for start in runtime.on_start:
            start()
        try:
            yield
        finally:
            for stop in runtime.on_stop:
                stop()

    app = FastAPI(
        title="AgriTrace",
        version="0.1.0",
        summary="Farm-product traceability: EPCIS 2.0 events anchored on a permissioned EVM chain",
        lifespan=lifespan,
    )
    app.state.runtime = runtime

    @app.exception_handler(DomainError)
    async def _domain_error(_req: Request, exc: DomainError) -> JSONResponse:
        body: dict[str, object] = {"detail": exc.message}
        if exc.details is not None:
            body["errors"] = exc.details
        return JSONResponse(status_code=exc.status_code, content=body)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", [])), "msg": str(e.get("msg", "")), "type": e.get("type")} for e in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        return JSONResponse(status_code=422, content={"detail": f"invalid request: {summary}", "errors": errors})

    from traceability_api.authority.audit_log import AuditLogMiddleware

    app.add_middleware(AuditLogMiddleware, engine=runtime.engine)
    app.add_middleware(GZipMiddleware, minimum_size=1024)  # consumer pages on slow mobile links: ~4x smaller
    app.include_router(health_router)
    from traceability_api.routers import include_routers

    include_routers(app)
    return app
