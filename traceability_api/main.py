"""The FastAPI application: routers, error translation, lifespan (anchoring worker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DataError, StatementError

from traceability_api.api_docs import install as install_api_docs
from traceability_api.body_limits import BodyLimitMiddleware
from traceability_api.content_coding import GZipMiddleware
from traceability_api.errors import DomainError, Unauthorized
from traceability_api.health.router import router as health_router
from traceability_api.limits import sane_recursion_limit
from traceability_api.ratelimit import RateLimitMiddleware
from traceability_api.runtime import Runtime

API_DESCRIPTION = (
    "Authenticate with `Authorization: Bearer <API key>` (the **Authorize** button), or `X-API-Key`. "
    "Get a first key with `agritrace create-org --name ... --kind cooperative`. Errors are JSON: "
    "`detail` says what is wrong and, for invalid input, `errors` lists each problem."
)


def create_app(runtime: Runtime) -> FastAPI:
    sane_recursion_limit()  # web3 (py_ecc) raised it to 100,000: deep input would overflow the C stack

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for start in runtime.on_start:
            start()
        try:
            yield
        finally:
            for stop in runtime.on_stop:
                stop()

    app = FastAPIOffline(  # Swagger UI and ReDoc from local assets: /docs works offline
        title="AgriTrace",
        version="0.1.0",
        summary="Farm-product traceability: EPCIS 2.0 events anchored on a permissioned EVM chain",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        redoc_url=None,  # added by install_api_docs: ReDoc without its remote logo
        swagger_ui_parameters={"persistAuthorization": True},
    )
    install_api_docs(app)
    app.state.runtime = runtime

    _install_error_handlers(app)

    from traceability_api.authority.write_log import WriteLogMiddleware
    from traceability_api.idempotent_writes import install as install_idempotency

    install_idempotency(app, runtime)  # innermost: a replay answers the stored response without the route
    app.add_middleware(WriteLogMiddleware, engine=runtime.engine)
    app.add_middleware(GZipMiddleware, minimum_size=1024)  # consumer pages on slow mobile links: ~4x smaller
    settings = runtime.settings
    from traceability_api.workspace.web import too_large_page

    app.add_middleware(
        BodyLimitMiddleware, json_max_bytes=settings.json_max_bytes, json_max_depth=settings.json_max_depth,
        upload_max_bytes=settings.attachment_max_bytes, page_refusal=too_large_page,
    )  # fmt: skip
    if settings.rate_limit_enabled:  # outermost: a throttled client costs no body reading
        app.add_middleware(
            RateLimitMiddleware, public=settings.rate_public, auth_failures=settings.rate_auth_failures,
            storage_url=settings.rate_storage_url,
        )  # fmt: skip
    from traceability_api.ops.requests import RequestMiddleware

    app.add_middleware(RequestMiddleware)  # outermost: every answer, even a throttled one, has an id and a metric
    app.include_router(health_router)
    from traceability_api.routers import include_routers

    include_routers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    """Every refusal is a JSON body with ``detail`` (and ``errors`` where there are several)."""

    @app.exception_handler(DomainError)
    async def _domain_error(_req: Request, exc: DomainError) -> Response:
        if exc.html is not None:  # a shopper's browser: the page in their language, same status
            return HTMLResponse(exc.html, status_code=exc.status_code, headers={"Cache-Control": "no-store"})
        body: dict[str, object] = {"detail": exc.message}
        if exc.details is not None:
            body["errors"] = exc.details
        headers = {"WWW-Authenticate": exc.challenge} if isinstance(exc, Unauthorized) and exc.challenge else None
        return JSONResponse(status_code=exc.status_code, content=body, headers=headers)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(_req: Request, exc: Exception) -> JSONResponse:
        # the last guard: a number or text the database cannot hold is the client's error, not ours
        detail = (
            "a value cannot be stored or compared: a number out of range, a time that is not between the years"
            " 1 and 9999 once in UTC, a text too long or holding NUL"
        )
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(StatementError)
    async def _unbindable(req: Request, exc: StatementError) -> JSONResponse:
        # SQLAlchemy wraps what a column type raises while binding a parameter (UTCDateTime turning
        # 0001-01-01T00:00+14:00 into UTC: OverflowError) in a StatementError: the same client error
        if isinstance(exc.orig, OverflowError):
            return await _out_of_range(req, exc.orig)
        raise exc

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_req: Request, exc: RequestValidationError) -> Response:
        from traceability_api.workspace.web import bad_request_page, from_a_person

        if from_a_person(_req):
            return bad_request_page(_req)  # a person's browser: a page in their language, not JSON
        errors = [
            {"loc": list(e.get("loc", [])), "msg": str(e.get("msg", "")), "type": e.get("type")} for e in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        return JSONResponse(status_code=422, content={"detail": f"invalid request: {summary}", "errors": errors})
