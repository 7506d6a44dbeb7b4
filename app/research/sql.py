"""SQL building blocks shared by the listings: periods at a date, theatres, search, order.

Everything here builds the same SQL meaning on SQLite and PostgreSQL; where an
engine's own index helps (pg_trgm on PostgreSQL, FTS5 on SQLite) it only
narrows the rows looked at, never changes which rows match.

Statements take their values as named bind parameters (`seq`, the date `w_*`,
the search `q*` …) and are built once per shape of question (see queries.py):
building SQLAlchemy expressions costs more than running these queries does.
`params_for_*` give the values.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Date,
    Double,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    or_,
    select,
    table,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from app.db.models import Area, Assignment, AssignmentKind, ParentLink, UnitRevision
from app.parsing.dates import DateRange
from app.research.text import FUZZY_THRESHOLD, padded, search_text, similarity, trigrams
from codebook.store import visible

MAX_DEPTH: Final = 16  # deepest chain of parent links followed (a guard against cycles)

# PostgreSQL: every folded code of the assignments once, kept by triggers (raw SQL in
# migration 0008_distinct_code_search; the models cannot declare a table for one engine).
CODES: Final = table("assignment_search", column("search", Text))

# Match classes of a search, best first.
EXACT, PREFIX, CONTAINS, FUZZY = 0, 1, 2, 3
MATCH_KINDS: Final = ("exact", "prefix", "contains", "fuzzy")


def p(name: str, type_: Any = None) -> BindParameter[Any]:
    return bindparam(name, type_=type_)


def many(name: str) -> BindParameter[Any]:
    return bindparam(name, expanding=True)


SEQ = "seq"


def seen(model: Any) -> ColumnElement[bool]:
    """The row belongs to the edition given as :seq."""
    condition: ColumnElement[bool] = visible(model, p(SEQ, Integer))  # type: ignore[arg-type]
    return condition


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def binary(expr: Any, engine: str) -> Any:
    """Text compared and ordered by code point on both engines (SQLite's default)."""
    return expr.collate("C") if engine == "postgresql" else expr


# --- periods --------------------------------------------------------------------------------


def may_overlap(start: Any, end: Any, end_precision: Any) -> ColumnElement[bool]:
    """A period [start, end) may overlap the days of the date :w_lower … :w_upper.

    An open bound may be anything. A bound is its first day at its precision: a
    period that ends "1972" may last until the last day of 1972, one that ends
    "1967-10" until the end of October.
    """
    ends_after = case(
        (end_precision == "year", end >= p("w_year", Date)),
        (end_precision == "month", end >= p("w_month", Date)),
        else_=end > p("w_lower", Date),
    )
    return and_(
        or_(start.is_(None), start < p("w_upper", Date)),
        or_(end.is_(None), ends_after),
    )


def params_for_date(when: DateRange | None) -> dict[str, Any]:
    if when is None:
        return {}
    return {
        "w_lower": when.lower,
        "w_upper": when.upper,
        "w_month": when.lower.replace(day=1),
        "w_year": when.lower.replace(month=1, day=1),
    }


def period_at(model: Any, dated: bool) -> ColumnElement[bool]:
    """A row of `model` (validity columns) may hold at the date; undated: at any time."""
    if not dated:
        return true()
    return may_overlap(model.valid_from, model.valid_to, model.valid_to_precision)


def existed_at(dated: bool) -> ColumnElement[bool]:
    """The unit (revision) may have existed at the date."""
    if not dated:
        return true()
    rev = UnitRevision
    return may_overlap(rev.formed, rev.dissolved, rev.dissolved_precision)


def decade_of(year: Any) -> Any:
    """The decade (1960, 1970 …) of a year expression."""
    return year - year.op("%")(10)


def year_of(date_column: Any) -> Any:
    return cast(func.extract("year", date_column), Integer)


def decade_filter(date_column: Any, numbers: bool, unknown: bool) -> ColumnElement[bool]:
    """In one of the decades :decades, or (unknown) without a date."""
    conditions = []
    if numbers:
        conditions.append(decade_of(year_of(date_column)).in_(many("decades")))
    if unknown:
        conditions.append(date_column.is_(None))
    return or_(*conditions)


# --- theatres -------------------------------------------------------------------------------


def theater_roots(dated: bool, only: bool) -> Any:
    """Theatre units at the date, as (theater, unit_id): by theatre code, else by unit id.

    A theatre is a unit holding a theater_code assignment (B2, B3, T1 …; the code
    names it) or a unit of echelon `theater` without one (named by its id).
    `only`: just the theatres in :theater_codes (search text) or :theater_ids.
    """
    a = Assignment
    coded = select(cast(a.code, String).label("theater"), a.unit_id.label("unit_id")).where(
        seen(a), a.kind == AssignmentKind.THEATER_CODE, period_at(a, dated)
    )
    has_code = (
        select(a.id)
        .where(
            a.unit_id == UnitRevision.unit_id,
            seen(a),
            a.kind == AssignmentKind.THEATER_CODE,
            period_at(a, dated),
        )
        .exists()
    )
    uncoded = select(
        cast(UnitRevision.unit_id, String).label("theater"), UnitRevision.unit_id.label("unit_id")
    ).where(seen(UnitRevision), UnitRevision.echelon == "theater", ~has_code)
    if only:
        coded = coded.where(
            or_(a.search.in_(many("theater_codes")), a.unit_id.in_(many("theater_ids")))
        )
        uncoded = uncoded.where(UnitRevision.unit_id.in_(many("theater_ids")))
    return union_all(coded, uncoded)


def params_for_theaters(wanted: tuple[str, ...]) -> dict[str, Any]:
    return {"theater_codes": [search_text(w) for w in wanted], "theater_ids": list(wanted)}


def theater_members(dated: bool, only: bool, name: str) -> CTE:
    """(theater, unit_id) for every unit in a theatre at the date: the theatre and all below it.

    Descends parent links that may hold at the date (at any time without one).
    UNION (not UNION ALL) makes it stop on cycles.
    """
    roots = theater_roots(dated, only).subquery()
    members = select(roots.c.theater, roots.c.unit_id).cte(name, recursive=True)
    link = ParentLink
    step = (
        select(members.c.theater, link.unit_id)
        .join(link, link.parent_id == members.c.unit_id)
        .where(seen(link), period_at(link, dated))
    )
    return members.union(step)


def units_above(units: Any, dated: bool, name: str) -> CTE:
    """(unit_id, above) for each of `units` (a one-column select): itself and every unit above
    it by parent links that may hold at the date (at any time without one).

    The same pairs as descending from the top (`theater_members`), found from the bottom:
    an indexed climb of a few levels when the units are few. UNION stops on cycles.
    """
    start = units.subquery()
    unit = start.c[0]
    climbed = select(unit.label("unit_id"), unit.label("above")).cte(name, recursive=True)
    link = ParentLink
    step = (
        select(climbed.c.unit_id, link.parent_id)
        .join(link, link.unit_id == climbed.c.above)
        .where(seen(link), period_at(link, dated))
    )
    return climbed.union(step)


# --- search ---------------------------------------------------------------------------------


def register_sqlite_functions(session: Session) -> None:
    """SQLite gets pg_trgm's `similarity` as a Python function (the same numbers as PostgreSQL)."""
    raw = session.connection().connection.driver_connection
    raw.create_function("similarity", 2, similarity, deterministic=True)  # type: ignore[union-attr]


def prepare(session: Session, *, search: bool = False) -> None:
    """Per transaction, before a research query: the engine's settings for it.

    PostgreSQL, in one round trip: no JIT and no parallel workers (these queries run in
    milliseconds; the planner's cost guesses for date conditions are high enough to start
    JIT compiling or parallel workers, whose start-up costs more than the query, and more
    still on a busy machine); for a search, pg_trgm's threshold for its `%` operator, and
    plans made for the query's own text. A search matches from no code to every code: a
    plan for unknown values (which PostgreSQL may keep for a statement the driver has
    prepared) guesses 8,000 codes, hashes all 1,000,000 assignments to join them, and
    answers "Su doan 91007" in 290 ms instead of 12.
    SQLite, for a search: pg_trgm's `similarity` as a Python function.
    """
    if dialect(session) == "sqlite":
        if search:
            register_sqlite_functions(session)
        return
    settings = [
        "set_config('jit', 'off', true)",
        "set_config('max_parallel_workers_per_gather', '0', true)",
    ]
    if search:
        settings.append(f"set_config('pg_trgm.similarity_threshold', '{FUZZY_THRESHOLD}', true)")
        settings.append("set_config('plan_cache_mode', 'force_custom_plan', true)")
    session.execute(text(f"SELECT {', '.join(settings)}"))


def fts_query(q: str, fuzzy: bool) -> str:
    """An FTS5 query over padded text: the query as a substring, or any of its trigrams."""
    whole = padded(q).strip(" ")
    terms = [whole] if len(whole) >= 3 else []
    if fuzzy:
        terms += sorted(trigrams(q))
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms) or '""'


def fts_rows(model: Any, param: str) -> Any:
    """SQLite: ids of rows of `model` whose padded search text may match (FTS5 trigram index)."""
    name = f"fts_{model.__tablename__}"
    fts = table(name, column("rowid"))
    return select(fts.c.rowid).where(text(f"{name} MATCH :{param}"))


def match_class(search: Any) -> Any:
    """0 exact, 1 a word starts with the query, 2 the query is inside, 3 otherwise (fuzzy).

    Search text holds only a-z, 0-9 and single spaces: nothing to escape for LIKE.
    """
    return case(
        (search == p("q", Text), EXACT),
        (or_(search.like(p("q_start", Text)), search.like(p("q_word", Text))), PREFIX),
        (search.like(p("q_any", Text)), CONTAINS),
        else_=FUZZY,
    )


def _matches(search: Any, fuzzy: bool, *, tail_first: bool = False) -> ColumnElement[bool]:
    """PostgreSQL: `search` contains :q, or (fuzzy) is similar enough to it (pg_trgm `%`).

    `tail_first`, for a GIN index: "contains the query's last word" first, then "contains
    the query". GIN walks the rows of its first condition and skips through the others';
    the last word of a designation ("hom thu 9148", "su doan 9") is most often its rarest
    part, and the whole query alone walked every code holding "hom" and "thu" (10 ms, not
    3). Implied by the second condition, it changes no result.
    """
    contains: ColumnElement[bool] = search.like(p("q_any", Text))
    if tail_first:
        contains = and_(search.like(p("q_tail", Text)), contains)
    return or_(contains, search.op("%")(p("q", Text))) if fuzzy else contains


def search_condition(model: Any, fuzzy: bool, engine: str, indexed: bool) -> ColumnElement[bool]:
    """Rows of `model` whose search text contains :q, or (fuzzy) is similar enough to it."""
    if engine == "postgresql":
        return _matches(model.search, fuzzy)
    contains = model.search.like(p("q_any", Text))
    if fuzzy:
        condition = or_(contains, func.similarity(model.search, p("q", Text)) >= FUZZY_THRESHOLD)
    else:
        condition = contains
    if indexed:  # FTS5 can narrow: the query has a trigram, or fuzzy trigrams are asked for
        condition = and_(model.id.in_(fts_rows(model, f"fts_{model.__tablename__}")), condition)
    return condition


def code_condition(fuzzy: bool, engine: str, indexed: bool) -> ColumnElement[bool]:
    """Assignments whose code contains :q, or (fuzzy) is similar enough to it.

    PostgreSQL matches the distinct codes (CODES), each once, and takes the assignments
    holding a matching one by equality: a code shared by thousands of units is compared
    once, not once per unit. The same rows as search_condition(Assignment, …).
    """
    a = Assignment
    if engine != "postgresql":
        return search_condition(a, fuzzy, engine, indexed)
    matching = select(binary(CODES.c.search, engine)).where(
        _matches(CODES.c.search, fuzzy, tail_first=True)
    )
    held: ColumnElement[bool] = binary(a.search, engine).in_(matching)
    return held


def params_for_search(q: str, fuzzy: bool, keys: tuple[str, ...]) -> dict[str, Any]:
    query = fts_query(q, fuzzy)
    tail = q.rsplit(" ", 1)[-1]
    return {
        "q": q,
        # a trigram index needs three characters; else the whole query again (see _matches)
        "q_tail": "%" + (tail if len(tail) >= 3 else q) + "%",
        "q_start": q + "%",
        "q_word": "% " + q + "%",
        "q_any": "%" + q + "%",
        "keys": list(keys),
        "fts_unit_revision": query,
        "fts_assignment": query,
    }


def search_indexed(q: str, fuzzy: bool) -> bool:
    """Whether SQLite's FTS5 index can narrow this search (a substring of 3 or more)."""
    return fuzzy or len(padded(q).strip(" ")) >= 3


def similarity_score(search: Any) -> Any:
    """pg_trgm similarity as double precision: PostgreSQL's float4 sent exactly, not as "0.1"."""
    return cast(func.similarity(search, p("q", Text)), Double)


def search_hits(fuzzy: bool, engine: str, keys: bool, indexed: bool) -> Any:
    """Per unit, its best-matching name or code: (unit_id, match_class, match_score, matched).

    `keys`: the query reads as one designation ("F9" → :keys = division:9); a code
    with one of its keys is an exact match whatever its spelling ("Sư đoàn 9").
    """
    rev, a = UnitRevision, Assignment
    parts = [
        select(
            rev.unit_id, rev.name.label("matched"), rev.search, literal(0).label("by_key")
        ).where(seen(rev), search_condition(rev, fuzzy, engine, indexed)),
        select(a.unit_id, a.code.label("matched"), a.search, literal(0).label("by_key")).where(
            seen(a), code_condition(fuzzy, engine, indexed)
        ),
    ]
    if keys:
        parts.append(
            select(a.unit_id, a.code.label("matched"), a.search, literal(1).label("by_key")).where(
                seen(a), a.match_key.in_(many("keys"))
            )
        )
    hits = union_all(*parts).subquery("hits")
    klass = case((hits.c.by_key == 1, EXACT), else_=match_class(hits.c.search))
    score = case((hits.c.by_key == 1, 1.0), else_=similarity_score(hits.c.search))
    ranked = select(
        hits.c.unit_id,
        klass.label("match_class"),
        score.label("match_score"),
        hits.c.matched,
        func.row_number()
        .over(
            partition_by=hits.c.unit_id,
            order_by=(klass, score.desc(), binary(hits.c.matched, engine)),
        )
        .label("rank"),
    ).subquery("ranked")
    return (
        select(ranked.c.unit_id, ranked.c.match_class, ranked.c.match_score, ranked.c.matched)
        .where(ranked.c.rank == 1)
        .subquery("best")
    )


def area_units(dated: bool) -> Any:
    """Units with an area containing :area_any (search text) that may hold at the date."""
    return select(Area.unit_id).where(
        seen(Area), Area.search.like(p("area_any", Text)), period_at(Area, dated)
    )


def parent_units(dated: bool) -> Any:
    """Units directly under :parent by a link that may hold at the date (at any time without)."""
    link = ParentLink
    return select(link.unit_id).where(
        seen(link), link.parent_id == p("parent", String), period_at(link, dated)
    )
