"""Vietnamese text in plain ASCII for US records: tone and vowel marks dropped, đ/Đ written d/D
("Xã Mỹ Hiệp, Đồng Tháp" → "Xa My Hiep, Dong Thap"), as Vietnamese names appear in English
documents.  Unicode decomposition (NFD) splits every precomposed letter into its base letter and
combining marks; đ and Đ are letters of their own (no decomposition), so they are mapped first."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_D = str.maketrans({"đ": "d", "Đ": "D"})


@lru_cache(maxsize=8192)  # names and addresses repeat on every row of a spreadsheet
def romanise(text: str | None) -> str:
    """``text`` without diacritics; other characters (digits, punctuation, Latin letters) unchanged."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", plain)
