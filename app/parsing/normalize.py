"""Normalization of designations: a folded copy for the grammar, with offsets back to the input.

Records arrive with or without diacritics, in NFC or NFD, with "Ð" (U+00D0)
typed for "Đ", in either case. The grammar therefore matches a *folded* copy:
lower case, no diacritics, "đ" read as "d", odd spaces (no-break, thin) made
plain. Each folded character remembers the slice of the original input
it came from, so spans found on the folded copy map back to the input exactly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

# Letters that look like "Đ"/"đ" and are typed for it (Icelandic eth, African D),
# and Cyrillic capitals/smalls that a Russian keyboard layout produces for Latin ones.
_LOOKALIKES = str.maketrans(
    {
        "\u00d0": "d",  # Ð LATIN CAPITAL LETTER ETH
        "\u00f0": "d",  # ð
        "\u0110": "d",  # Đ
        "\u0111": "d",  # đ
        "\u0189": "d",  # Ɖ LATIN CAPITAL LETTER AFRICAN D
        "\u0256": "d",  # ɖ
        "\u0410": "a",
        "\u0412": "b",
        "\u0415": "e",
        "\u041a": "k",
        "\u041c": "m",
        "\u041d": "h",
        "\u041e": "o",
        "\u0420": "p",
        "\u0421": "c",
        "\u0422": "t",
        "\u0425": "x",
        "\u0430": "a",
        "\u0435": "e",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0445": "x",
    }
)

# Only "Đ" look-alikes are repaired in names: a name keeps its letters as written.
_NAME_LOOKALIKES = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111", "\u0189": "\u0110"})

_DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf"})  # marks and invisible format characters
_WHITESPACE_RUN = re.compile(r"\s+")


@lru_cache(maxsize=4096)  # bounded: clusters come from untrusted input
def _fold_cluster(cluster: str) -> str:
    """Fold one base character with its combining marks; may return "" or several characters."""
    if cluster.isspace():
        return " "
    out = unicodedata.normalize("NFKD", cluster).translate(_LOOKALIKES)
    out = "".join(c for c in out if unicodedata.category(c) not in _DROPPED_CATEGORIES).lower()
    # Lower-casing can bring marks back ("İ" -> "i" + U+0307); NFKD again and drop them.
    out = unicodedata.normalize("NFKD", out).translate(_LOOKALIKES)
    # Spacing marks (category Mc) still combine with their base: drop them too.
    out = "".join(
        c
        for c in out
        if unicodedata.category(c) not in _DROPPED_CATEGORIES and not unicodedata.combining(c)
    )
    return " " if out.isspace() else out


def fold_cluster_memo_clear() -> None:
    """Forget the folded clusters remembered so far (for benchmarks)."""
    _fold_cluster.cache_clear()


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Me")


def _build_one_to_one_table() -> tuple[dict[int, str], re.Pattern[str]]:
    """Latin-block characters that fold to exactly one character, and a regex of all others."""
    table: dict[int, str] = {}
    ranges = [(0x80, 0x250), (0x1E00, 0x1F00), (0x2000, 0x2030)]
    for low, high in ranges:
        for code in range(low, high):
            char = chr(code)
            if _is_mark(char):
                continue
            folded = _fold_cluster(char)
            if len(folded) == 1:
                table[code] = folded
    safe = "".join(re.escape(chr(code)) for code in sorted(table))
    return table, re.compile(f"[^\\x00-\\x7f{safe}]")


@cache
def _one_to_one() -> tuple[dict[int, str], re.Pattern[str]]:
    return _build_one_to_one_table()


@dataclass(frozen=True, slots=True, init=False)  # the written __init__ compiles (ast.py)
class Folded:
    """The folded copy of an input and, per folded character, its [start, end) in the input.

    Folded range [a, b) came from original range [starts[a], ends[b - 1]).
    `starts`/`ends` are None when the folding was one character for one character,
    the common case, so that the identity map costs nothing.
    """

    original: str
    text: str
    starts: tuple[int, ...] | None
    ends: tuple[int, ...] | None

    def __init__(
        self,
        original: str,
        text: str,
        starts: tuple[int, ...] | None = None,
        ends: tuple[int, ...] | None = None,
    ) -> None:
        object.__setattr__(self, "original", original)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "ends", ends)


def fold_for_parsing(text: str) -> Folded:
    """Fold `text` for the grammar, keeping a map from folded offsets to original offsets."""
    if text.isascii():
        return Folded(text, text.lower())
    table, unsafe = _one_to_one()
    if unsafe.search(text) is None:
        # Every character is ASCII or a precomposed Latin letter: one in, one out.
        return Folded(text, text.translate(table).lower())
    return _fold_by_cluster(text)


def _fold_by_cluster(text: str) -> Folded:
    """The general case: decomposed input, marks, characters that fold to zero or several."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        # A base character owns the combining marks that follow it (NFD input).
        while j < n and _is_mark(text[j]):
            j += 1
        folded = _fold_cluster(unicodedata.normalize("NFC", text[i:j]))
        for char in folded:
            pieces.append(char)
            starts.append(i)
            ends.append(j)
        i = j
    return Folded(text, "".join(pieces), tuple(starts), tuple(ends))


def fold(text: str) -> str:
    """Fold text into a match key: NFC, "Ð" read as "Đ", no diacritics, "đ"→"d", lower case.

    Whitespace runs become one space and the ends are stripped; invisible format
    characters are dropped and compatibility forms (full-width letters) are
    unified. Deterministic and idempotent: ``fold(fold(x)) == fold(x)``.
    """
    folded = fold_for_parsing(unicodedata.normalize("NFC", text)).text
    return _WHITESPACE_RUN.sub(" ", folded).strip()


def clean_name(raw: str) -> str:
    """A name as written, for display: NFC, "Ð" read as "Đ", whitespace runs collapsed."""
    name = unicodedata.normalize("NFC", raw).translate(_NAME_LOOKALIKES)
    return _WHITESPACE_RUN.sub(" ", name).strip()
