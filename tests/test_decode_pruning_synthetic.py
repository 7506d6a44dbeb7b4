"""Pruned ranking and the single-chain shortcut change no answer at national shapes.

The sample edition has no code that thousands of units share; the synthetic codebook of
bench/synth.py does ("Đại đội 3" for about a twentieth of all companies), and its list
writes records as the national list does. Each distinct (designation, date) of a slice
of that list is resolved twice, by the resolver as it runs and by one that drafts every
anchor, and the whole answers compared. Everything here is synthetic (labelled so in
its ids and names) and lives in a temporary SQLite file.
"""

from __future__ import annotations

import csv
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from app.batch.rows import summarize
from app.context import Context
from app.decode.memo import RecordingReader
from app.decode.repository import EditionReader
from app.decode.resolver import Resolution, _Resolver
from app.parsing import parse
from app.parsing.dates import parse_date
from app.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
synth: Any = importlib.import_module("synth")  # bench/synth.py, the synthetic codebook

UNITS = 2_000  # enough companies that each company number is a wide key (> WIDE units)
ROWS = 12_000
CASES = 1_500


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


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Context, int, list[list[str]]]:
    work = tmp_path_factory.mktemp("synthetic")
    bundle, units, mailboxes = synth.build_bundle(UNITS, 10 * UNITS, seed=3)
    synth.write_bundle(bundle, work / "codebook")
    listing = work / "list.csv"
    synth.write_list(listing, units, mailboxes, ROWS, seed=3)
    url = f"sqlite:///{work / 'synthetic.sqlite3'}"
    seq = synth.load(work / "codebook", url)
    with listing.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    d, t = header.index("Đơn vị khi hy sinh"), header.index("Ngày hy sinh")
    pairs = list(dict.fromkeys((r[d], r[t]) for r in rows[1:]))[:CASES]
    context = Context.from_settings(Settings(database_url=url, auto_init=False))
    return context, seq, [list(p) for p in pairs]


def test_the_batch_brief_is_the_full_answers_and_reads_the_same_periods(
    synthetic: tuple[Context, int, list[list[str]]],
) -> None:
    # A list's decode columns come from `brief`, which skips building the answer for the
    # usual shape; they must be the full answer's, and the answer is remembered for every
    # date alike against the periods read, so it must read the same ones.
    context, seq, pairs = synthetic
    reader = EditionReader(context.session_factory, seq)
    lean = 0
    for text, date in pairs:
        parsed, when = parse(text), parse_date(date or None)
        fast, full = RecordingReader(reader), RecordingReader(reader)
        resolver = _Resolver(parsed, when, fast)
        cells = summarize(resolver.brief(), "synthetic")
        assert cells == summarize(_Resolver(parsed, when, full).run(), "synthetic"), (text, date)
        assert fast.points() == full.points(), (text, date)
        lean += resolver.drafted == 0 and bool(resolver.targets)
    assert lean >= 100  # the usual shape took the short way (154 of these 1,500)


def test_every_answer_is_the_one_ranking_every_draft_gives(
    synthetic: tuple[Context, int, list[list[str]]],
) -> None:
    context, seq, pairs = synthetic
    pruned_reader = EditionReader(context.session_factory, seq)
    full_reader = EditionReader(context.session_factory, seq)
    shapes = {"single chain": 0, "wide, narrowed": 0, "sampled": 0}
    for text, date in pairs:
        parsed, when = parse(text), parse_date(date or None)
        pruned = _Resolver(parsed, when, pruned_reader)
        full = _Resolver(parsed, when, full_reader, prune=False)
        assert _answer(pruned.run()) == _answer(full.run()), (text, date)
        infos = list(pruned.info.values())
        if infos and all(len(t.facts) == 1 for t in infos) and pruned.drafted == 1:
            shapes["single chain"] += 1
        if any(t.narrowed for t in infos):
            shapes["wide, narrowed"] += 1
        if any(t.sampled for t in infos):
            shapes["sampled"] += 1
    # The slice holds every shape the shortcuts are for, so the comparison covers them.
    assert all(count >= 8 for count in shapes.values()), shapes


# --- the shortcut's own limit: a weak smallest reading leaves the ranking to every anchor ---

SOURCE = synth.SOURCES[0].id


def _weak_company_codebook(folder: Path) -> str:
    """A synthetic company whose code is disputed and out of period at 1969, under a
    battalion whose code is verified: the battalion alone outscores the whole chain."""
    from codebook.bundle import AssignmentRow, Bundle, ParentLinkRow, UnitRow, write_bundle

    company, battalion = "synthetic-unit-weak-c", "synthetic-unit-weak-d"
    ok, doubt = "verified", "disputed"
    bundle = Bundle(
        label="synthetic-weak-company",
        note=synth.SYNTHETIC_NOTE,
        sources=synth.SOURCES,
        units=(
            UnitRow(company, "company", "Đại đội 3 (tổng hợp)", "1960", "", SOURCE, ok, ""),
            UnitRow(battalion, "battalion", "Tiểu đoàn 4 (tổng hợp)", "1960", "", SOURCE, ok, ""),
        ),
        assignments=(
            AssignmentRow(company, "designation", "Đại đội 3", "1970", "1972", SOURCE, doubt, ""),
            AssignmentRow(battalion, "designation", "Tiểu đoàn 4", "1960", "", SOURCE, ok, ""),
        ),
        parent_links=(ParentLinkRow(company, battalion, "1965", "1969", SOURCE, doubt, ""),),
        areas=(),
    )
    write_bundle(bundle, folder / "codebook")
    url = f"sqlite:///{folder / 'weak.sqlite3'}"
    synth.load(folder / "codebook", url)
    return url


def test_a_weak_smallest_reading_is_ranked_with_every_anchor(tmp_path: Path) -> None:
    url = _weak_company_codebook(tmp_path)
    context = Context.from_settings(Settings(database_url=url, auto_init=False))
    parsed, when = parse("C3, D4"), parse_date("1969")
    answers = []
    for prune in (True, False):
        reader = EditionReader(context.session_factory, 1)
        answers.append(_answer(_Resolver(parsed, when, reader, prune=prune).run()))
    assert answers[0] == answers[1]
    status, candidates, _ = json.loads(answers[0])
    # The battalion's own reading (0.5) outranks the whole chain (0.478): both are kept.
    assert [c["chain"][0]["id"] for c in candidates] == [
        "synthetic-unit-weak-d",
        "synthetic-unit-weak-c",
    ]
    assert status == "ambiguous"


# --- a wide code narrowed by a larger unit that had nothing under it at the date ---------------


def _two_regiments_codebook(folder: Path) -> str:
    """Two synthetic "Đại đội 3", each in its own regiment; the first regiment's battalion
    stands under it from 1960 only."""
    from codebook.bundle import AssignmentRow, Bundle, ParentLinkRow, UnitRow, write_bundle

    ok = "verified"
    units = [
        ("synthetic-unit-e9", "regiment", "Trung đoàn 9 (tổng hợp)", "Trung đoàn 9"),
        ("synthetic-unit-e9-d1", "battalion", "Tiểu đoàn 1 thuộc E9 (tổng hợp)", "Tiểu đoàn 1"),
        ("synthetic-unit-e9-c3", "company", "Đại đội 3 thuộc E9 (tổng hợp)", "Đại đội 3"),
        ("synthetic-unit-e7", "regiment", "Trung đoàn 7 (tổng hợp)", "Trung đoàn 7"),
        ("synthetic-unit-e7-d2", "battalion", "Tiểu đoàn 2 thuộc E7 (tổng hợp)", "Tiểu đoàn 2"),
        ("synthetic-unit-e7-c3", "company", "Đại đội 3 thuộc E7 (tổng hợp)", "Đại đội 3"),
    ]
    links = [
        ("synthetic-unit-e9-d1", "synthetic-unit-e9", "1960"),
        ("synthetic-unit-e9-c3", "synthetic-unit-e9-d1", "1960"),
        ("synthetic-unit-e7-d2", "synthetic-unit-e7", "1950"),
        ("synthetic-unit-e7-c3", "synthetic-unit-e7-d2", "1950"),
    ]
    bundle = Bundle(
        label="synthetic-two-regiments",
        note=synth.SYNTHETIC_NOTE,
        sources=synth.SOURCES,
        units=tuple(UnitRow(u, e, name, "1950", "", SOURCE, ok, "") for u, e, name, _ in units),
        assignments=tuple(
            AssignmentRow(u, "designation", code, "1950", "", SOURCE, ok, "")
            for u, _, _, code in units
        ),
        parent_links=tuple(ParentLinkRow(c, p, start, "", SOURCE, ok, "") for c, p, start in links),
        areas=(),
    )
    write_bundle(bundle, folder / "codebook")
    url = f"sqlite:///{folder / 'two.sqlite3'}"
    synth.load(folder / "codebook", url)
    return url


@pytest.mark.parametrize(
    ("text", "date", "company", "code"),
    [
        # Under E9 at the date: narrowed as usual.
        ("Đại đội 3, Trung đoàn 9", "1965", "synthetic-unit-e9-c3", None),
        # Before E9's battalion stood under it: E9's company all the same, with a warning,
        # not whichever "Đại đội 3" the codebook lists first.
        ("Đại đội 3, Trung đoàn 9", "1955", "synthetic-unit-e9-c3", "narrowed_at_other_dates"),
        ("C3, E9", "1955", "synthetic-unit-e9-c3", "narrowed_at_other_dates"),
        ("Đại đội 3, Trung đoàn 7", "1955", "synthetic-unit-e7-c3", None),
        # A regiment the codebook does not know narrows nothing: the first readings only.
        ("Đại đội 3, Trung đoàn 8", "1955", None, "too_many_readings"),
    ],
)
def test_a_wide_code_is_narrowed_by_the_units_ever_under_the_larger_one(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    date: str,
    company: str | None,
    code: str | None,
) -> None:
    from app.decode import resolver

    monkeypatch.setattr(resolver, "WIDE", 1)  # two "Đại đội 3" are already too many
    context = Context.from_settings(
        Settings(database_url=_two_regiments_codebook(tmp_path), auto_init=False)
    )
    parsed, when = parse(text), parse_date(date)
    answers = []
    for prune in (True, False):
        reader = EditionReader(context.session_factory, 1)
        answers.append(_Resolver(parsed, when, reader, prune=prune).run())
    assert _answer(answers[0]) == _answer(answers[1])
    found = answers[0]
    readings = {
        m.assignment.unit_id for c in found.candidates for link in c.chain for m in link.matched
    }
    companies = {u for u in readings if u.endswith("-c3")}
    codes = [w.code for c in found.candidates for w in c.warnings] + list(found.warning_codes)
    if company is not None:
        assert companies == {company}, found
        # Its chain up to the regiment the record names, through links of other periods
        # where none stood at the date.
        chain = [link.unit.id for link in found.candidates[0].chain]
        regiment = company.removesuffix("-c3")
        assert chain == [
            company,
            f"{regiment}-{'d1' if regiment.endswith('e9') else 'd2'}",
            regiment,
        ]
    else:
        assert len(companies) == 1  # one of the two, sampled
    if code is not None:
        assert code in codes
    assert ("narrowed_at_other_dates" in codes) == (code == "narrowed_at_other_dates")
