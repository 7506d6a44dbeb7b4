"""The page's stand-in unit search on SQLite and PostgreSQL (cases: tests/data/web_search.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.context import Context
from app.editions.service import resolve_edition
from app.parsing.dates import parse_date
from app.web.search import EXACT, search_units

CASES = [
    json.loads(line)
    for line in (Path(__file__).parents[1] / "data" / "web_search.jsonl")
    .read_text("utf-8")
    .splitlines()
    if line.strip()
]


@pytest.mark.parametrize("case", CASES, ids=[c["note"] for c in CASES])
def test_search(sample_context: Context, case: dict[str, Any]) -> None:
    with sample_context.session() as session:
        edition = resolve_edition(session, None)
        result = search_units(
            session,
            edition.seq,
            case["q"],
            echelon=case["echelon"] or None,
            when=parse_date(case["period"]),
        )
    found = [hit.unit_id for hit in result.hits]
    assert result.total == len(found)
    if case["first"] is not None:
        assert found[0] == case["first"], found
    else:
        assert not found or case["includes"], found
    assert set(case["includes"]) <= set(found), found
    assert not set(case["excludes"]) & set(found), found
    ranks = [hit.rank for hit in result.hits]
    assert ranks == sorted(ranks)  # exact before prefix before substring before all words


def test_exact_ranks_before_prefix_and_substring(sample_context: Context) -> None:
    with sample_context.session() as session:
        seq = resolve_edition(session, None).seq
        hits = search_units(session, seq, "Sư đoàn 9").hits
        assert hits[0].unit_id == "su-doan-9"
        assert hits[0].rank == EXACT
        assert search_units(session, seq, "   ").hits == ()


def test_limit_keeps_the_total(sample_context: Context) -> None:
    with sample_context.session() as session:
        seq = resolve_edition(session, None).seq
        everything = search_units(session, seq, "doan")
        two = search_units(session, seq, "doan", limit=2)
    assert everything.total > 2
    assert len(two.hits) == 2
    assert two.total == everything.total
    assert two.hits == everything.hits[:2]
