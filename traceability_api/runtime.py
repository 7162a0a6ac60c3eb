"""Everything the service needs at run time, built once at start: settings, database engine
(migrated), chain connection.  Bad configuration surfaces here as one ConfigError."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from traceability_api.anchoring.chain_runtime import ChainRuntime, start_chain
from traceability_api.config import Settings
from traceability_api.db import make_engine, migrate


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    chain: ChainRuntime | None = None
    extras: dict[str, object] = field(default_factory=dict)

    def close(self) -> None:
        for close in self.extras.pop("on_close", []):  # type: ignore[attr-defined]
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
