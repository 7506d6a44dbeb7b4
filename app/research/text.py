"""Search text: one folded, canonical form of names and codes, and its trigram similarity.

Names and codes are stored beside a `search` copy made here at import time
(lower case, no diacritics, "đ" read as "d", every run of characters other
than a-z and 0-9 read as one space). Both databases compare only these
copies, so a query means the same on SQLite and on PostgreSQL. Similarity is
PostgreSQL pg_trgm's `similarity()`, reproduced exactly for this alphabet
(each word padded as "  word ", the set of its three-letter pieces, shared
pieces over all pieces, rounded to single precision as pg_trgm does), so the
same rows pass the same threshold and rank the same on both.
"""

from __future__ import annotations

import re
import struct
from functools import lru_cache
from typing import Final

from app.parsing import fold

FUZZY_THRESHOLD: Final = 0.3  # pg_trgm's default similarity threshold
_NOT_WORD: Final = re.compile(r"[^a-z0-9]+")


def search_text(text: str) -> str:
    """The search form of a name, code or query: "Đại đoàn Đồng Bằng" → "dai doan dong bang"."""
    return _NOT_WORD.sub(" ", fold(text)).strip()


@lru_cache(maxsize=4096)
def trigrams(text: str) -> frozenset[str]:
    """pg_trgm's trigrams of canonical search text: every word padded as "  word "."""
    found: set[str] = set()
    for word in text.split():
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(found)


def _single(value: float) -> float:
    """`value` rounded to single precision, as pg_trgm computes similarity (float4)."""
    result: float = struct.unpack("f", struct.pack("f", value))[0]
    return result


def similarity(text: str | None, query: str | None) -> float:
    """pg_trgm `similarity(text, query)` on canonical search text: shared / all trigrams."""
    if not text or not query:
        return 0.0
    a, b = trigrams(text), trigrams(query)
    shared = len(a & b)
    union = len(a) + len(b) - shared
    return _single(shared / union) if union else 0.0


def padded(text: str) -> str:
    """Search text laid out so that each pg_trgm trigram is a substring (for SQLite's FTS5).

    "dai doan" → "  dai   doan ": every word as "  word ", so a trigram index of
    substrings holds exactly the padded trigrams, and a substring of the search
    text stays a substring once its spaces are tripled.
    """
    return "  " + text.replace(" ", "   ") + " " if text else ""
