"""Console plumbing: only members of authority organisations pass (others get 403, nobody signed in
goes to the sign-in form); pages render the console's templates, which extend the workspace's base,
with the workspace's security headers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader

from traceability_api.console import i18n
from traceability_api.console.sections import SECTIONS
from traceability_api.workspace import i18n as workspace_i18n
from traceability_api.workspace import web
from traceability_api.workspace.web import HERE as WORKSPACE_DIR
from traceability_api.workspace.web import Page, PageDep, PostDep

HERE = Path(__file__).resolve().parent


class NotAuthority(Exception):
    """A signed-in member of an organisation that is not an authority opened a console page."""


@dataclass(frozen=True)
class Console:
    page: Page

    @property
    def ct(self) -> dict[str, str]:
        return i18n.T[self.page.lang]


def _console(page: PageDep) -> Console:
    if not page.user.principal.is_authority:
        raise NotAuthority()
    return Console(page)


def _console_post(page: PostDep) -> Console:
    return _console(page)


ConsoleDep = Annotated[Console, Depends(_console)]
ConsolePostDep = Annotated[Console, Depends(_console_post)]  # a POST, CSRF checked


def month_label(month: str) -> str:
    """A figure's month (YYYY-MM, as the CSV and the form keep it) as people write it: 03/2025."""
    year, _, mm = month.partition("-")
    return f"{mm}/{year}" if mm else month


@lru_cache
def env() -> Environment:
    base = web.env()
    loader = ChoiceLoader([FileSystemLoader(HERE / "templates"), FileSystemLoader(WORKSPACE_DIR / "templates")])
    e = Environment(loader=loader, autoescape=base.autoescape, trim_blocks=True, lstrip_blocks=True)
    e.globals.update(base.globals, sections=SECTIONS)
    e.filters.update(base.filters, month=month_label)
    return e


def render(request: Request, template: str, console: Console, status: int = 200, **ctx: Any) -> HTMLResponse:
    page = console.page

    def when(value: datetime | str) -> str:
        """A time in the page's language and the province's time zone (ISO strings accepted)."""
        at = datetime.fromisoformat(value) if isinstance(value, str) else value
        return workspace_i18n.when(at, page.lang, page.settings.zone)

    return web.render(request, template, status, page=page, environment=env(), ct=console.ct, when=when, **ctx)
