"""Builds the whole service: runtime (database, chain), FastAPI app, anchoring worker."""

from __future__ import annotations

from fastapi import FastAPI

from traceability_api.config import Settings
from traceability_api.main import create_app
from traceability_api.runtime import Runtime, build_runtime


def build_service(settings: Settings) -> tuple[FastAPI, Runtime]:
    runtime = build_runtime(settings)
    try:
        from traceability_api.anchoring.worker import attach_worker

        attach_worker(runtime)
        if settings.mqtt_url:
            from traceability_api.evidence.mqtt import attach_mqtt

            attach_mqtt(runtime)
        # uvicorn re-raises SIGTERM/SIGINT after shutdown, so stop the chain in the lifespan
        runtime.on_stop.append(runtime.close)
        app = create_app(runtime)
    except BaseException:
        runtime.close()
        raise
    return app, runtime
