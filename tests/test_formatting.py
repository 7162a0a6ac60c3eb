"""Numbers, units and quantities as people read them: one formatter and one unit table
(``consumer_site.formatting``) for the consumer pages, the workspace and the console
(``workspace.i18n`` passes its page's language on)."""

from __future__ import annotations

import babel.numbers
import pytest

from consumer_site import formatting as fmt
from traceability_api.workspace import i18n

NUMBERS = [(0, "0", "0"), (1500.5, "1.500,5", "1,500.5"), (28000, "28.000", "28,000"), (2.5, "2,5", "2.5"),
           (0.12345, "0,123", "0.123"), (-3, "-3", "-3"), (1e9, "1.000.000.000", "1,000,000,000")]  # fmt: skip


def test_one_number_formatter_parses_its_pattern_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The consumer pages' ``number`` called Babel's format_decimal, which parses "#,##0.###" at every
    call, beside the workspace's own ``number`` of the same pattern parsed once: one formatter now,
    the one that parses once, and the workspace's passes its page's language to it."""
    fmt.number.cache_clear()

    def parse_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the number pattern is parsed once, at import")

    monkeypatch.setattr(babel.numbers, "parse_pattern", parse_again)
    for x, vi, en in NUMBERS:
        assert (fmt.number(x, "vi"), fmt.number(x, "en")) == (vi, en)
        assert (i18n.number(x, "vi"), i18n.number(x, "en"), i18n.number(x, "fr")) == (vi, en, vi)
    assert fmt.quantity(1500.5, "KGM", "vi") == i18n.quantity(1500.5, "KGM", "vi") == "1.500,5 kg"
    assert fmt.count(2, "diary entry|diary entries", "en") == "2 diary entries"
