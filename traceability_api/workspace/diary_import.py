"""Importing a diary spreadsheet: each row becomes a ``DiaryEntry`` and an event through the API's
own path (``diary_event``, ``capture_events`` with the runtime's capture checks: banned
substances, pre-harvest intervals...), so a row is refused for the same reasons as a form.

Each row is first tried in a transaction that is rolled back (its refusals, in the page's
language, make the per-row report); then either nothing is stored (``mode="all"`` with any row
refused) or the accepted rows are captured together in one transaction."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from sqlmodel import Session

from traceability_api.config import Settings
from traceability_api.errors import DomainError
from traceability_api.events.capture import DEFAULT_CONTEXT, EventCheck, capture_events
from traceability_api.evidence.diary import DiaryEntry, diary_event
from traceability_api.parties.service import Principal
from traceability_api.workspace import i18n, views
from traceability_api.workspace.messages import from_domain, from_validation
from traceability_api.workspace.numbers import plain

Mode = Literal["all", "valid"]
WORDS = {
    "vi": {
        "too_big": "Tệp quá lớn.", "too_many_rows": "Bảng có quá nhiều dòng.", "empty": "Bảng không có dòng nào.",
        "unreadable": "Không đọc được tệp: hãy dùng tệp .xlsx tải từ mẫu.", "no_plot": "Không có lô đất này.",
        "no_activity": "Không có công việc này trong danh sách.",
    },
    "en": {
        "too_big": "The file is too large.", "too_many_rows": "The sheet has too many rows.",
        "empty": "The sheet has no rows.", "unreadable": "Cannot read the file: use an .xlsx made from the template.",
        "no_plot": "No such plot.", "no_activity": "No such activity in the list.",
    },
}  # fmt: skip


@dataclass
class RowResult:
    row: int
    errors: dict[str, str] = field(default_factory=dict)  # column -> message, "_form" for the row

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Report:
    mode: Mode
    rows: list[RowResult]
    stored: int = 0

    @property
    def refused(self) -> int:
        return sum(1 for r in self.rows if not r.ok)


def import_rows(
    session: Session, p: Principal, rows: list[tuple[int, dict[str, Any]]], mode: Mode, settings: Settings,
    checks: Sequence[EventCheck], lang: str,
) -> Report:  # fmt: skip
    plots = _plot_index(session, p)
    activities = _activity_index()
    report, accepted = Report(mode, []), []
    for n, cells in rows:
        result, event = RowResult(n), None
        try:
            event = _event(session, p, cells, plots, activities, settings, lang, result)
            if event is not None:
                capture_events(session, p, [event], DEFAULT_CONTEXT, settings, checks=checks)
        except DomainError as exc:
            result.errors.update(from_domain(exc, lang))
        finally:
            session.rollback()  # a trial: nothing of it stays
        report.rows.append(result)
        if result.ok and event is not None:
            accepted.append(event)
    if not accepted or (mode == "all" and report.refused):
        return report
    capture_events(session, p, accepted, DEFAULT_CONTEXT, settings, checks=checks)  # the router commits
    report.stored = len(accepted)
    return report


def _event(
    session: Session, p: Principal, cells: dict[str, Any], plots: dict[str, int], activities: dict[str, str],
    settings: Settings, lang: str, result: RowResult,
) -> dict[str, Any] | None:  # fmt: skip
    plot_id = plots.get(_key(str(cells.get("plot", ""))))
    if plot_id is None:
        result.errors["plot"] = WORDS[lang]["no_plot"] if cells.get("plot") else i18n.T[lang]["required"]
    activity = activities.get(_key(str(cells.get("activity", ""))))
    if activity is None and cells.get("activity"):
        result.errors["activity"] = WORDS[lang]["no_activity"]
    values = {k: v for k, v in cells.items() if v != "" and k not in ("plot", "activity")}
    if activity is not None:
        values["activity"] = activity
    for k in ("dose", "area_ha"):
        if isinstance(values.get(k), str):
            values[k] = plain(values[k], lang)  # as the pages write numbers: "1,5", "1.000,5"
    try:
        entry = DiaryEntry.model_validate(values)
    except ValidationError as exc:
        for k, msg in from_validation(exc, lang).items():
            result.errors.setdefault(k, msg)
        return None
    if result.errors or plot_id is None:
        return None
    return diary_event(session, p, plot_id, entry, settings.zone)


def _key(name: str) -> str:
    """A name as a cell and a plot are matched: case-insensitive, and one Unicode form (NFC).  A
    sheet filled on a PC with Unikey's "Unicode tổ hợp" writes Vietnamese letters combining (NFD),
    and "Ruộng ông Tư" so typed was "Không có lô đất này." for the plot made on a phone."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def _plot_index(session: Session, p: Principal) -> dict[str, int]:
    """A plot named in a cell by its id, planting-area code or name (case-insensitive)."""
    out: dict[str, int] = {}
    for pl in views.plots(session, p):
        assert pl.id is not None
        for name in (pl.name, pl.planting_area_code, str(pl.id)):
            if name:
                out.setdefault(_key(name), pl.id)
    return out


def _activity_index() -> dict[str, str]:
    out: dict[str, str] = {}
    for lang_words in i18n.ACTIVITIES.values():
        for key, name in lang_words.items():
            out[_key(key)] = key
            out[_key(name)] = key
    return out
