"""Hypotheses left undrafted (they could not be kept) change no answer.

The resolver drafts an anchor only when no draft already made must outrank it and make
it redundant, and checks every skip against the final ranking. Here every answer is
compared, whole, with the resolver that drafts every anchor, on the sample edition.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.batch.rows import summarize
from app.context import Context
from app.decode.facts import AssignmentFact, Fit, SourceRef, UnitFact, Validity
from app.decode.repository import EditionReader
from app.decode.resolver import (
    Match,
    Resolution,
    _cannot_be_kept,
    _Draft,
    _rank,
    _Resolver,
    _settle,
    _Skipped,
)
from app.decode.service import chosen_edition
from app.parsing import parse
from app.parsing.dates import parse_date

GOLDEN = Path(__file__).parent / "data" / "decode_golden.jsonl"
CASES = [
    json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines() if line.strip()
]
# Codes and names the sample edition holds, to be combined as records combine them.
PIECES = [
    "C11", "D3", "E1", "E2", "F2", "F9", "QK5", "QK7", "B2", "B3", "Sư đoàn 9",
    "Công trường 9", "Công trường 5", "Đoàn 559", "Đoàn 759", "Đoàn 125", "Q761",
    "Quân đoàn 3", "Trung đoàn 1", "Mặt trận B3", "Quân khu 5", "Sư đoàn 5",
]  # fmt: skip
DATES = [None, "1960", "1962", "1965", "27/1/1968", "1970", "1972", "30/4/1975", "1976"]


def _answer(resolution: Resolution) -> str:
    return json.dumps(
        [
            resolution.status.value,
            [c.to_json() for c in resolution.candidates],
            [n.to_json() for n in resolution.warnings],
        ],
        ensure_ascii=False,
        sort_keys=True,
    )


def _both(context: Context, text: str, date: str | None) -> tuple[_Resolver, _Resolver]:
    edition = chosen_edition(context, None)
    parsed, when = parse(text), parse_date(date)
    runs = []
    for prune in (True, False):
        reader = EditionReader(context.session_factory, edition.seq)
        resolver = _Resolver(parsed, when, reader, prune=prune)
        runs.append((resolver, _answer(resolver.run())))
    (pruned, a), (full, b) = runs
    assert a == b, (text, date)
    # A list's decode columns, made the short way, are the full answer's.
    reader = EditionReader(context.session_factory, edition.seq)
    short = _Resolver(parsed, when, reader).brief()
    assert summarize(short, "e") == summarize(_Resolver(parsed, when, reader).run(), "e")
    return pruned, full


@pytest.mark.parametrize("case", CASES, ids=[c["text"] + " @ " + str(c["date"]) for c in CASES])
def test_golden_cases_answer_alike(sample_context: Context, case: dict[str, Any]) -> None:
    _both(sample_context, case["text"], case["date"])


def test_some_drafts_are_skipped(sample_context: Context) -> None:
    # The point of it: the division's own reading repeats the chain of the regiment's
    # hypothesis (Trung đoàn 1 under Sư đoàn 9) and is not drafted; the answer is the same.
    pruned, full = _both(sample_context, "E1, F9", "1968")
    assert pruned.drafted < full.drafted


@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=5),
    st.sampled_from([", ", ".", " - ", " "]),
    st.sampled_from(DATES),
)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_combinations_answer_alike(
    sample_context: Context, pieces: list[str], separator: str, date: str | None
) -> None:
    _both(sample_context, separator.join(pieces), date)


# --- _settle: a skip that the kept list does not cover is drafted after all ----------------

_SOURCE = SourceRef("S", "archive", "test", None, "high")


def _unit(uid: str) -> UnitFact:
    return UnitFact(uid, "regiment", uid, Validity(), _SOURCE, "verified", "")


def _draft(units: list[str], explained: set[int], score: float) -> _Draft:
    return _Draft(
        score=score,
        explained=frozenset(explained),
        min_fit=Fit.INSIDE,
        units=[_unit(u) for u in units],
        path=[(u, None) for u in units],
        on_chain={},
        unresolved=[],
        reasons=[],
        warnings=[],
    )


def _skip(uid: str, explained: set[int], bound: float) -> _Skipped:
    fact = AssignmentFact(uid, "symbol", uid, uid, Validity(), _SOURCE, "verified", "")
    return (Match(2, uid, fact, Fit.INSIDE), [(uid, None)], explained, bound)


def test_a_skip_whose_dominating_draft_is_dropped_is_drafted() -> None:
    # K dominates D (D's anchor "c" is on K's chain), but K is itself redundant under K2,
    # whose chain leaves "b" by another parent and never meets "c": D must be drafted.
    k2 = _draft(["a", "b", "x"], {0, 1, 2}, 0.9)
    k = _draft(["b", "c"], {1, 2}, 0.8)
    d = _draft(["c"], {2}, 0.4)
    skip = _skip("c", {2}, 0.5)
    assert _cannot_be_kept(skip, [k2, k])  # so it is skipped at first
    asked: list[_Skipped] = []

    def draft_of(entry: _Skipped) -> _Draft:
        asked.append(entry)
        return d

    kept = _settle([k2, k], [skip], draft_of)
    assert not _cannot_be_kept(skip, [k2])  # K is not kept: the skip does not hold
    assert asked == [skip]
    assert kept == _rank([k2, k, d]) == [k2, d]


def test_a_skip_behind_ten_kept_drafts_stays_undrafted() -> None:
    ahead = [_draft([f"u{n}"], {0}, 0.9) for n in range(10)]
    skip = _skip("v", {0}, 0.9)  # could at best tie them, and "v" sorts after "u…"

    def draft_of(entry: _Skipped) -> _Draft:
        raise AssertionError("drafted a hypothesis that the cut leaves out")

    assert _settle(list(ahead), [skip], draft_of) == _rank(ahead)
    assert not _cannot_be_kept(_skip("a", {0}, 0.9), ahead)  # "a" would sort first


def test_a_skip_under_a_kept_dominating_draft_stays_undrafted() -> None:
    k = _draft(["b", "c"], {1, 2}, 0.8)
    skip = _skip("c", {2}, 0.5)

    def draft_of(entry: _Skipped) -> _Draft:
        raise AssertionError("drafted a hypothesis that could not be kept")

    assert _settle([k], [skip], draft_of) == [k]
