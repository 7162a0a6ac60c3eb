"""EPCIS query schedules (EPCIS 1.2 ``QuerySchedule`` syntax, kept by the 2.0 REST binding): each of
``second``, ``minute``, ``hour``, ``dayOfMonth``, ``month``, ``dayOfWeek`` (1 = Monday ... 7 = Sunday)
is a comma list of numbers and ranges ``[a-b]``; an omitted field matches every value. A time matches
when every field matches (day of month *and* day of week). Times are UTC, to the whole second."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

FIELDS: dict[str, tuple[int, int]] = {
    "second": (0, 59), "minute": (0, 59), "hour": (0, 23),
    "dayOfMonth": (1, 31), "month": (1, 12), "dayOfWeek": (1, 7),
}  # fmt: skip
_ELEMENT = re.compile(r"(\d{1,2})|\[(\d{1,2})-(\d{1,2})\]")
HORIZON_DAYS = 366 * 29  # every (month, day, weekday) combination recurs within 28 years


class ScheduleError(ValueError):
    """A schedule that is malformed or never fires."""


@dataclass(frozen=True)
class Schedule:
    second: tuple[int, ...]
    minute: tuple[int, ...]
    hour: tuple[int, ...]
    day_of_month: frozenset[int]
    month: frozenset[int]
    day_of_week: frozenset[int]


def _field(name: str, raw: Any) -> tuple[int, ...]:
    lo, hi = FIELDS[name]
    if raw is None:
        return tuple(range(lo, hi + 1))
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 200:
        raise ScheduleError(f'schedule.{name} must be a non-empty string such as "1,5,[10-20]"')
    values: set[int] = set()
    for part in raw.split(","):
        m = _ELEMENT.fullmatch(part.strip())
        if m is None:
            raise ScheduleError(f"schedule.{name}: {part.strip()!r} is neither a number nor a range [a-b]")
        a, b = (int(m[1]), int(m[1])) if m[1] is not None else (int(m[2]), int(m[3]))
        if not lo <= a <= hi or not lo <= b <= hi:
            raise ScheduleError(f"schedule.{name}: {part.strip()!r} is outside {lo}-{hi}")
        if a > b:
            raise ScheduleError(f"schedule.{name}: range {part.strip()!r} runs backwards")
        values.update(range(a, b + 1))
    return tuple(sorted(values))


def parse(raw: Any) -> Schedule:
    """The schedule of a subscription body; ``ScheduleError`` (with the reason) when invalid or never due."""
    if not isinstance(raw, dict):
        raise ScheduleError("schedule must be an object with second, minute, hour, dayOfMonth, month, dayOfWeek")
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise ScheduleError(f"schedule: unknown field {unknown[0]!r}")
    f = {name: _field(name, raw.get(name)) for name in FIELDS}
    s = Schedule(f["second"], f["minute"], f["hour"], frozenset(f["dayOfMonth"]), frozenset(f["month"]),
                 frozenset(f["dayOfWeek"]))  # fmt: skip
    next_fire(s, datetime(2000, 1, 1, tzinfo=UTC))  # refuses a schedule that never fires (30 February)
    return s


def _day_matches(s: Schedule, d: date) -> bool:
    return d.month in s.month and d.day in s.day_of_month and d.isoweekday() in s.day_of_week


def next_fire(s: Schedule, after: datetime) -> datetime:
    """The first whole second strictly after ``after`` (UTC) that the schedule matches."""
    t = after.astimezone(UTC).replace(microsecond=0, tzinfo=None) + timedelta(seconds=1)
    day = t.date()
    for _ in range(HORIZON_DAYS):
        if _day_matches(s, day):
            start = (t.hour, t.minute, t.second) if day == t.date() else (0, 0, 0)
            for h in s.hour:
                if h < start[0]:
                    continue
                for m in s.minute:
                    if (h, m) < start[:2]:
                        continue
                    for sec in s.second:
                        if (h, m, sec) >= start:
                            return datetime(day.year, day.month, day.day, h, m, sec, tzinfo=UTC)
        day += timedelta(days=1)
    raise ScheduleError("schedule never fires (no date has that day of month, month and day of week)")
