"""Everything the service needs at run time, built once at start: settings, database engine
(migrated), chain connection.  Bad configuration surfaces here as one ConfigError."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from traceability_api.anchoring.chain_runtime import ChainRuntime, start_chain
from traceability_api.config import Settings
from traceability_api.db import make_engine, migrate


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    chain: ChainRuntime | None = None
    on_start: list[Callable[[], None]] = field(default_factory=list)  # run by the app's lifespan
    on_stop: list[Callable[[], None]] = field(default_factory=list)  # run by the app's lifespan
    on_close: list[Callable[[], None]] = field(default_factory=list)  # run by close()
    extras: dict[str, Any] = field(default_factory=dict)  # per-runtime singletons (worker, caches)

    def close(self) -> None:
        closers, self.on_close = self.on_close, []
        for close in closers:
            close()
        if self.chain is not None:
            self.chain.close()
            self.chain = None
        self.engine.dispose()


def build_runtime(settings: Settings, *, with_chain: bool | None = None) -> Runtime:
    engine = make_engine(settings.effective_database_url)
    try:
        migrate(engine)
        chain = None
        if settings.chain_enabled if with_chain is None else with_chain:
            chain = start_chain(settings, engine)
    except BaseException:
        engine.dispose()
        raise
    return Runtime(settings=settings, engine=engine, chain=chain)
