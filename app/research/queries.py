"""The listings as SQL: one filtered statement per listing, its sorts, facets and count.

A listing is a subquery `rows` (one row per answer, filters applied, no order);
a page orders it by a Sort and starts after the `_next` key; facets group it;
the CSV/NDJSON streams read it whole. So a page, its facets and its export
always describe the same rows.

Statements are built once per shape of question (which filters are given, the
sort, the engine) and cached; the values travel as bind parameters (`Bound`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import (
    Select,
    String,
    Subquery,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import ClauseAdapter

from app.db.models import Assignment, Source, UnitRevision
from app.parsing.dates import DateRange
from app.research import sql
from app.research.errors import TheaterNotFound
from app.research.paging import Part, Sort
from app.research.params import DesignationQuery, UnitQuery
from app.research.sql import many, p, seen
from app.research.text import search_text

PAGE_LIMIT: Final = "page_limit"  # the bind parameter of a page's row limit
FUZZY_AUTO_BELOW: Final = 1  # fuzzy=auto adds fuzzy matches when fewer rows match otherwise
# The theatre facet climbs from the listed units up to their theatres when they are at most
# this many, else descends from the theatres through every unit (the same pairs either way).
THEATER_CLIMB_AT_MOST: Final = 5_000
SOURCE_COLUMNS: Final = (
    Source.kind.label("source_kind"),
    Source.citation.label("source_citation"),
    Source.url.label("source_url"),
    Source.reliability.label("source_reliability"),
)


@dataclass(frozen=True, slots=True)
class Listing:
    """A listing's statements for one shape of question (cached; values are bind parameters)."""

    rows: Subquery
    sort: Sort
    engine: str
    searching: bool
    dated: bool
    value_of: dict[str, tuple[str, Any]]  # column facet -> (its column, function of it)
    theater_keys: tuple[str, str]  # the labels of a row's unique key and its unit in `rows`
    built: dict[str, Any] = field(default_factory=dict)  # statements made from the above

    def _cached(self, key: str, make: Any) -> Any:
        found = self.built.get(key)
        if found is None:
            found = self.built[key] = make()
        return found

    def ordered(self) -> Select[Any]:
        """All rows in order, each with its source's citation."""

        def make() -> Select[Any]:
            rows = self.rows
            return (
                select(rows, *SOURCE_COLUMNS)
                .join(Source, Source.id == rows.c.source)
                .order_by(*self.sort.order_by())
            )

        statement: Select[Any] = self._cached("ordered", make)
        return statement

    def counted(self) -> tuple[Subquery, Any]:
        """All rows with their sources and `total`, the count of all rows, beside each; and the
        function that moves an expression on `rows` (the sort) onto them.

        A page of it (the keyset condition and order applied outside) reads the rows once for
        both the page and the count.
        """

        def make() -> tuple[Subquery, Any]:
            rows = self.rows
            inner = (
                select(rows, *SOURCE_COLUMNS, func.count().over().label("total"))
                .join(Source, Source.id == rows.c.source)
                .subquery("counted")
            )
            return inner, ClauseAdapter(inner).traverse

        found: tuple[Subquery, Any] = self._cached("counted", make)
        return found

    def first_page(self, counted: bool) -> Select[Any]:
        """The first :page_limit rows in order: of `ordered()`, or (`counted`) of `counted()`.

        Made once per listing, as its other statements: one built afresh for each request
        costs SQLAlchemy a new cache key and the sort moved onto `counted()` (a millisecond of
        a 3 ms search). Later pages add their `_next` condition to it.
        """

        def make() -> Select[Any]:
            if not counted:
                return self.ordered().limit(p(PAGE_LIMIT))
            rows, adapt = self.counted()
            ordered = select(rows).order_by(*(adapt(c) for c in self.sort.order_by()))
            return ordered.limit(p(PAGE_LIMIT))

        statement: Select[Any] = self._cached(f"first_page:{counted}", make)
        return statement

    def summary(self, names: tuple[str, ...]) -> Any:
        """The count and the column facets `names` in one statement that reads the rows once.

        Rows (facet, value, count): facet "" is the count; values are text (NULL: none).
        PostgreSQL groups by GROUPING SETS in one pass; SQLite, which has none, groups a
        common table expression once per facet. The same rows either way.
        """

        def make() -> Any:
            needed = dict.fromkeys(self.value_of[name][0] for name in names)
            keys = needed or [self.theater_keys[0]]
            listed = select(*(self.rows.c[c] for c in keys)).cte("listed")
            values = {
                name: cast(self.value_of[name][1](listed.c[self.value_of[name][0]]), String)
                for name in names
            }
            if self.engine == "postgresql" and names:
                facet = case(
                    *((func.grouping(v) == 0, literal(n)) for n, v in values.items()),
                    else_=literal(""),
                )
                return (
                    select(
                        facet.label("facet"),
                        func.coalesce(*values.values(), null()).label("value"),
                        func.count().label("n"),
                    )
                    .select_from(listed)
                    .group_by(func.grouping_sets(tuple_(), *(tuple_(v) for v in values.values())))
                )
            parts: list[Any] = [
                select(
                    literal("").label("facet"),
                    cast(null(), String).label("value"),
                    func.count().label("n"),
                ).select_from(listed)
            ]
            for name, value in values.items():
                parts.append(select(literal(name), value, func.count()).group_by(value))
            return union_all(*parts)

        return self._cached(f"summary:{','.join(names)}", make)

    def theater_facet(self, climb: bool) -> Select[Any]:
        """Rows per theatre they stand in at the date (a row in nested theatres counts in each).

        `climb`: up from the rows' units (few rows), else down from the theatres (many).
        """
        row_key, unit_key = self.theater_keys

        def make() -> Select[Any]:
            rows = self.rows
            if not climb:
                members = sql.theater_members(self.dated, False, "theater_of")
                return (
                    select(
                        members.c.theater.label("value"),
                        func.count(func.distinct(rows.c[row_key])),
                    )
                    .join(rows, rows.c[unit_key] == members.c.unit_id)
                    .group_by(members.c.theater)
                )
            listed = select(rows.c[row_key].label("key"), rows.c[unit_key].label("unit")).cte(
                "listed"
            )
            above = sql.units_above(select(listed.c.unit).distinct(), self.dated, "above")
            roots = sql.theater_roots(self.dated, False).subquery("roots")
            return (
                select(roots.c.theater.label("value"), func.count(func.distinct(listed.c.key)))
                .select_from(listed)
                .join(above, above.c.unit_id == listed.c.unit)
                .join(roots, roots.c.unit_id == above.c.above)
                .group_by(roots.c.theater)
            )

        statement: Select[Any] = self._cached(f"theater:{climb}", make)
        return statement


@dataclass(frozen=True, slots=True)
class Bound:
    """A listing and the values of its parameters: what one request asks."""

    listing: Listing
    params: dict[str, Any]
    seq: int
    when: DateRange | None


@dataclass(frozen=True, slots=True)
class Summary:
    """A listing's count and facets over the whole result: facet -> (value, count) rows."""

    count: int
    facets: dict[str, list[tuple[Any, int]]]


def summarise(session: Session, bound: Bound, names: Sequence[str]) -> Summary:
    """Count and facet the rows of `bound`: one statement, and one more for the theatre facet."""
    columns = tuple(n for n in names if n != "theater")
    counted: dict[str, list[tuple[Any, int]]] = {n: [] for n in names}
    total = 0
    for facet, value, n in session.execute(bound.listing.summary(columns), bound.params):
        if facet == "":
            total = int(n)
        else:
            counted[facet].append((value, int(n)))
    if "theater" in names and total:
        climb = total <= THEATER_CLIMB_AT_MOST
        found = session.execute(bound.listing.theater_facet(climb), bound.params)
        counted["theater"] = [(value, int(n)) for value, n in found]
    return Summary(total, counted)


def _dated(when: DateRange | None) -> bool:
    return when is not None


def check_theaters(
    session: Session, seq: int, when: DateRange | None, wanted: tuple[str, ...]
) -> None:
    """Every theatre asked for exists in the edition (at the date, if one is given)."""
    found = session.execute(
        _roots(_dated(when), True),
        {"seq": seq, **sql.params_for_date(when), **sql.params_for_theaters(wanted)},
    ).all()
    known = {search_text(t) for t, _ in found} | {u for _, u in found}
    missing = [w for w in wanted if search_text(w) not in known and w not in known]
    if missing:
        at = f" at {when.text}" if when else ""
        at_vi = f" vào {when.text}" if when else ""
        raise TheaterNotFound(
            f"No theatre {', '.join(missing)}{at} in this edition; theatres are theatre codes "
            "(B2, B3, T1 …) or ids of units of echelon theater.",
            detail_vi=f"Không có chiến trường {', '.join(missing)}{at_vi} trong ấn bản này; "
            "chiến trường là mã chiến trường (B2, B3, T1 …) hoặc mã của đơn vị cấp chiến trường.",
        )


@lru_cache(maxsize=8)
def _roots(dated: bool, only: bool) -> Select[Any]:
    roots = sql.theater_roots(dated, only).subquery()
    return select(roots.c.theater, roots.c.unit_id)


@lru_cache(maxsize=4)
def _labels(dated: bool) -> Select[Any]:
    roots = sql.theater_roots(dated, False).subquery()
    rev = UnitRevision
    return select(roots.c.theater, roots.c.unit_id, rev.name).join(
        rev, and_(rev.unit_id == roots.c.unit_id, seen(rev))
    )


def theater_labels(session: Session, bound: Bound) -> dict[str, str]:
    """How each theatre is shown: "B3 — Mặt trận Tây Nguyên", or the name of an uncoded one."""
    found = session.execute(
        _labels(_dated(bound.when)), {"seq": bound.seq, **sql.params_for_date(bound.when)}
    ).all()
    return {
        theater: name if theater == unit_id else f"{theater} — {name}"
        for theater, unit_id, name in found
    }


def _column(name: str) -> tuple[str, Any]:
    return name, lambda column: column


def _decade(date_label: str) -> tuple[str, Any]:
    return date_label, lambda column: sql.decade_of(sql.year_of(column))


# --- units ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitShape:
    engine: str
    dated: bool
    echelon: bool
    verification: bool
    decades: bool
    unknown_decade: bool
    parent: bool
    theater: bool
    area: bool
    search: bool
    fuzzy: bool
    keys: bool
    indexed: bool
    sort: str | None
    sort_desc: bool


def units(session: Session, seq: int, query: UnitQuery, *, fuzzy: bool | None = None) -> Bound:
    """The units of edition `seq` that answer `query`."""
    engine = sql.dialect(session)
    if fuzzy is None:
        sql.prepare(session, search=query.q is not None)
    when = query.when
    values: dict[str, Any] = {"seq": seq, **sql.params_for_date(when)}
    if query.echelon:
        values["echelon"] = list(query.echelon)
    if query.verification:
        values["verification"] = list(query.verification)
    numbers = [int(d) for d in query.decade if d != "unknown"]
    if numbers:
        values["decades"] = numbers
    if query.parent:
        values["parent"] = query.parent
    if query.theater:
        check_theaters(session, seq, when, query.theater)
        values |= sql.params_for_theaters(query.theater)
    if query.area:
        values["area_any"] = f"%{query.area}%"
    if query.q is not None:
        if fuzzy is None:
            fuzzy = _fuzzy_wanted(session, seq, query)
        values |= sql.params_for_search(query.q, fuzzy, query.q_keys)
    shape = UnitShape(
        engine=engine,
        dated=when is not None,
        echelon=bool(query.echelon),
        verification=bool(query.verification),
        decades=bool(numbers),
        unknown_decade="unknown" in query.decade,
        parent=query.parent is not None,
        theater=bool(query.theater),
        area=query.area is not None,
        search=query.q is not None,
        fuzzy=bool(fuzzy),
        keys=bool(query.q_keys),
        indexed=query.q is not None and sql.search_indexed(query.q, bool(fuzzy)),
        sort=query.sort,
        sort_desc=query.sort_desc,
    )
    return Bound(_unit_listing(shape), values, seq, when)


def _fuzzy_wanted(session: Session, seq: int, query: UnitQuery) -> bool:
    if query.fuzzy != "auto":
        return query.fuzzy == "always"
    exact = units(session, seq, query, fuzzy=False)
    found = session.execute(
        select(exact.listing.rows.c.id).limit(FUZZY_AUTO_BELOW), exact.params
    ).all()
    return len(found) < FUZZY_AUTO_BELOW


@lru_cache(maxsize=256)
def _unit_listing(shape: UnitShape) -> Listing:
    rev = UnitRevision
    columns: list[Any] = [
        rev.unit_id.label("id"),
        rev.name,
        rev.echelon,
        rev.formed,
        rev.formed_precision,
        rev.dissolved,
        rev.dissolved_precision,
        rev.verification,
        rev.source_id.label("source"),
        rev.note,
    ]
    conditions: list[Any] = [seen(rev), sql.existed_at(shape.dated)]
    if shape.echelon:
        conditions.append(rev.echelon.in_(many("echelon")))
    if shape.verification:
        conditions.append(rev.verification.in_(many("verification")))
    if shape.decades or shape.unknown_decade:
        conditions.append(sql.decade_filter(rev.formed, shape.decades, shape.unknown_decade))
    if shape.parent:
        conditions.append(rev.unit_id.in_(sql.parent_units(shape.dated)))
    if shape.theater:
        members = sql.theater_members(shape.dated, True, "in_theater")
        conditions.append(rev.unit_id.in_(select(members.c.unit_id)))
    if shape.area:
        conditions.append(rev.unit_id.in_(sql.area_units(shape.dated)))
    statement = select(*columns).where(*conditions)
    if shape.search:
        best = sql.search_hits(shape.fuzzy, shape.engine, shape.keys, shape.indexed)
        statement = statement.join(best, best.c.unit_id == rev.unit_id).add_columns(
            best.c.match_class, best.c.match_score, best.c.matched
        )
    rows = statement.subquery("rows")
    return Listing(
        rows=rows,
        sort=_unit_sort(rows, shape),
        engine=shape.engine,
        searching=shape.search,
        dated=shape.dated,
        value_of={
            "echelon": _column("echelon"),
            "verification": _column("verification"),
            "decade": _decade("formed"),
        },
        theater_keys=("id", "id"),
    )


def _unit_sort(rows: Subquery, shape: UnitShape) -> Sort:
    engine = shape.engine
    unit_id = Part("id", sql.binary(rows.c.id, engine))
    desc = shape.sort_desc
    suffix = "-desc" if desc else ""
    match shape.sort:
        case None if shape.search:
            return Sort(
                "relevance",
                (
                    Part("match_class", rows.c.match_class, "int"),
                    Part("match_score", rows.c.match_score, "float", descending=True),
                    Part("name", sql.binary(rows.c.name, engine)),
                    unit_id,
                ),
            )
        case None | "id":
            return Sort(f"id{suffix}", (Part("id", unit_id.expr, descending=desc),))
        case "name" | "echelon":
            part = Part(shape.sort, sql.binary(rows.c[shape.sort], engine), descending=desc)
            return Sort(f"{shape.sort}{suffix}", (part, unit_id))
        case _:
            part = Part(shape.sort, rows.c[shape.sort], "date", descending=desc, nullable=True)
            return Sort(f"{shape.sort}{suffix}", (part, unit_id))


# --- designations ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DesignationShape:
    engine: str
    dated: bool
    keys: bool | None  # None: no code asked; False: a code without keys (nothing matches)
    starts: bool
    starts_indexed: bool
    kind: bool
    unit: bool
    echelon: bool
    verification: bool
    decades: bool
    unknown_decade: bool
    theater: bool
    sort: str | None
    sort_desc: bool


def designations(session: Session, seq: int, query: DesignationQuery) -> Bound:
    """The codes and names (assignments) of edition `seq` that answer `query`."""
    engine = sql.dialect(session)
    sql.prepare(session)
    when = query.when
    values: dict[str, Any] = {"seq": seq, **sql.params_for_date(when)}
    if query.keys:
        values["keys"] = list(query.keys)
    starts = query.code_startswith
    if starts is not None:
        values["starts"] = starts + "%"
        values["starts_exact"] = starts
        values["fts_assignment"] = sql.fts_query(starts, False)
    for name in ("kind", "echelon", "verification"):
        if getattr(query, name):
            values[name] = list(getattr(query, name))
    if query.unit:
        values["unit"] = query.unit
    numbers = [int(d) for d in query.decade if d != "unknown"]
    if numbers:
        values["decades"] = numbers
    if query.theater:
        check_theaters(session, seq, when, query.theater)
        values |= sql.params_for_theaters(query.theater)
    shape = DesignationShape(
        engine=engine,
        dated=when is not None,
        keys=None if query.keys is None else bool(query.keys),
        starts=starts is not None,
        starts_indexed=engine == "sqlite" and starts is not None and len(starts) >= 3,
        kind=bool(query.kind),
        unit=query.unit is not None,
        echelon=bool(query.echelon),
        verification=bool(query.verification),
        decades=bool(numbers),
        unknown_decade="unknown" in query.decade,
        theater=bool(query.theater),
        sort=query.sort,
        sort_desc=query.sort_desc,
    )
    return Bound(_designation_listing(shape), values, seq, when)


@lru_cache(maxsize=256)
def _designation_listing(shape: DesignationShape) -> Listing:
    a, rev = Assignment, UnitRevision
    columns: list[Any] = [
        a.id.label("row"),
        a.unit_id.label("unit"),
        rev.name.label("unit_name"),
        rev.echelon,
        a.kind,
        a.code,
        a.match_key,
        a.search,
        a.valid_from,
        a.valid_from_precision,
        a.valid_to,
        a.valid_to_precision,
        a.verification,
        a.source_id.label("source"),
        a.note,
    ]
    conditions: list[Any] = [seen(a), sql.period_at(a, shape.dated)]
    if shape.keys is not None:
        conditions.append(a.match_key.in_(many("keys")) if shape.keys else false())
    if shape.starts:
        conditions.append(or_(a.search == p("starts_exact"), a.search.like(p("starts"))))
        if shape.starts_indexed:
            conditions.append(a.id.in_(sql.fts_rows(a, "fts_assignment")))
    if shape.kind:
        conditions.append(a.kind.in_(many("kind")))
    if shape.unit:
        conditions.append(a.unit_id == p("unit"))
    if shape.echelon:
        conditions.append(rev.echelon.in_(many("echelon")))
    if shape.verification:
        conditions.append(a.verification.in_(many("verification")))
    if shape.decades or shape.unknown_decade:
        conditions.append(sql.decade_filter(a.valid_from, shape.decades, shape.unknown_decade))
    if shape.theater:
        members = sql.theater_members(shape.dated, True, "in_theater")
        conditions.append(a.unit_id.in_(select(members.c.unit_id)))
    statement = (
        select(*columns).join(rev, and_(rev.unit_id == a.unit_id, seen(rev))).where(*conditions)
    )
    rows = statement.subquery("rows")
    return Listing(
        rows=rows,
        sort=_designation_sort(rows, shape),
        engine=shape.engine,
        searching=False,
        dated=shape.dated,
        value_of={
            "kind": _column("kind"),
            "echelon": _column("echelon"),
            "verification": _column("verification"),
            "decade": _decade("valid_from"),
        },
        theater_keys=("row", "unit"),
    )


def _designation_sort(rows: Subquery, shape: DesignationShape) -> Sort:
    engine = shape.engine
    desc = shape.sort_desc
    row = Part("row", rows.c.row, "int")
    code = Part("search", sql.binary(rows.c.search, engine))
    unit = Part("unit", sql.binary(rows.c.unit, engine))
    suffix = "-desc" if desc else ""
    match shape.sort:
        case None | "code":
            first = Part("search", code.expr, descending=desc)
            return Sort(f"code{suffix}", (first, unit, row))
        case "unit":
            first = Part("unit", unit.expr, descending=desc)
            return Sort(f"unit{suffix}", (first, code, row))
        case "kind":
            first = Part("kind", sql.binary(rows.c.kind, engine), descending=desc)
            return Sort(f"kind{suffix}", (first, code, unit, row))
        case _:
            first = Part(shape.sort, rows.c[shape.sort], "date", descending=desc, nullable=True)
            return Sort(f"{shape.sort}{suffix}", (first, code, unit, row))
