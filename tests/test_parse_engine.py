"""The fast paths of the parser give exactly what the grammar, run by Lark itself, gives.

Three readings of grammar/designation.lark must agree:
Lark's own LALR parser (the reference), the lean driver of app/parsing/lalr.py
that runs Lark's tables, and the grouping shortcut of parser.py used when no
token needs the contextual lexer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark import Token, Tree

from app.errors import InputTooLong
from app.parsing import lalr, parser
from app.parsing.normalize import fold_for_parsing
from app.parsing.parser import _engine, _parser, parse_uncached
from tests.test_parse_properties import designations

GOLDEN = Path(__file__).parent / "data" / "parse_golden.jsonl"
INPUTS = [json.loads(line)["input"] for line in GOLDEN.read_text("utf-8").splitlines() if line]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _from_lark(node: Any) -> Any:
    if isinstance(node, Tree):
        return (str(node.data), [_from_lark(child) for child in node.children])
    if isinstance(node, Token):
        return (node.type, str(node), node.start_pos, node.end_pos)
    assert node is None
    return None


def _tree_builders(tables: lalr.Tables) -> list[Any]:
    def builder(name: str) -> Any:
        return lambda _context, children: (name, list(children))

    return [builder(rule.name) for rule in tables.rules]


def _driver_tree(folded: str, *, prescanned: bool) -> Any:
    tables = _engine().tables
    tokens = lalr.scan(tables, folded) if prescanned else None
    return lalr.run(tables, folded, _tree_builders(tables), None, tokens)


def _lark_tree(folded: str) -> Any:
    return _from_lark(_parser().parse(folded))


def _check_driver(text: str) -> None:
    folded = fold_for_parsing(text).text
    expected = _lark_tree(folded)
    assert _driver_tree(folded, prescanned=False) == expected
    if _engine().contextual.isdisjoint(t[0] for t in lalr.scan(_engine().tables, folded)):
        # Without a contextual terminal, the one-pattern scan reads the same tokens.
        assert _driver_tree(folded, prescanned=True) == expected


@pytest.mark.parametrize("text", INPUTS)
def test_driver_derives_what_lark_derives_on_the_golden_inputs(text: str) -> None:
    _check_driver(text)


@SETTINGS
@given(st.one_of(designations(), st.text(max_size=120)))
def test_driver_derives_what_lark_derives(text: str) -> None:
    _check_driver(text)


@pytest.mark.parametrize("text", INPUTS)
def test_shortcut_gives_what_the_grammar_gives_on_the_golden_inputs(text: str) -> None:
    assert parse_uncached(text) == parse_uncached(text, shortcut=False)


@SETTINGS
@given(st.one_of(designations(), st.text(max_size=120)))
def test_shortcut_gives_what_the_grammar_gives(text: str) -> None:
    assert parse_uncached(text) == parse_uncached(text, shortcut=False)


def test_only_a_mailbox_head_needs_the_contextual_lexer() -> None:
    """If this changes, `_group` must learn the new contextual items (or leave them to LALR)."""
    assert _engine().contextual == {"MAILBOX_HEAD"}


def test_parse_without_remembering_gives_the_same_and_keeps_nothing() -> None:
    text = "C3, D4, E9068 (không nhớ)"
    parser._parse_memoised.cache_clear()  # a full cache (earlier tests) would not grow by one
    before = parser._parse_memoised.cache_info().currsize
    fresh = parser.parse(text, remember=False)
    assert parser._parse_memoised.cache_info().currsize == before
    assert fresh == parser.parse(text)
    assert parser._parse_memoised.cache_info().currsize == before + 1
    with pytest.raises(InputTooLong):
        parser.parse("C" * (parser.MAX_INPUT_CHARS + 1), remember=False)
