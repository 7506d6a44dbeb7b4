"""Properties of the parser and of `fold` that must hold for any input (hypothesis)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.parsing import MAX_INPUT_CHARS, fold, parse
from app.parsing.ast import ParseResult, TextElement, UnitElement
from app.parsing.legacy import LegacyEncoding, to_legacy
from app.parsing.parser import _read, parse_uncached

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GOLDEN = Path(__file__).parent / "data" / "parse_golden.jsonl"
GOLDEN_CASES = [json.loads(line) for line in GOLDEN.read_text("utf-8").splitlines() if line]
# Respelling TCVN3/VNI mojibake would change its bytes, and so its letters: left out.
UNICODE_INPUTS = [
    case["input"] for case in GOLDEN_CASES if "legacy_encoding" not in case.get("warning_codes", [])
]

# Pieces of real designations, in several spellings, to reach deep into the grammar.
FRAGMENTS = [
    *["A", "B", "C", "D", "E", "F", "a", "b", "c", "d", "e", "f", "Ebb", "bb", "BB"],
    *["tiểu đội", "trung đội", "đại đội", "Đại đội", "ĐĐ", "tiểu đoàn", "TĐ", "trung đoàn"],
    *["TrĐ", "sư đoàn", "SĐ", "sư", "đại đoàn", "lữ đoàn", "quân đoàn", "QĐ", "binh đoàn"],
    *["quân khu", "QK", "mặt trận", "Mặt trận", "MT", "đoàn", "Đoàn", "binh trạm", "BT"],
    *["công trường", "CT", "cục", "phòng", "Tieu doan", "DAI DOI", "tieudoan", "Ðại đội"],
    *["chủ lực", "thông tin", "súng cối", "súng máy phòng không", "trinh sát", "bộ binh"],
    *["vận tải", "pháo binh", "B1", "B5", "B11", "T4", "T9", "KB", "KBM", "KH", "KN", "KT"],
    *["NB", "Q761", "KBC", "SH", "H", "Hòm thư", "hom thu", "HT", "HT.", "Vinh Quang"],
    *["Trị Thiên-Huế", "Quảng Ngãi", "xe thồ", "Hậu cần", "của", "thuộc", "và", "&"],
    *["(", ")", ",", ".", "-", "–", "—", "/", ";", ":", "'", '"', "?", "*", "🙂"],
    *["1", "9", "10", "11", "320A", "4C", "1o5", "140.52", "86558YK", "91364", "99X", "1968"],
    *["T1/1968", "27/1/1968", "1968-1970", "ngày 27 tháng 1 năm 1968", "?/1968", "~1968"],
    *["chiến trường", "miền Nam", "K", "Đ", "934B. DKI. XUAN VINH", "7-KB", "l4", "I", "Ｃ９"],
    *["§¹i ®éi", "Ñaïi ñoäi", "Qu©n khu", "tröôøng", "·", "\u00a0", "–", "…"],
]

fragments = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.integers(min_value=0, max_value=99999).map(str),
    st.text(max_size=4),
)
Spelling = Callable[[str], str]


def without_diacritics(text: str) -> str:
    """Text as typed on a keyboard without Vietnamese: "Đại đội" -> "Dai doi"."""
    bare = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return unicodedata.normalize("NFC", "".join(c for c in bare if not unicodedata.combining(c)))


spellings: st.SearchStrategy[Spelling] = st.sampled_from(
    [
        lambda s: s,
        str.upper,
        str.lower,
        lambda s: unicodedata.normalize("NFD", s),
        lambda s: s.replace("Đ", "\u00d0"),
        without_diacritics,
    ]
)


@st.composite
def designations(draw: st.DrawFn) -> str:
    """Strings made of designation pieces with random separators and spellings."""
    pieces = draw(st.lists(fragments, max_size=25))
    joint = st.sampled_from(["", " ", ", ", " - ", "  ", "."])
    joints = draw(st.lists(joint, min_size=len(pieces), max_size=len(pieces)))
    text = "".join(piece + joint for piece, joint in zip(pieces, joints, strict=True))
    spell = draw(spellings)
    return spell(text)[:MAX_INPUT_CHARS]


def _check_contract(text: str, result: ParseResult) -> None:
    assert result.input == text
    end = 0
    for element in result.elements:
        start, stop = element.span
        assert end <= start < stop <= len(text), (element, text)
        assert element.text == text[start:stop]
        end = stop
        if isinstance(element, UnitElement):
            assert element.number == (element.numbers[0] if element.numbers else None)
    texts = [(e.span, e.text) for e in result.elements if isinstance(e, TextElement)]
    assert [(r.span, r.text) for r in result.residue] == texts
    codes = [w.code for w in result.warnings]
    assert codes.count("not_understood") == (1 if result.residue else 0)


@SETTINGS
@given(st.text(max_size=MAX_INPUT_CHARS))
def test_any_text_parses_within_the_contract(text: str) -> None:
    _check_contract(text, parse(text))


@SETTINGS
@given(designations())
def test_designation_like_text_parses_within_the_contract(text: str) -> None:
    _check_contract(text, parse(text))


@SETTINGS
@given(st.one_of(designations(), st.text(max_size=200)))
def test_the_grammar_is_total(text: str) -> None:
    """No input reaches the defensive fallback of `parse`: the LALR parse always succeeds."""
    assert _read(text) is not None
    assert _read(text, shortcut=False) is not None


@SETTINGS
@given(designations())
def test_memo_gives_the_same_result(text: str) -> None:
    assert parse(text) == parse_uncached(text)


@SETTINGS
@given(st.text())
def test_fold_is_idempotent_and_clean(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert folded == folded.strip()
    assert "  " not in folded
    assert not any(unicodedata.combining(c) for c in folded)
    assert not any("A" <= c <= "Z" for c in folded)


def test_fold_examples() -> None:
    assert fold("  Đại   đội 3 ") == "dai doi 3"
    assert fold("\u00d0OÀN Vinh Quang") == "doan vinh quang"
    assert fold(unicodedata.normalize("NFD", "Trị Thiên-Huế")) == "tri thien-hue"
    assert fold("Hòm\u00a0thư") == "hom thu"


Shape = list[tuple[str, str | None, tuple[str, ...]]]


def _shape(result: ParseResult) -> Shape:
    shape: Shape = []
    for element in result.elements:
        if isinstance(element, UnitElement):
            shape.append((element.kind, element.echelon.value, element.numbers))
        else:
            shape.append((element.kind, None, ()))
    return shape


SPELLINGS: dict[str, Spelling] = {
    "upper": str.upper,
    "lower": str.lower,
    "nfd": lambda s: unicodedata.normalize("NFD", s),
    "eth": lambda s: s.replace("Đ", "\u00d0"),
    "no-diacritics": without_diacritics,
}


def test_legacy_text_keeps_its_spans_on_the_original() -> None:
    """Every golden case typed in TCVN3 or VNI parses within the contract, spans on the input."""
    for text in UNICODE_INPUTS:
        for encoding in LegacyEncoding:
            legacy_text = to_legacy(text, encoding)
            _check_contract(legacy_text, parse(legacy_text))


def test_spelling_does_not_change_meaning() -> None:
    """NFC, NFD, "Ð" for "Đ", case, no diacritics: every golden case keeps its meaning.

    The same kinds, echelons and numbers, and results within the contract; every case
    and spelling is tried (a few thousand parses, well under a second).
    """
    changed = []
    for text in UNICODE_INPUTS:
        expected = _shape(parse(text))
        for name, spell in SPELLINGS.items():
            variant = spell(text)
            result = parse(variant)
            _check_contract(variant, result)
            if _shape(result) != expected:
                changed.append((name, text))
    assert changed == []
