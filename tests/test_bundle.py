"""Codebook bundles: validation with file/line/column, atomic import, immutable editions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.context import Context
from app.db.models import Area, Assignment, Edition, ParentLink, Source, Unit, UnitRevision
from app.decode.service import decode
from app.errors import BundleInvalid
from codebook.bundle import SAMPLE_BUNDLE, read_bundle, write_bundle
from codebook.store import edition_bundle, load_bundle

BREAKAGES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "bundle_breakages.jsonl")
    .read_text("utf-8")
    .splitlines()
    if line.strip()
]


def _copy_sample(tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(SAMPLE_BUNDLE, target)
    return target


def _append(path: Path, line: str) -> int:
    """Append a CSV line; return its 1-based line number."""
    text = path.read_text("utf-8")
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + line + "\n", "utf-8")
    return len((text + line).splitlines())


def _counts(context: Context) -> dict[str, int]:
    with context.session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Edition, Source, Unit, UnitRevision, Assignment, ParentLink, Area)
        }


def test_sample_reads_and_round_trips(tmp_path: Path) -> None:
    bundle = read_bundle(SAMPLE_BUNDLE)
    assert bundle.label == "sample-2026.1"
    assert bundle.units
    assert bundle.assignments
    assert bundle.sources
    write_bundle(bundle, tmp_path / "out")
    again = read_bundle(tmp_path / "out")
    assert (again.label, again.note) == (bundle.label, bundle.note)
    for name, rows in bundle.tables().items():
        assert list(again.tables()[name]) == sorted(rows)
    assert again.checksum == bundle.checksum


def test_every_sample_row_cites_a_known_source() -> None:
    bundle = read_bundle(SAMPLE_BUNDLE)
    sources = {s.id for s in bundle.sources}
    for rows in (bundle.units, bundle.assignments, bundle.parent_links, bundle.areas):
        for row in rows:
            assert row.source in sources
            assert row.verification in {"verified", "unverified", "disputed"}


@pytest.mark.parametrize("case", BREAKAGES, ids=[c["why"] for c in BREAKAGES])
def test_breakage_is_reported_with_place(tmp_path: Path, case: dict[str, Any]) -> None:
    folder = _copy_sample(tmp_path)
    line = _append(folder / case["file"], case["append"])
    with pytest.raises(BundleInvalid) as caught:
        read_bundle(folder)
    problems = caught.value.extra["problems"]
    assert {"file": case["file"], "line": line} in [
        {"file": p["file"], "line": p["line"]} for p in problems
    ], problems
    assert case["column"] in [p["column"] for p in problems if p["line"] == line]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    folder = _copy_sample(tmp_path)
    for case in BREAKAGES[:4]:
        _append(folder / case["file"], case["append"])
    with pytest.raises(BundleInvalid) as caught:
        read_bundle(folder)
    assert len(caught.value.extra["problems"]) >= 4


def test_missing_file_and_column(tmp_path: Path) -> None:
    folder = _copy_sample(tmp_path)
    (folder / "areas.csv").unlink()
    units = folder / "units.csv"
    lines = units.read_text("utf-8").splitlines()
    lines[0] = lines[0].replace(",echelon", "")
    units.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(BundleInvalid) as caught:
        read_bundle(folder)
    problems = {(p["file"], p["column"]) for p in caught.value.extra["problems"]}
    assert ("areas.csv", "") in problems
    assert ("units.csv", "echelon") in problems


def test_reimporting_the_sample_is_a_no_op(fresh_context: Context) -> None:
    before = _counts(fresh_context)
    with fresh_context.session() as session:
        outcome = load_bundle(session, read_bundle(SAMPLE_BUNDLE), publish=True)
    assert not outcome.created
    assert _counts(fresh_context) == before


def test_conflicting_source_writes_nothing(fresh_context: Context, tmp_path: Path) -> None:
    folder = _copy_sample(tmp_path)
    sources = folder / "sources.csv"
    sources.write_text(sources.read_text("utf-8").replace("bktt.vn", "bktt.example", 1), "utf-8")
    toml = folder / "bundle.toml"
    toml.write_text(toml.read_text("utf-8").replace("sample-2026.1", "2026.2"), "utf-8")
    bundle = read_bundle(folder)  # valid on its own; conflicts with the database
    before = _counts(fresh_context)
    with pytest.raises(BundleInvalid), fresh_context.session() as session:
        load_bundle(session, bundle, publish=True)
    assert _counts(fresh_context) == before


def test_new_edition_leaves_the_old_one_unchanged(fresh_context: Context, tmp_path: Path) -> None:
    def answer(edition: str) -> dict[str, Any]:
        with fresh_context.session() as session:
            return decode(fresh_context, session, "Công trường 9", "1968", edition)

    old_answer = answer("sample-2026.1")
    folder = _copy_sample(tmp_path)
    assignments = folder / "assignments.csv"
    text = assignments.read_text("utf-8")
    # A correction: the cover name is moved to another (real) unit of the sample.
    text = text.replace("su-doan-9,cover_name,Công trường 9", "su-doan-7,cover_name,Công trường 9")
    assignments.write_text(text, "utf-8")
    toml = folder / "bundle.toml"
    toml.write_text(toml.read_text("utf-8").replace("sample-2026.1", "test-2"), "utf-8")
    with fresh_context.session() as session:
        outcome = load_bundle(session, read_bundle(folder), publish=True)
        assert outcome.created
        assert outcome.superseded == 1
        assert outcome.added == 1

    new_answer = answer("test-2")
    assert new_answer["candidates"][0]["chain"][0]["id"] == "su-doan-7"
    assert new_answer["edition"]["label"] == "test-2"
    # The published edition answers exactly as before, byte for byte.
    assert json.dumps(answer("sample-2026.1"), sort_keys=True) == json.dumps(
        old_answer, sort_keys=True
    )
    with fresh_context.session() as session:
        editions = session.scalars(select(Edition).order_by(Edition.seq)).all()
        assert [e.label for e in editions] == ["sample-2026.1", "test-2"]
        assert edition_bundle(session, editions[0]).checksum == editions[0].checksum
        assert edition_bundle(session, editions[1]).checksum == editions[1].checksum
