"""A small unit search for the page's /search, until issue 7's research search lands.

STAND-IN: replace `search_units` with issue 7's search (GET /v1/units?q=) when
it lands. It reads every unit name and assignment code of the edition per
call and compares diacritic-folded text in Python: fine for the sample
codebook, not for a national one (issue 7 indexes this in the database).

Matching is insensitive to diacritics, case and spacing (`app.parsing.fold`):
"dong bang" finds "Đại đoàn Đồng Bằng". A query that parses as a designation
("F9", "QK5") also meets codes by their match key, so the exact written form
is not needed. Ranks: exact, then prefix, then substring, then every word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Assignment, UnitRevision
from app.decode.facts import Fit, Validity
from app.errors import PhienhieuError
from app.parsing import fold, parse
from app.parsing.dates import DateRange
from app.parsing.keys import element_keys
from codebook.store import visible

EXACT, PREFIX, SUBSTRING, ALL_WORDS = 0, 1, 2, 3
DEFAULT_LIMIT: Final = 50


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A unit found, with the best-ranked name or code it was found by."""

    unit_id: str
    name: str
    echelon: str
    existed: Validity
    rank: int
    matched: str  # the name or code as the codebook writes it
    matched_kind: str | None  # assignment kind; None for the unit's own name
    matched_valid: Validity | None


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: tuple[SearchHit, ...]
    total: int  # before the limit


def _rank(query: str, words: tuple[str, ...], text: str) -> int | None:
    folded = fold(text)
    if folded == query:
        return EXACT
    if folded.startswith(query):
        return PREFIX
    if query in folded:
        return SUBSTRING
    if len(words) > 1 and all(w in folded for w in words):
        return ALL_WORDS
    return None


def _query_keys(query: str) -> frozenset[str]:
    """Match keys of a query that reads as one designation ("F9" → division:9)."""
    try:
        parsed = parse(query)
    except PhienhieuError:  # over-long text: no keys; plain text matching still runs
        return frozenset()
    if len(parsed.elements) != 1 or parsed.residue:
        return frozenset()
    return frozenset(element_keys(parsed.elements[0]))


def _existed(unit: UnitRevision) -> Validity:
    return Validity(unit.formed, unit.formed_precision, unit.dissolved, unit.dissolved_precision)


def _allowed(validity: Validity, when: DateRange | None) -> bool:
    return when is None or validity.fit(when) is not Fit.OUTSIDE


def search_units(
    session: Session,
    edition_seq: int,
    query: str,
    *,
    echelon: str | None = None,
    when: DateRange | None = None,
    limit: int = DEFAULT_LIMIT,
) -> SearchResult:
    """Units of edition `edition_seq` whose name or a code matches `query`, best first."""
    folded_query = fold(query)
    if not folded_query:
        return SearchResult((), 0)
    words = tuple(folded_query.split(" "))
    keys = _query_keys(query)

    units: dict[str, UnitRevision] = {}
    for unit in session.scalars(select(UnitRevision).where(visible(UnitRevision, edition_seq))):
        if (echelon is None or unit.echelon == echelon) and _allowed(_existed(unit), when):
            units[unit.unit_id] = unit

    best: dict[str, SearchHit] = {}

    def offer(hit: SearchHit) -> None:
        current = best.get(hit.unit_id)
        # Ties keep the unit's own name, which is offered first.
        if current is None or hit.rank < current.rank:
            best[hit.unit_id] = hit

    for unit in units.values():
        rank = _rank(folded_query, words, unit.name)
        if rank is not None:
            offer(
                SearchHit(
                    unit.unit_id,
                    unit.name,
                    unit.echelon,
                    _existed(unit),
                    rank,
                    unit.name,
                    None,
                    None,
                )
            )

    rows = session.scalars(
        select(Assignment)
        .where(visible(Assignment, edition_seq))
        .order_by(Assignment.unit_id, Assignment.id)
    )
    for row in rows:
        found = units.get(row.unit_id)
        if found is None:
            continue
        valid = Validity(
            row.valid_from, row.valid_from_precision, row.valid_to, row.valid_to_precision
        )
        if not _allowed(valid, when):
            continue
        rank = EXACT if row.match_key in keys else _rank(folded_query, words, row.code)
        if rank is not None:
            offer(
                SearchHit(
                    found.unit_id,
                    found.name,
                    found.echelon,
                    _existed(found),
                    rank,
                    row.code,
                    row.kind,
                    valid,
                )
            )

    ordered = sorted(best.values(), key=lambda h: (h.rank, fold(h.name), h.unit_id))
    return SearchResult(tuple(ordered[:limit]), len(ordered))
