"""The answer's JSON, joined from fragments, is the same bytes as `json.dumps` of the dict trees.

`app/decode/encode.py` writes candidates and notices without building `to_json()` dicts.
Here its bytes are compared with `json.dumps(…, ensure_ascii=False, allow_nan=False,
separators=(",", ":")).encode()` of those dicts: for every golden case and many
combinations of the sample edition's codes (whole answers, on SQLite and PostgreSQL), for
made-up facts holding every kind of character, and for the batch lines against POST
/v1/decode.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.batch.rows import _summary_part
from app.context import Context
from app.decode.encode import Fragments, fragments_of, notices
from app.decode.facts import AreaFact, AssignmentFact, Fit, LinkFact, SourceRef, UnitFact, Validity
from app.decode.repository import EditionReader
from app.decode.resolver import (
    Candidate,
    ChainLink,
    Match,
    Resolution,
    Status,
    Unresolved,
    resolve,
)
from app.decode.service import answer_json, chosen_edition, decode
from app.main import create_app
from app.parsing import parse
from app.parsing.ast import Notice
from app.parsing.dates import parse_date
from app.settings import Settings

GOLDEN = Path(__file__).parent / "data" / "decode_golden.jsonl"
CASES = [
    json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines() if line.strip()
]
PIECES = [
    "C11", "D3", "E1", "E2", "F2", "F9", "QK5", "QK7", "B2", "B3", "Sư đoàn 9",
    "Công trường 9", "Công trường 5", "Đoàn 559", "Đoàn 759", "Đoàn 125", "Q761",
    "Quân đoàn 3", "Trung đoàn 1", "Mặt trận B3", "Quân khu 5", "Sư đoàn 5", "KBC 4",
    "C11A", "Hòm thư 91364 CS", "xyz",
]  # fmt: skip
DATES = [None, "1960", "1962", "1965", "27/1/1968", "1970", "1972", "30/4/1975", "1976"]


def _reference(value: Any) -> bytes:
    """What the answer was before the fragments: the dict tree, dumped."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _encoded(fragments: Fragments, resolution: Resolution) -> bytes:
    return fragments.candidates(resolution.candidates) + notices(resolution.warnings)


def _tree(resolution: Resolution) -> bytes:
    return _reference([c.to_json() for c in resolution.candidates]) + _reference(
        [w.to_json() for w in resolution.warnings]
    )


def _check(context: Context, fragments: list[Fragments], text: str, date: str | None) -> None:
    """Whole answers, and the candidates under fragment tables fresh, shared and tiny."""
    edition = chosen_edition(context, None)
    with context.session() as session:
        expected = _reference(decode(context, session, text, date, None))
    assert answer_json(context, edition, text, date) == expected, (text, date)
    reader = EditionReader(context.session_factory, edition.seq)
    resolution = resolve(parse(text), parse_date(date), reader)
    tree = _tree(resolution)
    for table in (*fragments, fragments_of(reader)):
        assert _encoded(table, resolution) == tree, (text, date)
        assert _encoded(table, resolution) == tree, (text, date)  # now from kept fragments


@pytest.fixture(scope="module")
def tables() -> list[Fragments]:
    # Shared by the cases (fragments made by earlier answers), and one evicting at once.
    return [Fragments(), Fragments(max_entries=3)]


@pytest.mark.parametrize("case", CASES, ids=[c["text"] + " @ " + str(c["date"]) for c in CASES])
def test_golden_cases_encode_alike(
    sample_context: Context, tables: list[Fragments], case: dict[str, Any]
) -> None:
    _check(sample_context, tables, case["text"], case["date"])


@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=5),
    st.sampled_from([", ", ".", " - ", " ", "/"]),
    st.sampled_from(DATES),
)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_combinations_encode_alike(
    sample_context: Context, pieces: list[str], separator: str, date: str | None
) -> None:
    _check(sample_context, [Fragments(max_entries=7)], separator.join(pieces), date)


def test_the_cases_have_what_the_fragments_write(sample_context: Context) -> None:
    # The comparisons above hold something: areas, parent links, several candidates, spans.
    edition = chosen_edition(sample_context, None)
    reader = EditionReader(sample_context.session_factory, edition.seq)
    seen: set[str] = set()
    for case in CASES:
        resolution = resolve(parse(case["text"]), parse_date(case["date"]), reader)
        seen.update(w.code for w in resolution.warnings)
        if len(resolution.candidates) > 1:
            seen.add("several candidates")
        for candidate in resolution.candidates:
            seen.update("unresolved" for _ in candidate.unresolved)
            for link in candidate.chain:
                seen.update("area" for _ in link.areas)
                seen.update("parent link" for _ in [link.parent_link] if link.parent_link)
                seen.update("match" for _ in link.matched)
    assert {"several candidates", "unresolved", "area", "parent link", "match"} <= seen


# --- made-up facts: any text, any bound, any score ---------------------------------------------

# Quotes, backslashes, control characters, non-ASCII and astral characters all escape alike.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
SPICY = st.sampled_from(['"', "\\", "\n", "\x00", "\x1f", "\x7f", "\u2028", "Đ", "😀", "</"])
STRINGS = st.one_of(TEXT, SPICY, st.lists(SPICY, max_size=4).map("".join))
DATE = st.one_of(st.none(), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))
PRECISION = st.one_of(st.none(), st.sampled_from(["day", "month", "year"]), STRINGS)
FITS = st.sampled_from(list(Fit))


@st.composite
def _validity(draw: st.DrawFn) -> Validity:
    return Validity(draw(DATE), draw(PRECISION), draw(DATE), draw(PRECISION))


@st.composite
def _source(draw: st.DrawFn) -> SourceRef:
    url = draw(st.one_of(st.none(), STRINGS))
    return SourceRef(draw(STRINGS), draw(STRINGS), draw(STRINGS), url, draw(STRINGS))


SOURCES = st.lists(_source(), min_size=1, max_size=2)


@st.composite
def _link(draw: st.DrawFn, sources: list[SourceRef]) -> ChainLink:
    def source() -> SourceRef:
        return draw(st.sampled_from(sources))

    unit = UnitFact(
        draw(STRINGS),
        draw(STRINGS),
        draw(STRINGS),
        draw(_validity()),
        source(),
        draw(STRINGS),
        draw(STRINGS),
    )
    matched = tuple(
        Match(
            draw(st.integers(0, 10**6)),
            draw(STRINGS),
            AssignmentFact(
                unit.id,
                draw(STRINGS),
                draw(STRINGS),
                draw(STRINGS),
                draw(_validity()),
                source(),
                draw(STRINGS),
                draw(STRINGS),
            ),
            draw(FITS),
            draw(st.booleans()),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    parent = None
    if draw(st.booleans()):
        parent = LinkFact(unit.id, draw(STRINGS), draw(_validity()), source(), *draw(TWO))
    areas = tuple(
        AreaFact(unit.id, draw(STRINGS), draw(_validity()), source(), *draw(TWO))
        for _ in range(draw(st.integers(0, 2)))
    )
    parent_fit = draw(st.one_of(st.none(), FITS)) if parent else None
    return ChainLink(unit, draw(FITS), matched, parent, parent_fit, lambda: areas)


TWO = st.tuples(STRINGS, STRINGS)
SPANS = st.one_of(st.none(), st.tuples(st.integers(0, 10**4), st.integers(0, 10**4)))
NOTICES = st.builds(Notice, STRINGS, STRINGS, STRINGS, SPANS)
SCORES = st.one_of(
    st.floats(0, 1, allow_nan=False), st.sampled_from([0.0, 1.0, 0.1, 1e-7, 0.333, 5e-324])
)


def _same(notice: Notice) -> Notice:
    return notice


@st.composite
def _candidates(draw: st.DrawFn) -> list[Candidate]:
    sources = draw(SOURCES)
    out = []
    for _ in range(draw(st.integers(0, 3))):
        chain = tuple(draw(_link(sources)) for _ in range(draw(st.integers(1, 4))))
        unresolved = tuple(
            Unresolved(draw(st.integers(0, 99)), draw(STRINGS), draw(STRINGS))
            for _ in range(draw(st.integers(0, 2)))
        )
        reasons = tuple((n.code, partial(_same, n)) for n in draw(st.lists(NOTICES, max_size=3)))
        warnings = tuple((n.code, partial(_same, n)) for n in draw(st.lists(NOTICES, max_size=3)))
        out.append(Candidate(draw(SCORES), chain, unresolved, reasons, warnings))
    return out


@given(_candidates(), st.lists(NOTICES, max_size=3))
@settings(max_examples=300, deadline=None)
def test_any_facts_encode_alike(candidates: list[Candidate], warnings: list[Notice]) -> None:
    tree = _reference([c.to_json() for c in candidates]) + _reference(
        [w.to_json() for w in warnings]
    )
    table = Fragments(max_entries=5)
    assert table.candidates(candidates) + notices(warnings) == tree
    assert table.candidates(candidates) + notices(warnings) == tree


def _unit(unit: UnitFact) -> dict[str, Any]:
    return {"id": unit.id, "name": unit.name, "echelon": unit.echelon}


@given(_candidates(), st.lists(NOTICES, max_size=3), st.sampled_from(list(Status)))
@settings(max_examples=300, deadline=None)
def test_any_facts_summarize_alike(
    candidates: list[Candidate], warnings: list[Notice], status: Status
) -> None:
    """A batch item's summary (`rows._summary_part`) is `json.dumps` of the same facts."""
    resolution = Resolution(status, tuple(candidates), tuple(warnings))
    best = candidates[0] if candidates else None
    expected = {
        "status": status.value,
        "unit": _unit(best.chain[0].unit) if best else None,
        "chain": [_unit(link.unit) for link in best.chain] if best else [],
        "score": best.score if best else None,
        "others": [{**_unit(c.chain[0].unit), "score": c.score} for c in candidates[1:]],
        "warning_codes": list(resolution.warning_codes),
    }
    units: dict[UnitFact, bytes] = {}
    assert b"{" + _summary_part(resolution.brief(), units) + b"}" == _reference(expected)
    assert b"{" + _summary_part(resolution.brief(), units) + b"}" == _reference(expected)


def test_a_score_that_json_refuses_is_refused() -> None:
    unit = UnitFact("u", "regiment", "U", Validity(), SourceRef("S", "k", "c", None, "r"), "", "")
    candidate = Candidate(float("nan"), (ChainLink(unit, Fit.INSIDE),), (), (), ())
    with pytest.raises(ValueError, match="Out of range float values"):
        _reference([candidate.to_json()])
    with pytest.raises(ValueError, match="Out of range float values"):
        Fragments().candidates([candidate])


# --- a batch line is the single answer, byte for byte -------------------------------------------


@pytest.fixture(scope="module")
def client(sample_context: Context) -> Iterator[TestClient]:
    app = create_app(
        Settings(database_url=sample_context.settings.database_url), context=sample_context
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_batch_lines_are_the_single_answers(client: TestClient) -> None:
    items: list[dict[str, Any]] = [
        {"id": f"LS-{i}", "text": c["text"], "date": c["date"]} for i, c in enumerate(CASES)
    ]
    items += [{"id": 7, "text": 'C11, D3, E1 "x" \\ F9', "date": "1968"}, {"text": "E2"}]
    response = client.post(
        "/v1/decode/batch",
        json={"items": items, "view": "full"},
        headers={"accept": "application/x-ndjson"},
    )
    assert response.status_code == 200
    lines = response.content.splitlines()
    assert len(lines) == len(items)
    for index, (item, line) in enumerate(zip(items, lines, strict=True)):
        head = b'{"id":' + _reference(item.get("id")) + b',"index":' + str(index).encode() + b","
        assert line.startswith(head)
        single = client.post("/v1/decode", json={"text": item["text"], "date": item.get("date")})
        assert single.status_code == 200
        assert b"{" + line[len(head) :] == single.content
