"""Text from old Vietnamese spreadsheets in the TCVN3 (ABC) and VNI-Windows encodings.

Such files were typed with 8-bit fonts; read as Windows-1252/Latin-1 they become
mojibake such as "§¹i ®éi" (TCVN3) or "Ñaïi ñoäi" (VNI) for "Đại đội". A legacy
string here is that mojibake: one character per byte, U+0000-U+00FF.

Sources of the tables:

- TCVN3 is TCVN 5712:1993, table VN3 (the ".Vn" ABC fonts). The codes are those of
  the standard as implemented by the GNU C Library's iconv charset TCVN5712-1
  (glibc `iconvdata/tcvn5712-1.c`; its VN1 table is a superset of VN3 with the same
  code for every letter below; tests/test_legacy.py checks every code against it
  where iconv is installed). They agree with duydev/vietnamese-conversion,
  `src/charsets.ts`, array `TCVN3`.
- VNI is VNI-Windows as listed in duydev/vietnamese-conversion, `src/charsets.ts`,
  array `VNI`. VNI writes most letters as a base letter followed by a mark byte;
  the tables below state that scheme, and the letters they give were checked one by
  one against that list (all 134); the tests pin a sample of them.

Upper case in TCVN3: VN3 encodes only lower-case letters plus Ă Â Ê Ô Ơ Ư Đ.
Capitals with a tone mark were typed with the lower-case codes and shown as
capitals by the separate upper-case fonts (.VnTimeH and the like), so the bytes
carry no case. As many converters do, `to_legacy` writes such a capital with the
lower-case code and `from_legacy` reads it back as lower case: case is lost for
those letters. The VN1-only positions for capitals (0x80-0x9F and a few others)
are not decoded; they do not occur in VN3 text.

VNI distinguishes case: capitals use the capital base letter and a capital mark
byte (0x20 below the small one). `from_legacy` also accepts a mark byte of the
other case, in case a file mixes them.

Detection is a heuristic. It never fires on text holding a letter or combining mark
beyond Latin-1 (Unicode Vietnamese has ơ, ư, đ or ạ in almost every phrase; NFD text
has combining marks), nor on ASCII. Otherwise it counts what ordinary Vietnamese
never shows: Latin-1 symbols and letters foreign to it (§ ® µ ï ñ ...), VNI
base-and-mark pairs ("aï") and words that are not Vietnamese syllables. It picks the
encoding whose decoding removes most of those, if the words that decoding produces
mostly spell syllables. A tie gives None: "ñi" is "đi" in VNI and "ủi" in TCVN3, so
such a string is left alone rather than guessed.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from typing import Final


class LegacyEncoding(StrEnum):
    """A pre-Unicode Vietnamese encoding."""

    TCVN3 = "tcvn3"
    VNI = "vni"


# --- TCVN3 (TCVN 5712:1993 VN3) -------------------------------------------------

_TCVN3_CODES: Final[dict[str, int]] = {
    # capitals with a code of their own
    "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7,
    # small letters without a tone mark
    "ă": 0xA8, "â": 0xA9, "ê": 0xAA, "ô": 0xAB, "ơ": 0xAC, "ư": 0xAD, "đ": 0xAE,
    # grave, hook, tilde, acute, dot below
    "à": 0xB5, "ả": 0xB6, "ã": 0xB7, "á": 0xB8, "ạ": 0xB9,
    "ằ": 0xBB, "ẳ": 0xBC, "ẵ": 0xBD, "ắ": 0xBE, "ặ": 0xC6,
    "ầ": 0xC7, "ẩ": 0xC8, "ẫ": 0xC9, "ấ": 0xCA, "ậ": 0xCB,
    "è": 0xCC, "ẻ": 0xCE, "ẽ": 0xCF, "é": 0xD0, "ẹ": 0xD1,
    "ề": 0xD2, "ể": 0xD3, "ễ": 0xD4, "ế": 0xD5, "ệ": 0xD6,
    "ì": 0xD7, "ỉ": 0xD8, "ĩ": 0xDC, "í": 0xDD, "ị": 0xDE,
    "ò": 0xDF, "ỏ": 0xE1, "õ": 0xE2, "ó": 0xE3, "ọ": 0xE4,
    "ồ": 0xE5, "ổ": 0xE6, "ỗ": 0xE7, "ố": 0xE8, "ộ": 0xE9,
    "ờ": 0xEA, "ở": 0xEB, "ỡ": 0xEC, "ớ": 0xED, "ợ": 0xEE,
    "ù": 0xEF, "ủ": 0xF1, "ũ": 0xF2, "ú": 0xF3, "ụ": 0xF4,
    "ừ": 0xF5, "ử": 0xF6, "ữ": 0xF7, "ứ": 0xF8, "ự": 0xF9,
    "ỳ": 0xFA, "ỷ": 0xFB, "ỹ": 0xFC, "ý": 0xFD, "ỵ": 0xFE,
}  # fmt: skip

_TCVN3_DECODE: Final[dict[int, str]] = {code: letter for letter, code in _TCVN3_CODES.items()}

# --- VNI-Windows ----------------------------------------------------------------

# Letters written as one byte (small letter; the capital is the byte 0x20 lower).
_VNI_SINGLE: Final[dict[str, int]] = {
    "đ": 0xF1, "ơ": 0xF4, "ư": 0xF6,
    "ì": 0xEC, "í": 0xED, "ĩ": 0xF3, "ỉ": 0xE6, "ị": 0xF2,
    "ỵ": 0xEE,
}  # fmt: skip

_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"
_TONES: Final = (_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT)

# Mark byte after a base letter, keyed by (vowel modifier, tone); small-letter form.
_VNI_MARK: Final[dict[tuple[str, str], int]] = {
    ("", _GRAVE): 0xF8, ("", _ACUTE): 0xF9, ("", _HOOK): 0xFB, ("", _TILDE): 0xF5,
    ("", _DOT): 0xEF,
    (_CIRCUMFLEX, ""): 0xE2, (_CIRCUMFLEX, _GRAVE): 0xE0, (_CIRCUMFLEX, _ACUTE): 0xE1,
    (_CIRCUMFLEX, _HOOK): 0xE5, (_CIRCUMFLEX, _TILDE): 0xE3, (_CIRCUMFLEX, _DOT): 0xE4,
    (_BREVE, ""): 0xEA, (_BREVE, _GRAVE): 0xE8, (_BREVE, _ACUTE): 0xE9,
    (_BREVE, _HOOK): 0xFA, (_BREVE, _TILDE): 0xFC, (_BREVE, _DOT): 0xEB,
}  # fmt: skip

_CASE_SHIFT: Final = 0x20  # a capital byte is 0x20 below the small one, as in Latin-1


def _vietnamese_letters() -> list[str]:
    """Every precomposed Vietnamese letter outside ASCII, small then capital (134)."""
    vowels = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"]
    small = ["đ"]
    for vowel in vowels:
        for tone in ("", *_TONES):
            letter = unicodedata.normalize("NFC", vowel + tone)
            if not letter.isascii():
                small.append(letter)
    return small + [letter.upper() for letter in small]


VIETNAMESE_LETTERS: Final[tuple[str, ...]] = tuple(_vietnamese_letters())


def _vni_encode_letter(letter: str) -> str | None:
    """The VNI bytes (as Latin-1 text) of one small Vietnamese letter, or None."""
    if letter in _VNI_SINGLE:
        return chr(_VNI_SINGLE[letter])
    decomposed = unicodedata.normalize("NFD", letter)
    base, marks = decomposed[0], decomposed[1:]
    if _HORN in marks:  # ơ, ư: the single byte is the base of the tone mark
        base = unicodedata.normalize("NFC", base + _HORN)
        marks = marks.replace(_HORN, "")
        prefix = chr(_VNI_SINGLE[base])
    else:
        prefix = base
    modifier = next((m for m in (_CIRCUMFLEX, _BREVE) if m in marks), "")
    tone = next((t for t in _TONES if t in marks), "")
    if not modifier and not tone:
        return None
    return prefix + chr(_VNI_MARK[(modifier, tone)])


def _vni_tables() -> tuple[dict[str, str], dict[tuple[str, str], str], dict[str, str]]:
    """Letter -> VNI text; (base, mark) -> letter; single byte -> letter."""
    encode: dict[str, str] = {}
    for small in VIETNAMESE_LETTERS[: len(VIETNAMESE_LETTERS) // 2]:
        code = _vni_encode_letter(small)
        if code is None:
            continue
        encode[small] = code
        # Capital: capital base letter and capital mark byte (both 0x20 lower).
        encode[small.upper()] = "".join(chr(ord(c) - _CASE_SHIFT) for c in code)
    pairs: dict[tuple[str, str], str] = {}
    singles: dict[str, str] = {}
    for letter, code in encode.items():
        if len(code) == 1:
            singles[code] = letter
        else:
            base, mark = code[0], code[1]
            pairs[(base, mark)] = letter
            # Accept a mark byte of the other case too.
            other = chr(ord(mark) ^ _CASE_SHIFT)
            pairs.setdefault((base, other), letter)
    return encode, pairs, singles


_VNI_ENCODE, _VNI_PAIRS, _VNI_SINGLES = _vni_tables()


def from_legacy(text: str, encoding: LegacyEncoding) -> str:
    """Decode legacy mojibake to Unicode NFC; characters with no legacy meaning pass through."""
    return unicodedata.normalize("NFC", from_legacy_mapped(text, encoding)[0])


def from_legacy_mapped(text: str, encoding: LegacyEncoding) -> tuple[str, tuple[int, ...]]:
    """Decode legacy mojibake, and for each decoded character the offset in `text` it starts at.

    A VNI letter written as two bytes becomes one character, so offsets shift; the
    decoded text is not NFC-normalized (that could merge characters and blur the map).
    Decoded character i came from text[starts[i]:starts[i + 1]] (the last one runs to
    the end of `text`).
    """
    if encoding is LegacyEncoding.TCVN3:
        return text.translate(_TCVN3_DECODE), tuple(range(len(text)))
    out: list[str] = []
    starts: list[int] = []
    i = 0
    while i < len(text):
        starts.append(i)
        pair = _VNI_PAIRS.get((text[i], text[i + 1])) if i + 1 < len(text) else None
        if pair is not None:
            out.append(pair)
            i += 2
            continue
        out.append(_VNI_SINGLES.get(text[i], text[i]))
        i += 1
    return "".join(out), tuple(starts)


def to_legacy(text: str, encoding: LegacyEncoding) -> str:
    """Encode Unicode text as legacy mojibake (see the module docstring for TCVN3 capitals)."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        if encoding is LegacyEncoding.TCVN3:
            code = _TCVN3_CODES.get(char, _TCVN3_CODES.get(char.lower()))
            out.append(chr(code) if code is not None else char)
        else:
            out.append(_VNI_ENCODE.get(char, char))
    return "".join(out)


# --- detection ------------------------------------------------------------------

# Latin-1 letters that ordinary Unicode Vietnamese uses, plus "Ð" (U+00D0), which
# people type for "Đ": none of them is evidence of a legacy encoding on its own.
_UNICODE_LATIN1_LETTERS: Final = frozenset("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝÐ")
# VNI base+mark pairs that are also ordinary Unicode Vietnamese: "hoà", "hoá", "hoãn".
_PLAUSIBLE_PAIRS: Final = frozenset((o, v) for o in "oO" for v in "àáãÀÁÃ")
_MIN_GAIN_FROM_SPELLING: Final = 2
_MAX_ABBREVIATION: Final = 4  # "QĐ", "TrĐ", "ĐĐ": short words with several capitals
_WORD: Final = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Vietnamese syllables, written without the tone mark: onset + rhyme (vần).
_ONSETS: Final = _words("ngh ng nh ch gh gi kh ph th tr q b c d đ g h k l m n p r s t v x")
_RHYMES: Final = _words("""
    a ac ach ai am an ang anh ao ap at au ay ăc ăm ăn ăng ăp ăt
    âc âm ân âng âp ât âu ây e ec em en eng eo ep et ê êch êm ên ênh êp êt êu
    i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu
    o oc oi om on ong op ot ô ôc ôi ôm ôn ông ôp ôt ơ ơi ơm ơn ơp ơt
    u ua uc ui um un ung up ut uôc uôi uôm uôn uông uôt
    ư ưa ưc ưi ưm ưn ưng ưt ưu ươc ươi ươm ươn ương ươp ươt ươu
    y yêm yên yêng yêt yêu
    oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng oăt
    oe oem oen oeo oet ooc oong
    uac uach uai uan uang uanh uat uay uăc uăm uăn uăng uăt ue uen ueo uet
    uân uâng uât uây uê uêch uênh uêt uêu uơ
    uy uya uych uyên uyêt uyn uynh uyp uyt uyu
""")
_SYLLABLE: Final = re.compile(
    "(?:{})?(?:{})".format(
        "|".join(sorted(_ONSETS, key=len, reverse=True)),
        "|".join(sorted(_RHYMES, key=len, reverse=True)),
    )
)


@lru_cache(maxsize=4096)  # bounded: words come from untrusted input
def _is_syllable(word: str) -> bool:
    """Whether a word is a well-formed Vietnamese syllable (one tone mark at most)."""
    decomposed = unicodedata.normalize("NFD", word.lower().replace("ð", "đ"))
    if sum(c in _TONES for c in decomposed) > 1:
        return False
    toneless = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    return _SYLLABLE.fullmatch(toneless) is not None


def _clues(text: str) -> int:
    """Characters and VNI-style letter pairs that ordinary Unicode Vietnamese never has."""
    foreign = sum(1 for c in text if "\xa1" <= c <= "\xff" and c not in _UNICODE_LATIN1_LETTERS)
    pairs = sum(1 for pair in pairwise(text) if pair in _VNI_PAIRS and pair not in _PLAUSIBLE_PAIRS)
    return foreign + pairs


def clear_memos() -> None:
    """Forget the syllables remembered so far (for benchmarks)."""
    _is_syllable.cache_clear()


def has_legacy_clues(text: str) -> bool:
    """Whether `text` holds a character or letter pair that Unicode Vietnamese never has."""
    return _clues(text) > 0


def _judged(word: str) -> bool:
    """Whether a word should spell a Vietnamese syllable; "Đ", "QĐ" or "Ebb" need not."""
    if word.isascii() or len(word) == 1:
        return False
    capitals = sum(c.isupper() for c in word)
    return capitals <= 1 or (word.isupper() and len(word) > _MAX_ABBREVIATION)


def _misspelt(text: str) -> tuple[int, int]:
    """How many judged words of `text` are and are not Vietnamese syllables."""
    judged = [word for word in _WORD.findall(text) if _judged(word)]
    good = sum(_is_syllable(word) for word in judged)
    return good, len(judged) - good


def _oddity(text: str) -> int:
    """How unlike Unicode Vietnamese the text looks (0 = not at all)."""
    return _clues(text) + _misspelt(text)[1]


def _plausible(decoded: str) -> bool:
    """Whether the letters a decoding produced mostly spell Vietnamese syllables."""
    new_words = [w for w in _WORD.findall(decoded) if any(ord(c) > 0xFF for c in w)]
    good, bad = _misspelt(" ".join(new_words))
    return good >= bad


def detect_legacy(text: str) -> LegacyEncoding | None:
    """Guess whether `text` is TCVN3 or VNI mojibake; None for Unicode, ASCII or a tie."""
    if not any("\x80" <= c <= "\xff" for c in text):
        return None  # plain ASCII, or Unicode beyond Latin-1 only
    if any(ord(c) > 0xFF and unicodedata.category(c)[0] in "LM" for c in text):
        return None  # a letter or combining mark beyond Latin-1: already Unicode
    before = _oddity(text)
    if before == 0:
        return None  # nothing a decoding could remove, so no gain: ordinary Vietnamese
    gains: dict[LegacyEncoding, int] = {}
    for encoding in LegacyEncoding:
        decoded = from_legacy(text, encoding)
        if _plausible(decoded):
            gains[encoding] = before - _oddity(decoded)
    if not gains:
        return None
    best = max(gains.values())
    winners = [enc for enc, gain in gains.items() if gain == best]
    # Misspelt syllables alone are weak evidence: ask for two of them.
    needed = 1 if _clues(text) else _MIN_GAIN_FROM_SPELLING
    if best < needed or len(winners) != 1:
        return None
    return winners[0]


def repair_legacy(text: str) -> tuple[str, LegacyEncoding | None]:
    """Decode `text` if it looks like legacy mojibake; otherwise return it unchanged."""
    encoding = detect_legacy(text)
    if encoding is None:
        return text, None
    return from_legacy(text, encoding), encoding
