"""Completeness of national traceability records by organisation, for a period (GET form: works
without JavaScript); the figures come from ``national.completeness.completeness_by_org``."""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from traceability_api.console.web import ConsoleDep, render
from traceability_api.deps import SessionDep
from traceability_api.national.completeness import completeness_by_org
from traceability_api.national.items import ITEMS
from traceability_api.timeutil import in_utc_range

router = APIRouter(include_in_schema=False)


def _day(text: str | None, zone: tzinfo) -> datetime | None:
    """Midnight of a form's day (YYYY-MM-DD) in the service's zone; ValueError if it is not one."""
    if not text:
        return None
    day = datetime.combine(date.fromisoformat(text[:10]), time(0), zone)
    if not in_utc_range(day):  # 0001-01-01 here is year 0 in UTC: a day the database cannot compare (a 500 before)
        raise ValueError(text)
    return day


@router.get("/app/console/national-record")
def national_records(
    request: Request, console: ConsoleDep, session: SessionDep, since: str | None = None, until: str | None = None
) -> Response:
    zone = console.page.settings.zone
    try:
        start, end = _day(since, zone), _day(until, zone)
        error = None
    except ValueError:
        start = end = None
        error = console.ct["nr_bad_date"]
    if start is not None and end is not None and start >= end:
        start = end = None
        error = console.ct["nr_bad_range"]  # as the export API's 422 'since must be before until'
    rows = completeness_by_org(session, since=start, until=end)
    i = 1 if console.page.lang == "en" else 0
    labels = {code: names[i] for code, names in ITEMS.items()}
    export = "/api/v1/exports/national-record" + (f"?since={start.isoformat()}" if start else "")
    status = 422 if error else 200
    return render(request, "console_national_record.html", console, status, rows=rows, labels=labels,
                  since=since or "", until=until or "", error=error, export=export)  # fmt: skip
