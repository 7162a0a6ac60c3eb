"""Timezone-aware UTC timestamps in every database (SQLite keeps no zone, so we store UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def in_utc_range(t: datetime) -> bool:
    """Whether an aware time stays within the years 1-9999 once in UTC, as the database compares
    and stores it (0001-01-01T00:00+14:00 is year 0 there: OverflowError, a 500 if not checked)."""
    try:
        t.astimezone(UTC)
    except OverflowError:
        return False
    return True


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
