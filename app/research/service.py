"""Researchers' queries: listings of units and designations, search, exports.

Every JSON answer names its edition, carries a `cite` string, and gives the
source of each row (and the page's sources once more as a list to cite).
Listings page by keyset (`_next`), count and facet over the whole result, and
stream whole as CSV or NDJSON. The order of battle at a date is in `tree`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Edition, Source
from app.decode.facts import Validity
from app.editions.service import edition_ref
from app.parsing.dates import DateRange
from app.research import formats, params, queries
from app.research.cite import cite, request_line
from app.research.params import DesignationQuery, Paging, UnitQuery
from app.research.queries import Bound, Summary
from app.research.sql import MATCH_KINDS, many, prepare
from app.research.text import search_text
from app.research.urls import listing_url, unit_url

FACET_SIZE: Final = 30  # facet values shown, as Datasette does


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing: its rows (JSON-ready), the token of the next page, if any."""

    rows: list[dict[str, Any]]
    next: str | None


# --- rows -----------------------------------------------------------------------------------


def _validity(start: Any, start_p: Any, end: Any, end_p: Any) -> dict[str, Any]:
    return Validity(start, start_p, end, end_p).to_json()


def _source(row: Any) -> dict[str, Any]:
    return {
        "id": row.source,
        "kind": row.source_kind,
        "citation": row.source_citation,
        "url": row.source_url,
        "reliability": row.source_reliability,
    }


def _match(row: Any) -> dict[str, Any]:
    kind = MATCH_KINDS[row.match_class]
    return {
        "kind": kind,
        "fuzzy": kind == "fuzzy",
        "score": round(float(row.match_score), 3),
        "text": row.matched,
    }


def unit_json(
    row: Any, *, base: str, edition: Edition, notes: bool, searching: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "echelon": row.echelon,
        "existed": _validity(
            row.formed, row.formed_precision, row.dissolved, row.dissolved_precision
        ),
        "verification": row.verification,
        "source": _source(row),
        "url": unit_url(base, row.id, edition),
    }
    if notes:
        out["note"] = row.note
    if searching:
        out["match"] = _match(row)
    return out


def designation_json(row: Any, *, base: str, edition: Edition) -> dict[str, Any]:
    return {
        "unit": {"id": row.unit, "name": row.unit_name, "echelon": row.echelon},
        "kind": row.kind,
        "code": row.code,
        "match_key": row.match_key,
        "valid": _validity(
            row.valid_from, row.valid_from_precision, row.valid_to, row.valid_to_precision
        ),
        "source": _source(row),
        "verification": row.verification,
        "note": row.note,
        "unit_url": unit_url(base, row.unit, edition),
    }


@lru_cache(maxsize=1)
def _sources() -> Any:
    s = Source
    return (
        select(s.id, s.kind, s.citation, s.url, s.reliability)
        .where(s.id.in_(many("ids")))
        .order_by(s.id)
    )


def sources(session: Session, ids: Iterable[str]) -> list[dict[str, Any]]:
    """The sources named by `ids`, in id order."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    # Plain rows of a statement built once: loading ORM objects cost more than the query.
    found = session.connection().execute(_sources(), {"ids": wanted})
    return [
        {"id": id_, "kind": kind, "citation": citation, "url": url, "reliability": reliability}
        for id_, kind, citation, url, reliability in found
    ]


def _page_sources(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {row["source"]["id"]: row["source"] for row in rows}
    return [by_id[k] for k in sorted(by_id)]


# --- pages and facets -----------------------------------------------------------------------


def page(session: Session, bound: Bound, paging: Paging) -> tuple[list[Any], str | None]:
    """The rows of one page and the token of the next (None on the last page)."""
    sort = bound.listing.sort
    statement = bound.listing.first_page(counted=False)
    if paging.next:
        statement = statement.where(sort.after(sort.read_token(paging.next)))
    values = {**bound.params, queries.PAGE_LIMIT: paging.size + 1}
    found = list(session.execute(statement, values).all())
    more = len(found) > paging.size
    found = found[: paging.size]
    return found, sort.token(found[-1]) if more and found else None


def counted_page(
    session: Session, bound: Bound, paging: Paging
) -> tuple[list[Any], str | None, int | None]:
    """A page, its next token, and the count of all rows, in one statement (None: an empty
    page cannot say how many rows there are)."""
    sort = bound.listing.sort
    statement = bound.listing.first_page(counted=True)
    if paging.next:
        _, adapt = bound.listing.counted()
        statement = statement.where(adapt(sort.after(sort.read_token(paging.next))))
    values = {**bound.params, queries.PAGE_LIMIT: paging.size + 1}
    found = list(session.execute(statement, values).all())
    more = len(found) > paging.size
    found = found[: paging.size]
    token = sort.token(found[-1]) if more and found else None
    return found, token, int(found[0].total) if found else None


def page_and_summary(
    session: Session, bound: Bound, query: UnitQuery | DesignationQuery
) -> tuple[Summary, list[Any], str | None]:
    """A listing's page, next token, count and facets, in as few readings of its rows as can be.

    With facets: one statement counts and facets, another pages (none when nothing matched).
    A search without facets: one statement pages and counts (the search's index is read
    once), and a second counts only after an empty page that is not the first (an empty
    first page counts none). Other listings count apart: a window count over a wide listing
    (all units) costs more than counting it again.
    """
    if query.facets or not bound.listing.searching:
        summary = queries.summarise(session, bound, query.facets)
        if not summary.count:
            return summary, [], None
        found, token = page(session, bound, query.paging)
        return summary, found, token
    found, token, total = counted_page(session, bound, query.paging)
    if total is None:
        total = queries.summarise(session, bound, ()).count if query.paging.next else 0
    return Summary(total, {}), found, token


def _facet_value(name: str, value: Any) -> tuple[str | None, str]:
    if value is None:
        return None, "không rõ / unknown"
    if name == "decade":
        return str(int(value)), f"{int(value)}s"
    return str(value), str(value)


def _selected(name: str, value: str, chosen: Sequence[str]) -> bool:
    if name == "theater":
        return value in chosen or search_text(value) in {search_text(c) for c in chosen}
    return value in chosen


UrlFor = Callable[[str, str, bool], str | None]


def facets(
    session: Session,
    bound: Bound,
    summary: Summary,
    chosen: Mapping[str, Sequence[str]],
    url_for: UrlFor,
) -> dict[str, Any]:
    """Each facet's values with their counts over the whole result, and the URL toggling each."""
    out: dict[str, Any] = {}
    for name, counted in summary.facets.items():
        labels = queries.theater_labels(session, bound) if name == "theater" else {}
        results = []
        for raw, count in counted:
            value, label = _facet_value(name, raw)
            selected = value is not None and _selected(name, value, chosen.get(name, ()))
            results.append(
                {
                    "value": value,
                    "label": labels.get(raw, label),
                    "count": count,
                    "selected": selected,
                    "toggle_url": None if value is None else url_for(name, value, selected),
                }
            )
        results.sort(
            key=lambda r: (-int(r["count"] or 0), r["value"] is None, str(r["value"] or ""))
        )
        out[name] = {
            "name": name,
            "results": results[:FACET_SIZE],
            "truncated": len(results) > FACET_SIZE,
        }
    return out


@dataclass(frozen=True, slots=True)
class Request:
    """Where an answer's links point: the service's base URL and the listing's path."""

    base: str
    path: str


def _envelope(
    session: Session,
    edition: Edition,
    bound: Bound,
    summary: Summary,
    token: str | None,
    request: Request,
    *,
    query: UnitQuery | DesignationQuery,
    chosen: Mapping[str, Sequence[str]],
    fixed: Sequence[str] = (),
) -> dict[str, Any]:
    """What every listing answers besides its rows."""
    params_ = query.params()
    view = query.view_params()

    def url_for(name: str, value: str, selected: bool) -> str | None:
        if name in fixed:
            return None  # set by the path (/v1/theaters/B3/units): not a filter to toggle
        if selected:
            kept = [(k, v) for k, v in params_ if not (k == name and _selected(name, v, [value]))]
        else:
            kept = [*params_, (name, value)]
        return listing_url(request.base, request.path, [*kept, *view], edition)

    body: dict[str, Any] = {
        "edition": edition_ref(edition),
        "cite": cite(edition, request_line(request.path, params_, edition)),
        "query": dict(_grouped(params_)),
        "count": summary.count,
        "next": token,
        "next_url": (
            listing_url(request.base, request.path, [*params_, *view, ("_next", token)], edition)
            if token
            else None
        ),
    }
    if query.facets:
        body["facets"] = facets(session, bound, summary, chosen, url_for)
    return body


def _grouped(pairs: list[tuple[str, str]]) -> Iterator[tuple[str, str | list[str]]]:
    names = list(dict.fromkeys(k for k, _ in pairs))
    for name in names:
        values = [v for k, v in pairs if k == name]
        yield name, values[0] if len(values) == 1 else values


# --- units ----------------------------------------------------------------------------------


def in_theater(query: UnitQuery, theater: str) -> UnitQuery:
    """The query limited to one theatre (GET /v1/theaters/{code}/units)."""
    return replace(query, theater=(theater,), in_theater=theater)


def check_units(session: Session, edition: Edition, query: UnitQuery) -> None:
    """Raise the problem the listing would raise (before a stream starts)."""
    queries.units(session, edition.seq, query)


def list_units(
    session: Session, edition: Edition, query: UnitQuery, request: Request
) -> dict[str, Any]:
    """GET /v1/units: a page of units, the total, facets, the next page's URL, citation."""
    bound, summary, found, token = _unit_answer(session, edition.seq, query)
    chosen = {
        "echelon": query.echelon,
        "verification": query.verification,
        "decade": query.decade,
        "theater": query.theater,
    }
    fixed = ("theater",) if query.in_theater else ()
    body = _envelope(
        session, edition, bound, summary, token, request, query=query, chosen=chosen, fixed=fixed
    )
    notes = "notes" in query.extras
    rows = [
        unit_json(
            r, base=request.base, edition=edition, notes=notes, searching=bound.listing.searching
        )
        for r in found
    ]
    return {**body, "units": rows, "sources": _page_sources(rows)}


def _unit_answer(
    session: Session, seq: int, query: UnitQuery
) -> tuple[Bound, Summary, list[Any], str | None]:
    """The units answering `query`: the listing, its count and facets, a page, the next token.

    With fuzzy=auto the matches without fuzzy ones come first; only when there are none
    (their count says so) is the listing with fuzzy matches read.
    """
    if query.q is None or query.fuzzy != "auto":
        bound = queries.units(session, seq, query)
        return bound, *page_and_summary(session, bound, query)
    prepare(session, search=True)
    exact = queries.units(session, seq, query, fuzzy=False)
    summary, found, token = page_and_summary(session, exact, query)
    if summary.count >= queries.FUZZY_AUTO_BELOW:
        return exact, summary, found, token
    bound = queries.units(session, seq, query, fuzzy=True)
    return bound, *page_and_summary(session, bound, query)


def search_units(
    session: Session,
    edition: Edition,
    q: str,
    *,
    size: int = 20,
    date: DateRange | None = None,
    echelon: Sequence[str] = (),
    fuzzy: str = "auto",
    next: str | None = None,
    base: str = "",
) -> Page:
    """Units whose name or any code matches `q`, best first: exact, word prefix, inside, fuzzy.

    Diacritics and case do not matter. Each row (as in GET /v1/units) has `match`
    = {kind, fuzzy, score, text}; fuzzy matches (pg_trgm similarity ≥ 0.3) come
    last and say so; with fuzzy="auto" only when nothing matches otherwise.
    `date` keeps units that may have existed then. `next` is the previous
    Page.next. Raises InvalidQuery when `q` has no letter or digit.
    """
    query = params.unit_query(
        q=q, fuzzy=fuzzy, echelon=echelon, page_size=str(size), next_token=next
    )
    query = replace(query, active_on=date)
    bound = queries.units(session, edition.seq, query)
    found, token = page(session, bound, query.paging)
    rows = [unit_json(r, base=base, edition=edition, notes=False, searching=True) for r in found]
    return Page(rows, token)


def stream_units(
    session: Session, edition: Edition, query: UnitQuery, fmt: str, *, base: str
) -> Iterator[bytes]:
    """Every unit answering `query`, as CSV or NDJSON, a chunk at a time from a cursor."""
    bound = queries.units(session, edition.seq, query)
    searching = bound.listing.searching
    statement = bound.listing.ordered().execution_options(yield_per=500)
    result = session.execute(statement, bound.params)
    records = (
        formats.unit_record(r, base=base, edition=edition, searching=searching) for r in result
    )
    return formats.encode(fmt, formats.unit_columns(searching), records)


# --- designations ---------------------------------------------------------------------------


def check_designations(session: Session, edition: Edition, query: DesignationQuery) -> None:
    queries.designations(session, edition.seq, query)


def list_designations(
    session: Session, edition: Edition, query: DesignationQuery, request: Request
) -> dict[str, Any]:
    """GET /v1/designations: codes and names with their units and periods, all filters.

    `code` is read as decoding reads it (its match keys: "F9" finds "Sư đoàn 9"),
    so it lists every unit the code ever meant, never just the first.
    """
    bound = queries.designations(session, edition.seq, query)
    summary, found, token = page_and_summary(session, bound, query)
    chosen = {
        "kind": query.kind,
        "echelon": query.echelon,
        "verification": query.verification,
        "decade": query.decade,
        "theater": query.theater,
    }
    body = _envelope(session, edition, bound, summary, token, request, query=query, chosen=chosen)
    rows = [designation_json(r, base=request.base, edition=edition) for r in found]
    return {
        **body,
        "code": query.code_text,
        "keys": list(query.keys) if query.keys is not None else None,
        "designations": rows,
        "sources": _page_sources(rows),
    }


def stream_designations(
    session: Session, edition: Edition, query: DesignationQuery, fmt: str, *, base: str
) -> Iterator[bytes]:
    bound = queries.designations(session, edition.seq, query)
    statement = bound.listing.ordered().execution_options(yield_per=500)
    result = session.execute(statement, bound.params)
    records = (formats.designation_record(r, base=base, edition=edition) for r in result)
    return formats.encode(fmt, formats.DESIGNATION_COLUMNS, records)
