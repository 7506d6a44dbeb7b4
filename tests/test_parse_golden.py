"""Golden cases of the designation parser, kept as data in tests/data/parse_golden.jsonl.

Each line: `input`, the expected `elements` exactly as ParseResult.to_json()
renders them, the expected `residue`, optional `warning_codes` (absent means
none), a `note` saying where the case comes from, and `variants: true` for the
record strings of BRIEF.md §4, which are also checked typed without
diacritics, in upper case, decomposed (NFD), with "Ð" (U+00D0) for "Đ", and
as TCVN3 and VNI text from an old spreadsheet.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lark import Lark

from app.errors import InputTooLong
from app.parsing import MAX_INPUT_CHARS, fold, lexicon, parse
from app.parsing.ast import Echelon
from app.parsing.legacy import LegacyEncoding, to_legacy
from app.parsing.parser import _parser
from grammar import grammar_text

GOLDEN = Path(__file__).parent / "data" / "parse_golden.jsonl"

Case = dict[str, Any]


def _load() -> list[Case]:
    with GOLDEN.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


CASES = _load()


def _case_id(index: int, case: Case, variant: str = "") -> str:
    label = re.sub(r"[^a-z0-9]+", "-", fold(case["input"]))[:40].strip("-") or "blank"
    return f"{index:03d}-{label}{'-' + variant if variant else ''}"


# -------------------------------------------------------------- variants of a case

_STRIPPED = {"đ": "d", "Đ": "D"}


def _strip_diacritics(text: str) -> str:
    """Drop diacritics letter by letter, keeping the length (the input is NFC)."""
    return "".join(_STRIPPED.get(c) or unicodedata.normalize("NFD", c)[0] for c in text)


def _eth_for_d(text: str) -> str:
    return text.replace("Đ", "\u00d0")


def _same(text: str) -> str:
    return text


def _tcvn3(text: str) -> str:
    return to_legacy(text, LegacyEncoding.TCVN3)


def _vni(text: str) -> str:
    return to_legacy(text, LegacyEncoding.VNI)


# name: (how the input is rewritten, how names and branch words are rewritten)
VARIANTS: dict[str, tuple[Callable[[str], str], Callable[[str], str]]] = {
    "no-diacritics": (_strip_diacritics, _strip_diacritics),
    "upper": (str.upper, str.upper),
    # Names are given in NFC, and "Ð" is read as "Đ" in names.
    "nfd": (lambda text: unicodedata.normalize("NFD", text), _same),
    "eth": (_eth_for_d, _same),
    # Old spreadsheets: the text is converted first, names are given as converted.
    "tcvn3": (_tcvn3, _same),
    "vni": (_vni, _same),
}
# Each character's length in a variant, where it may differ from 1.
_LENGTHS: dict[str, Callable[[str], int]] = {
    "nfd": lambda c: len(unicodedata.normalize("NFD", c)),
    "vni": lambda c: len(_vni(c)),
}
# Warnings a variant adds before the case's own.
_WARNINGS = {"tcvn3": ["legacy_encoding"], "vni": ["legacy_encoding"]}


def _one(char: str) -> int:
    return 1


def _offsets(base: str, variant: str, name: str) -> list[int]:
    """Where each character boundary of `base` falls in `variant`."""
    length = _LENGTHS.get(name, _one)
    offsets = [0]
    for char in base:
        offsets.append(offsets[-1] + length(char))
    assert offsets[-1] == len(variant)
    return offsets


def _rewrite(case: Case, variant: str) -> Case:
    """The case as it reads in a variant: spans and texts follow, names as `VARIANTS` says."""
    rewrite_input, rewrite_name = VARIANTS[variant]
    base = case["input"]
    assert unicodedata.is_normalized("NFC", base)
    text = rewrite_input(base)
    offsets = _offsets(base, text, variant)

    def moved(item: dict[str, Any]) -> dict[str, Any]:
        start, end = offsets[item["span"][0]], offsets[item["span"][1]]
        out = dict(item, span=[start, end], text=text[start:end])
        if out.get("name") is not None:
            out["name"] = rewrite_name(out["name"])
        if out.get("branch") is not None:
            out["branch"] = dict(out["branch"], text=rewrite_name(out["branch"]["text"]))
        return out

    return dict(
        case,
        input=text,
        elements=[moved(e) for e in case["elements"]],
        residue=[moved(r) for r in case["residue"]],
        warning_codes=[*_WARNINGS.get(variant, []), *case.get("warning_codes", [])],
    )


def _variant_params() -> list[Any]:
    params = []
    for index, case in enumerate(CASES):
        if not case.get("variants"):
            continue
        for variant in VARIANTS:
            rewritten = _rewrite(case, variant)
            if rewritten["input"] != case["input"]:
                params.append(pytest.param(rewritten, id=_case_id(index, case, variant)))
    return params


# -------------------------------------------------------------- the tests


def _check(case: Case) -> None:
    result = parse(case["input"]).to_json()
    assert result["elements"] == case["elements"], case["note"]
    assert result["residue"] == case["residue"], case["note"]
    assert [w["code"] for w in result["warnings"]] == case.get("warning_codes", [])


@pytest.mark.parametrize("case", [pytest.param(c, id=_case_id(i, c)) for i, c in enumerate(CASES)])
def test_golden(case: Case) -> None:
    _check(case)


@pytest.mark.parametrize("case", _variant_params())
def test_golden_variant(case: Case) -> None:
    _check(case)


def test_golden_file_covers_the_brief() -> None:
    """Every record string of BRIEF.md §4 is a golden case, with its variants."""
    records = {c["input"] for c in CASES if c.get("variants")}
    assert len(records) == 21
    assert len(CASES) >= 300


def test_golden_file_covers_every_family() -> None:
    """Every kind of element, echelon, branch and warning has golden cases."""
    elements = [e for c in CASES for e in c["elements"]]
    kinds = {e["kind"] for e in elements}
    assert kinds == {"unit", "theater", "mailbox", "cover_code", "tag", "place", "text"}
    assert {e["echelon"] for e in elements if e["kind"] == "unit"} == {x.value for x in Echelon}
    branches = {e["branch"]["key"] for e in elements if e.get("branch")}
    assert branches == set(lexicon.BRANCHES.values())
    theaters = {e["code"] for e in elements if e["kind"] == "theater"}
    assert theaters >= {"A", "B", "C", "Đ", "K", "B1", "B2", "B3", "B4", "B5", "T1", "T4", "T7"}
    codes = {e["code"] for e in elements if e["kind"] == "cover_code"}
    assert codes >= {*lexicon.COVER_CODES, "H", "7-KB", "Q761", "KBC 4100"}
    warnings = {w for c in CASES for w in c.get("warning_codes", [])}
    assert warnings == {"not_understood", "kbc_lookalike", "legacy_encoding", "date_in_designation"}


def test_every_lexicon_word_is_recognised() -> None:
    """The grammar and lexicon.py agree: each echelon and branch word parses as its entry."""
    for key, echelon in lexicon.ECHELON_WORDS.items():
        (unit,) = parse(f"{key} 5").elements
        assert unit.kind == "unit", key
        assert getattr(unit, "echelon", None) is echelon, key
    for key, branch in lexicon.BRANCHES.items():
        (unit,) = parse(f"Đại đội 5 {key}").elements
        found = getattr(unit, "branch", None)
        assert found is not None, key
        assert found.key == branch, key


def _alternatives(terminal: str) -> list[str]:
    pattern = next(t for t in _parser().terminals if t.name == terminal).pattern.value
    inner = pattern[pattern.index("(?:") + 3 : pattern.rindex(")(?![a-z])")]
    return [re.sub(r"\\s\*|\(\?=[^)]*\)", "", alternative) for alternative in inner.split("|")]


@pytest.mark.parametrize(
    ("terminal", "table"),
    [
        ("ECHELON_WORD", lexicon.ECHELON_WORDS),
        ("FRONT_WORD", lexicon.ECHELON_WORDS),
        ("BRANCH", lexicon.BRANCHES),
    ],
)
def test_every_grammar_word_has_a_meaning(terminal: str, table: Any) -> None:
    words = _alternatives(terminal)
    assert words
    assert [w for w in words if lexicon.lookup_key(w) not in table] == []


# The shift/reduce conflicts of the grammar, each resolved as shift ("items are greedy",
# see the grammar's header). A new conflict is a change of meaning: review it, then add it.
EXPECTED_CONFLICTS = {
    ("BRANCH", "<item : LETTER_UNIT>"),
    ("BRANCH", "<item : echelon NUMBER>"),
    ("BRANCH", "<item : echelon branch NUMBER>"),
    ("BRANCH", "<item : echelon branch words NUMBER>"),
    ("BRANCH", "<item : echelon words NUMBER>"),
    ("BRANCH", "<item : echelon>"),
    ("CODE", "<item : echelon>"),
    ("COVER", "<item : echelon>"),
    ("HYPHEN", "<words : WORD (WORD | HYPHEN)*>"),
    ("HYPHEN", "<words : WORD>"),
    ("NUMBER", "<item : echelon branch words>"),
    ("NUMBER", "<item : echelon branch>"),
    ("NUMBER", "<item : echelon words>"),
    ("NUMBER", "<item : echelon>"),
    ("THEATER", "<echelon : FRONT_WORD>"),
    ("WORD", "<item : echelon branch>"),
    ("WORD", "<item : echelon>"),
    ("WORD", "<words : WORD (WORD | HYPHEN)*>"),
    ("WORD", "<words : WORD>"),
}


def test_grammar_conflicts_are_the_documented_greedy_ones(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lark")
    Lark(grammar_text("designation.lark"), parser="lalr", lexer="contextual", debug=True)
    messages = [r.getMessage() for r in caplog.records if r.name == "lark"]
    conflicts = set()
    for message, rule in itertools.pairwise(messages):
        found = re.match(r"Shift/Reduce conflict for terminal (\w+): \(resolving", message)
        if found:
            # Lark names the helper rule of a repetition by a counter: name it by its content.
            rule = re.sub(r"__words_star_\d+", "(WORD | HYPHEN)*", rule.strip(" *"))
            conflicts.add((found[1], rule))
    assert conflicts == EXPECTED_CONFLICTS


def test_input_at_the_limit_is_parsed() -> None:
    text = ("C9, " * MAX_INPUT_CHARS)[:MAX_INPUT_CHARS]
    assert len(parse(text).elements) > 0


def test_input_over_the_limit_is_refused_in_both_languages() -> None:
    with pytest.raises(InputTooLong) as raised:
        parse("C" * (MAX_INPUT_CHARS + 1))
    assert str(MAX_INPUT_CHARS) in raised.value.detail
    assert "ký tự" in raised.value.detail_vi
    assert raised.value.status == 422


def test_kbc_warning_explains_in_both_languages() -> None:
    (warning,) = parse("KBC 4100").warnings
    assert warning.code == "kbc_lookalike"
    assert warning.span == (0, 8)
    assert "Việt Nam Cộng hòa" in warning.message_vi
    assert "South Vietnamese" in warning.message_en


def test_one_not_understood_warning_for_all_residue() -> None:
    result = parse("abc, C9, ???")
    assert [r.text for r in result.residue] == ["abc", "???"]
    (warning,) = result.warnings
    assert warning.code == "not_understood"
    assert "«abc»" in warning.message_en
    assert "«???»" in warning.message_vi
