"""Dates, numbers, quantities and plurals for the consumer pages, formatted for the page's language
by Babel (CLDR data), with every time shown in the zone it was recorded in."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import parse_pattern

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# the numeric date Vietnamese labels and papers use (05/02/2025); a month name in English ("Feb 5, 2025"),
# which readers on either side of the Atlantic parse alike
DATE_FORMAT = {"vi": "dd/MM/yyyy", "en": "medium"}
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")

Use = Literal["amount", "reading"]


class Words(NamedTuple):
    """A unit's words by language (a missing language falls back to English), for each use: after an
    amount, things counted or weighed ("500 con", "500 cái", "28.000 kg"), and after a sensor's reading
    where that differs ("pH 7,2": a pure number has no word; "25 °C" as after an amount)."""

    amount: dict[str, str]
    reading: dict[str, str] | None = None


NO_WORD = {"en": ""}
# UN/ECE Recommendation 20 unit codes as people read them.
# The one table: the consumer pages, the workspace, the console and the husbandry catalogue all word
# units through ``unit`` (exports, EPCIS documents and the API keep the codes)
UNITS: dict[str, Words] = {
    "KGM": Words({"en": "kg"}),
    "GRM": Words({"en": "g"}),
    "TNE": Words({"vi": "tấn", "en": "t"}),
    "LTR": Words({"vi": "lít", "en": "L"}),
    "MLT": Words({"en": "mL"}),
    "MTR": Words({"en": "m"}),
    "CEL": Words({"en": "°C"}),
    "P1": Words({"en": "%"}),
    "59": Words({"en": "‰"}),
    "H87": Words({"vi": "quả", "en": "pcs"}, NO_WORD),  # eggs; a pest trap's catch (its label says what)
    "NAR": Words({"vi": "con", "en": "head"}),  # animals: ducks, fry, broodstock
    "XPT": Words({"vi": "chậu", "en": "pots"}),  # Sa Đéc flowers and ornamentals
    "M1": Words({"en": "mg/L"}),  # dissolved oxygen, ammonia
    "C62": Words({"vi": "cái", "en": "units"}, NO_WORD),  # "one": things counted; pH and other pure numbers
    "EA": Words({"vi": "cái", "en": "each"}),
    "XBX": Words({"vi": "hộp", "en": "boxes"}),
    "XBG": Words({"vi": "bao", "en": "bags"}),
    "XCS": Words({"vi": "thùng", "en": "cases"}),  # a product unit the API offers (lots.models.UOMS): export cartons
    "XCT": Words({"vi": "thùng carton", "en": "cartons"}),
    "XPK": Words({"vi": "gói", "en": "packages"}),
    "XBO": Words({"vi": "chai", "en": "bottles"}),
    "DZN": Words({"vi": "tá", "en": "dozen"}),
}


def zone(offset: object) -> tzinfo:
    """The zone of an EPCIS ``eventTimeZoneOffset`` ("+07:00"); Vietnam's when absent or malformed."""
    m = _OFFSET.match(offset) if isinstance(offset, str) else None
    if m is None:
        return VN
    minutes = int(m[2]) * 60 + int(m[3])
    return timezone((-1 if m[1] == "-" else 1) * timedelta(minutes=minutes))


def day(d: date | datetime, lang: str, tz: tzinfo | None = None) -> str:
    """A calendar date (a datetime is first moved into ``tz``)."""
    if isinstance(d, datetime):
        d = d.astimezone(tz or VN).date()
    return format_date(d, DATE_FORMAT[lang], locale=lang)


def when(dt: datetime, lang: str, tz: tzinfo | None = None) -> str:
    """A moment as its local date and time where it was recorded."""
    local = dt.astimezone(tz or VN)
    return f"{day(local.date(), lang)} {format_time(local, 'short', tzinfo=local.tzinfo, locale=lang)}"


@lru_cache(maxsize=8)  # one a language
def locale(lang: str) -> Locale:
    return Locale.parse(lang)


# Babel's format_decimal parses the locale and the pattern at every call (about 20 us a number): a
# workspace page of 200 lots spent more on that than on its query.  Parsed once here, for every page.
_NUMBER = parse_pattern("#,##0.###")


@lru_cache(maxsize=4096)  # pure; the same quantities recur on every page (a lot's size, a dose)
def number(x: float, lang: str) -> str:
    """1500.5 -> "1.500,5" (vi) / "1,500.5" (en): at most three decimals, groups of thousands."""
    return str(_NUMBER.apply(x, locale(lang)))


def unit(code: str | None, lang: str, use: Use = "amount") -> str:
    """A UN/CEFACT unit code as people read it in ``use`` (KGM -> kg, TNE -> tấn / t; C62 -> cái
    after an amount, nothing after a reading); an unknown code as it is."""
    words = UNITS.get(code or "")
    if words is None:
        return code or ""
    names = (words.reading if use == "reading" else None) or words.amount
    return names.get(lang) or names["en"]


def quantity(x: float, code: str | None, lang: str, use: Use = "amount") -> str:
    """28000 KGM -> "28.000 kg" (vi) / "28,000 kg" (en); a reading of pH 7.2 (C62) -> "7,2"."""
    return f"{number(x, lang)} {unit(code, lang, use)}".strip()


def plural(n: int, forms: dict[str, str], lang: str) -> str:
    """``forms`` by CLDR plural category ("one", "other"); "other" is the fallback."""
    form = forms.get(locale(lang).plural_form(n)) or forms["other"]
    return f"{number(n, lang)} {form}"


def count(n: int, forms: str, lang: str) -> str:
    """``forms`` as "singular|plural" (one form in languages without plurals): 1 diary entry, 2 diary entries."""
    one, _, other = forms.partition("|")
    return plural(n, {"one": one, "other": other or one}, lang)
