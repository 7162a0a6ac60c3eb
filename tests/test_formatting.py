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


def test_a_unit_has_a_word_for_each_use() -> None:
    """C62 ("one") and H87 ("piece") had one word, for a count: a pH reading (C62) said "7,2 cái" on
    the consumer page. A count says its things ("500 con", "500 cái", "3.000 quả"); a reading says its
    measure (°C, mg/L) and nothing after a pure number (pH, a pest trap's catch)."""
    assert fmt.quantity(500, "NAR", "vi") == "500 con" and fmt.quantity(500, "C62", "vi") == "500 cái"
    assert fmt.quantity(3000, "H87", "vi") == "3.000 quả" and fmt.quantity(3000, "H87", "en") == "3,000 pcs"
    assert fmt.quantity(7.2, "C62", "vi", "reading") == "7,2" and fmt.quantity(7.2, "C62", "en", "reading") == "7.2"
    assert fmt.quantity(12, "H87", "vi", "reading") == "12" and fmt.unit("C62", "vi", "reading") == ""
    for code, vi in (("CEL", "°C"), ("M1", "mg/L"), ("P1", "%"), ("59", "‰"), ("MTR", "m")):  # the sensors' others
        assert fmt.unit(code, "vi", "reading") == fmt.unit(code, "vi") == vi
    assert fmt.quantity(25.5, "CEL", "vi", "reading") == "25,5 °C"
    assert fmt.unit("ZZZ", "vi", "reading") == "ZZZ" and fmt.unit(None, "en", "reading") == ""
    assert i18n.quantity(7.2, "C62", "vi", "reading") == "7,2" and i18n.unit("C62", "en") == "units"


def test_every_sensor_reads_in_the_tables_words() -> None:
    """Each sensor kind's unit (evidence.models.KINDS) has the table's words: no code on a page."""
    from traceability_api.evidence.models import KINDS

    for kind, (_, _, code, _) in KINDS.items():
        assert code in fmt.UNITS, kind
        assert code not in fmt.unit(code, "vi", "reading") + fmt.unit(code, "en", "reading"), kind
