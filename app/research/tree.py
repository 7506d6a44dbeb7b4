"""Order of battle at a date: the units under a unit, recursively, and its chain up to the top.

A link counts at the date when its period may hold then (open or uncertain
bounds included, each link saying how it fits: inside, boundary or
unknown_period); a unit counts when it may have existed then. One statement
with two recursive parts (down and up, each step by index) reads every link
and unit as plain rows; the tree is assembled here, each distinct period's
JSON and fit worked out once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from operator import attrgetter
from typing import Any, Final, NamedTuple

from sqlalchemy import String, and_, func, literal, select, union_all
from sqlalchemy.orm import Session

from app.db.models import Assignment, AssignmentKind, Edition, ParentLink, UnitRevision
from app.decode.facts import Validity
from app.decode.resolver import FIT_WEIGHT, VERIFICATION_WEIGHT
from app.editions.service import edition_ref
from app.errors import UnitNotFound
from app.parsing.dates import DateRange
from app.research import sql
from app.research.cite import cite, request_line
from app.research.service import sources
from app.research.sql import many, p, seen
from app.research.urls import unit_urls

MAX_NODES: Final = 20_000  # a tree larger than this is cut, and says so
_child_order: Final = attrgetter("name", "unit_id", "link")  # siblings, in their order


def _unit_columns() -> list[Any]:
    rev = UnitRevision
    return [
        rev.name,
        rev.echelon,
        rev.formed,
        rev.formed_precision,
        rev.dissolved,
        rev.dissolved_precision,
        rev.verification.label("unit_verification"),
        rev.source_id.label("unit_source"),
    ]


def _link_columns() -> list[Any]:
    link = ParentLink
    return [
        link.id.label("link"),
        link.unit_id,
        link.parent_id,
        link.valid_from,
        link.valid_from_precision,
        link.valid_to,
        link.valid_to_precision,
        link.verification,
        link.source_id.label("source"),
        link.note,
    ]


def _walked(down: bool, name: str) -> Any:
    """(link, depth) of every link below (down) or above :unit_id that may hold at the date,
    with the unit at its far end existing then, at its least depth (0: the unit's own links).

    One recursive query; the depth bound (sql.MAX_DEPTH levels) ends cycles. Each step reads
    the links of the units reached by their index, and each unit reached by its index.
    """
    link, rev = ParentLink, UnitRevision
    near, far = (link.parent_id, link.unit_id) if down else (link.unit_id, link.parent_id)
    exists = and_(rev.unit_id == far, seen(rev), sql.existed_at(True))
    first = (
        select(link.id.label("link"), far.label("reached"), literal(0).label("depth"))
        .join(rev, exists)
        .where(near == p("unit_id", String), seen(link), sql.period_at(link, True))
        .cte(name, recursive=True)
    )
    step = (
        select(link.id, far, first.c.depth + 1)
        .select_from(first)
        .join(link, near == first.c.reached)
        .join(rev, exists)
        .where(first.c.depth < sql.MAX_DEPTH - 1, seen(link), sql.period_at(link, True))
    )
    walked = first.union(step)
    return (
        select(walked.c.link, func.min(walked.c.depth).label("depth"))
        .group_by(walked.c.link)
        .subquery(f"{name}_links")
    )


class _Walked(NamedTuple):
    """A row of _links(), as a tuple: reading a column of a SQLAlchemy row by name costs ten
    times more than by a tuple's field, and a tree reads twenty of each of hundreds of rows."""

    down: bool
    depth: int
    link: int
    unit_id: str
    parent_id: str
    valid_from: Any
    valid_from_precision: str | None
    valid_to: Any
    valid_to_precision: str | None
    verification: str
    source: str
    note: str
    name: str
    echelon: str
    formed: Any
    formed_precision: str | None
    dissolved: Any
    dissolved_precision: str | None
    unit_verification: str
    unit_source: str


@lru_cache(maxsize=1)
def _links() -> Any:
    """Every link below and above :unit_id at the date, with the unit at its far end: the rows
    of the level-by-level walk (by depth, then parent, unit and link), `down` telling which."""
    link, rev = ParentLink, UnitRevision
    parts = []
    for down, name in ((True, "below"), (False, "above")):
        walked = _walked(down, name)
        far = link.unit_id if down else link.parent_id
        parts.append(
            select(literal(down).label("down"), walked.c.depth, *_link_columns(), *_unit_columns())
            .select_from(walked)
            .join(link, link.id == walked.c.link)
            .join(rev, and_(rev.unit_id == far, seen(rev)))
        )
    both = union_all(*parts).subquery("walked")
    statement = select(both).order_by(
        both.c.down.desc(), both.c.depth, both.c.parent_id, both.c.unit_id, both.c.link
    )
    assert tuple(statement.selected_columns.keys()) == _Walked._fields
    return statement


def _walk(session: Session, values: dict[str, Any]) -> tuple[list[_Walked], list[_Walked]]:
    """The links below and above :unit_id at the date (see _links)."""
    below: list[_Walked] = []
    above: list[_Walked] = []
    make = _Walked._make
    for row in session.connection().execute(_links(), values).all():  # plain rows, no ORM
        walked = make(row)
        (below if walked.down else above).append(walked)
    return below, above


@lru_cache(maxsize=1)
def _own() -> Any:
    return select(UnitRevision.unit_id, *_unit_columns()).where(
        UnitRevision.unit_id == p("unit_id", String), seen(UnitRevision)
    )


@lru_cache(maxsize=1)
def _codes() -> Any:
    a = Assignment
    return (
        select(a.unit_id, a.code)
        .where(
            a.unit_id.in_(many("ids")),
            seen(a),
            a.kind == AssignmentKind.THEATER_CODE,
            sql.period_at(a, True),
        )
        .order_by(a.unit_id, a.code)
    )


class _Periods:
    """Each distinct period's JSON and its fit at the date, worked out once per tree: the units
    and links of an order of battle share a few periods between hundreds of rows. The JSON is
    shared too (one dict in every place that period appears): the answer is only serialized."""

    def __init__(self, when: DateRange) -> None:
        self.when = when
        self.known: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}

    def __call__(self, *bounds: Any) -> tuple[dict[str, Any], str]:
        return self.known.get(bounds) or self._new(bounds)

    def _new(self, bounds: tuple[Any, ...]) -> tuple[dict[str, Any], str]:
        valid = Validity(*bounds)
        found = self.known[bounds] = (valid.to_json(), valid.fit(self.when).value)
        return found


def _unit_json(uid: str, row: Any, periods: _Periods, url: Callable[[str], str]) -> dict[str, Any]:
    existed, fit = periods(row.formed, row.formed_precision, row.dissolved, row.dissolved_precision)
    return {
        "id": uid,
        "name": row.name,
        "echelon": row.echelon,
        "existed": existed,
        "existed_fit": fit,
        "verification": row.unit_verification,
        "source": row.unit_source,
        "url": url(uid),
    }


def _link_json(row: _Walked, periods: _Periods) -> dict[str, Any]:
    valid, fit = periods(
        row.valid_from, row.valid_from_precision, row.valid_to, row.valid_to_precision
    )
    return {
        "valid": valid,
        "fit": fit,
        "verification": row.verification,
        "source": row.source,
        "note": row.note,
    }


def _link_rank(row: _Walked, when: DateRange) -> tuple[float, float, str]:
    valid = Validity(row.valid_from, row.valid_from_precision, row.valid_to, row.valid_to_precision)
    fit = valid.fit(when)
    return (-FIT_WEIGHT[fit], -VERIFICATION_WEIGHT.get(row.verification, 0.5), row.parent_id)


def _theater(session: Session, values: dict[str, Any], ids: list[str]) -> dict[str, str]:
    """Theatre codes valid at the date of the units `ids` (a unit may have none)."""
    rows = session.connection().execute(_codes(), {**values, "ids": ids}).all()
    codes: dict[str, str] = {}
    for uid, code in rows:
        codes.setdefault(uid, code)
    return codes


def unit_tree(
    session: Session, edition: Edition, unit_id: str, when: DateRange, *, base: str
) -> dict[str, Any]:
    """GET /v1/units/{id}/tree: the units under `unit_id` at `when`, and its chain of parents."""
    sql.prepare(session)
    values = {"seq": edition.seq, "unit_id": unit_id, **sql.params_for_date(when)}
    # Core statements on the connection: the ORM's execution path costs more than they do.
    own = None if "\x00" in unit_id else session.connection().execute(_own(), values).first()
    if own is None:
        raise UnitNotFound(
            f"There is no unit {unit_id!r} in edition {edition.label!r}.",
            detail_vi=f"Không có đơn vị {unit_id!r} trong ấn bản {edition.label!r}.",
        )
    below, above = _walk(session, values)
    truncated = len(below) > MAX_NODES
    below = below[:MAX_NODES]

    periods = _Periods(when)
    url = unit_urls(base, edition)

    # Down: children by parent; a unit reached twice (two parents at a boundary date) shows twice.
    children: dict[str, list[_Walked]] = defaultdict(list)
    links = set()
    for row in below:
        if row.link not in links:
            links.add(row.link)
            children[row.parent_id].append(row)
    for rows in children.values():
        rows.sort(key=_child_order)

    # The units from the top down to the node being made: a cycle's way back is not followed.
    path = {unit_id}

    def node(row: _Walked) -> dict[str, Any]:
        uid = row.unit_id
        fresh = uid not in path  # not so only for a unit's link to itself (refused on import)
        path.add(uid)
        out = _unit_json(uid, row, periods, url)
        out["link"] = _link_json(row, periods)
        out["subordinates"] = [
            node(child) for child in children.get(uid, ()) if child.unit_id not in path
        ]
        if fresh:
            path.discard(uid)
        return out

    subordinates = [node(row) for row in children[unit_id]]

    # Up: the best-fitting parent at each step (as the decoder climbs), and every other one seen.
    parents: dict[str, list[_Walked]] = defaultdict(list)
    for row in above:
        parents[row.unit_id].append(row)
    chain: list[dict[str, Any]] = []
    current, seen = unit_id, {unit_id}
    while parents.get(current):
        best = min(parents[current], key=lambda r: _link_rank(r, when))
        if best.parent_id in seen:
            break
        entry = _unit_json(best.parent_id, best, periods, url)
        entry["link"] = _link_json(best, periods)
        entry["other_parents"] = sorted(
            r.parent_id for r in parents[current] if r.parent_id != best.parent_id
        )
        chain.append(entry)
        seen.add(best.parent_id)
        current = best.parent_id

    unit = _unit_json(unit_id, own, periods, url)
    path_ids = [unit_id, *(c["id"] for c in chain)]
    codes = _theater(session, values, path_ids)
    theater = None
    for item in [unit, *chain]:
        if item["id"] in codes or item["echelon"] == "theater":
            theater = {"id": item["id"], "name": item["name"], "code": codes.get(item["id"])}
            break

    source_ids = {own.unit_source} | {r.source for r in below} | {r.unit_source for r in below}
    source_ids |= {r.source for r in above} | {r.unit_source for r in above}
    return {
        "edition": edition_ref(edition),
        "cite": cite(
            edition, request_line(f"/v1/units/{unit_id}/tree", [("date", when.text)], edition)
        ),
        "date": when.to_json(),
        "unit": unit,
        "theater": theater,
        "chain": chain,
        "subordinates": subordinates,
        "count": len({r.unit_id for r in below}),
        "truncated": truncated,
        "sources": sources(session, source_ids),
    }
