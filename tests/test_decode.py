"""Resolver cases on the sample edition, on SQLite and PostgreSQL (data/decode_golden.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.context import Context
from app.decode.service import decode
from app.schemas import DecodeOut

CASES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "decode_golden.jsonl")
    .read_text("utf-8")
    .splitlines()
    if line.strip()
]


def _decode(context: Context, text: str, date: str | None) -> dict[str, Any]:
    with context.session() as session:
        return decode(context, session, text, date, None)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['text']} @ {c['date']}" for c in CASES])
def test_golden(sample_context: Context, case: dict[str, Any]) -> None:
    result = _decode(sample_context, case["text"], case["date"])
    DecodeOut.model_validate(result)  # the documented schema holds
    assert result["status"] == case["status"], result["candidates"][:1]
    assert result["edition"]["label"] == "sample-2026.1"
    if case["chain"]:
        chain = [link["id"] for link in result["candidates"][0]["chain"]]
        assert chain[: len(case["chain"])] == case["chain"]
        if "chain_length" in case:
            assert len(chain) == case["chain_length"]
    for code in case.get("warnings", []):
        assert code in {w["code"] for w in result["warnings"]}
    if case.get("warnings") == []:
        assert not [w for w in result["warnings"] if w["code"] != "not_understood"]
    anchors = {c["chain"][0]["id"] for c in result["candidates"]}
    assert set(case.get("candidates_include", [])) <= anchors
    for cand in result["candidates"]:
        assert 0 <= cand["score"] <= 1


def test_scores_are_ranked(sample_context: Context) -> None:
    result = _decode(sample_context, "Quân khu 2", None)
    scores = [c["score"] for c in result["candidates"]]
    assert scores == sorted(scores, reverse=True)
    assert len(scores) >= 2


def test_resolved_chain_carries_sources(sample_context: Context) -> None:
    result = _decode(sample_context, "Công trường 9", "1968")
    link = result["candidates"][0]["chain"][0]
    assert link["name"] == "Sư đoàn 9"
    assert link["echelon"] == "division"
    match = link["matched"][0]
    assert match["code"] == "Công trường 9"
    assert match["kind"] == "cover_name"
    assert match["source"]["citation"]
    assert match["verification"] in {"verified", "unverified", "disputed"}
    assert result["date"]["precision"] == "year"


def test_anachronism_names_the_unit(sample_context: Context) -> None:
    result = _decode(
        sample_context, "Tiểu đoàn 7, 8, Trung đoàn 64, Sư đoàn 320A, Quân đoàn 3", "1968"
    )
    warning = next(w for w in result["warnings"] if w["code"] == "anachronistic_parent")
    assert "Quân đoàn 3" in warning["message_vi"]
    assert "1975" in warning["message_en"]
    start, end = warning["span"]
    assert result["input"][start:end] == "Quân đoàn 3"
