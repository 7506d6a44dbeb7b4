"""How a date of death stands to a validity period (table in data/validity_fit.csv)."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.decode.facts import Fit, LinkFact, SourceRef, Subtree, Validity
from app.decode.memo import Memo
from app.parsing.dates import parse_bound, parse_date

with (Path(__file__).parent / "data" / "validity_fit.csv").open(encoding="utf-8") as _file:
    CASES = list(csv.DictReader(_file))


def _validity(start: str, end: str) -> Validity:
    lower = parse_bound(start)
    upper = parse_bound(end)
    return Validity(
        lower[0] if lower else None,
        lower[1].value if lower else None,
        upper[0] if upper else None,
        upper[1].value if upper else None,
    )


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_fit(case: dict[str, str]) -> None:
    validity = _validity(case["from"], case["to"])
    assert validity.fit(parse_date(case["date"] or None)) is Fit(case["fit"])


# --- Subtree: who is under a unit at a date, kept per date class --------------------------

_YEARS = st.integers(1960, 1976)
_BOUND = st.one_of(
    st.none(),
    st.tuples(_YEARS, st.integers(1, 12), st.sampled_from(["year", "month", "day"])),
)


def _period(start: tuple[int, int, str] | None, end: tuple[int, int, str] | None) -> Validity:
    def bound(b: tuple[int, int, str] | None) -> tuple[datetime.date | None, str | None]:
        if b is None:
            return None, None
        year, month, precision = b
        return datetime.date(year, 1 if precision == "year" else month, 1), precision

    return Validity(*bound(start), *bound(end))


@given(
    st.lists(st.tuples(st.integers(0, 6), _BOUND, _BOUND), min_size=1, max_size=12),
    st.lists(st.tuples(_YEARS, st.integers(1, 12), st.integers(1, 28)), min_size=1, max_size=8),
)
@settings(max_examples=300, deadline=None)
def test_subtree_under_is_the_walk_for_every_date(
    shape: list[tuple[int, Any, Any]], days: list[tuple[int, int, int]]
) -> None:
    # Unit k+1 hangs under one of the units before it ("u0" is the root), over some period.
    source = SourceRef("S", "archive", "test", None, "high")
    links = [
        LinkFact(f"u{k + 1}", f"u{min(parent, k)}", _period(a, b), source, "verified", "")
        for k, (parent, a, b) in enumerate(shape)
    ]
    subtree = Subtree("u0", links)
    whens = [parse_date(f"{d}/{m}/{y}") for y, m, d in days] + [None, parse_date("1968")]
    for _ in range(2):  # the second time from the kept classes
        for when in whens:
            under = {"u0"}
            for link in links:
                if link.parent_id in under and link.validity.fit(when) is not Fit.OUTSIDE:
                    under.add(link.unit_id)
            under.discard("u0")
            assert subtree.under(when) == under, when


def test_a_memo_key_number_stands_for_one_key_only() -> None:
    # Batch rows look their answers up by a number for their signature; a number must never
    # come to stand for another signature, even once the table of numbers starts afresh.
    memo: Memo[str] = Memo(max_ids=3)
    first = [memo.key_id(("c3", "d4")), memo.key_id(("c3",)), memo.key_id(("c3", "d4"))]
    assert first[0] == first[2]
    assert first[0] != first[1]
    later = [memo.key_id(k) for k in [("e9",), ("f3",), ("g1",), ("c3",)]]  # a fresh table
    assert memo.key_id(("g1",)) == later[2]  # the same key, the same number, in one table
    assert len({*first, *later}) == 2 + len(later)  # no number stands for two keys
