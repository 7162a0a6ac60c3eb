"""One page of a console list, the one rule for every list that shows "page n / N": the page asked
for is clamped to the pages there are (below 1: the first; past the end: the last), so a stale or
edited link still shows a page.  The template macro ``pager`` (console_macros.html) draws the links."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pages:
    page: int  # 1-based, within 1..pages
    pages: int  # at least 1 (an empty list has one, empty, page)
    total: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def pages_of(total: int, page: int, size: int) -> Pages:
    """Page ``page`` of ``total`` rows, ``size`` a page, clamped to the pages there are."""
    pages = max(1, -(-total // size))
    return Pages(min(max(page, 1), pages), pages, total, size)


def page_holding(position: int, size: int) -> int:
    """The page on which the row at 0-based ``position`` of the list is shown."""
    return position // size + 1
