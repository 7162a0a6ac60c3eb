"""What every command shares: the Typer apps, clean error exits, settings, progress display."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from traceability_api.config import Settings
    from traceability_api.runtime import Runtime

# plain click help: typer's rich help formatting alone costs more than the rest of `agritrace --help`
app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="AgriTrace traceability service", rich_markup_mode=None
)
chain_app = typer.Typer(no_args_is_help=True, help="Chain and contract operations", rich_markup_mode=None)
app.add_typer(chain_app, name="chain")

F = TypeVar("F", bound=Callable[..., Any])
Progress = Callable[[str, int, int], None]  # (phase, done, total)


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"agritrace: error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def clean_errors(fn: F) -> F:
    """Known failures become one line on stderr: 2 for configuration, 1 for refused input (and a
    file that cannot be read or written)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pydantic import ValidationError

        from chain.errors import ChainError
        from traceability_api.errors import AgriTraceError, ConfigError

        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            first = exc.errors()[0]
            what = "setting" if exc.title == "Settings" else "value"
            fail(f"bad {what} {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
        except (ConfigError, ChainError) as exc:
            fail(str(exc))
        except AgriTraceError as exc:
            fail(str(exc), 1)
        except OSError as exc:  # a file to write in a directory that does not exist, a full disk ...
            fail(f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror or str(exc), 1)

    return wrapper  # type: ignore[return-value]


def settings(**overrides: Any) -> Settings:
    from traceability_api.config import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@contextmanager
def progress(description: str) -> Iterator[Progress]:
    """A rich progress bar on stderr (hidden when stderr is not a terminal): yields a callback
    ``(phase, done, total)`` the long-running service code calls as it goes."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    console = Console(stderr=True)
    with Bar(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(f"{description}: {phase}", total=total or None)
            bar.update(tasks[phase], completed=done, total=total or None)

        yield update


def summary(title: str, rows: dict[str, object], *, ok: bool = True) -> None:
    """The closing summary of a long command, as a small table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, title_style="bold green" if ok else "bold red")
    for key, value in rows.items():
        table.add_row(key, str(value))
    Console(soft_wrap=True).print(table)


def read_only_runtime(cfg: Settings) -> Runtime:
    """Database and chain for reading only: no key password; beside a running service, its node."""
    from traceability_api.anchoring.chain_runtime import attach_read_only
    from traceability_api.compose import build_runtime

    runtime = build_runtime(cfg, with_chain=False)
    try:
        runtime.chain = attach_read_only(cfg, runtime.engine) if cfg.chain_enabled else None
    except BaseException:
        runtime.close()
        raise
    return runtime
