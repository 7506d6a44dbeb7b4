"""Read one codebook edition for the resolver, with a cache for published editions.

Reads are plain column selects (no ORM identity map) and come in bulk where the
resolver needs many rows at once: the ancestors of many units, the units below
some units, the facts of a code that thousands of units share restricted to the
units that matter. At national scale (10^5 units, 10^6 assignments) a decode
costs a handful of indexed queries, never a scan and never one query per unit.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import sys
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from sqlalchemy import String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from app.db.models import Area, Assignment, ParentLink, Source, UnitRevision
from app.decode.facts import (
    AreaFact,
    AssignmentFact,
    LinkFact,
    SourceRef,
    Subtree,
    UnitFact,
    Validity,
)
from codebook.store import visible

IN_CHUNK = 500  # ids per IN (...) list: well under SQLite's variable limit
# Ids per query where they go as one array (PostgreSQL: `= ANY(:ids)`): one statement
# text whatever their number, so the server prepares it once, and no bind per id.
ARRAY_CHUNK = 20_000
OF_UNITS_KEPT = 200_000  # answers of assignments_of_units kept (~150 bytes each)
WHOLE_KEY_AFTER = 3  # a key read for some of its units this often is then read whole
ABOVE_KEPT = 50_000  # units whose units above (any period) `reaches` remembers
_intern = sys.intern


def _execute(session: Session, statement: Any, params: Any = None) -> Any:
    """`session.execute`, its rows untyped: they are SQLAlchemy Rows, not the plain tuples
    their annotation promises, which the compiled build would check them against."""
    return session.execute(statement, params)


def _chunks(items: Sequence[str], size: int = IN_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class EditionReader:
    """What the resolver reads of edition `seq`; it keeps every row it reads.

    Keep one for as long as its edition cannot change: a published edition's
    reader lives as long as the process; a draft's, one request.
    """

    def __init__(self, session_factory: Callable[[], Session], seq: int) -> None:
        self._session_factory = session_factory
        self.seq = seq
        self._lock = threading.Lock()
        self._sources: dict[str, SourceRef] | None = None
        self._validities: dict[tuple[Any, ...], Validity] = {}
        self._counts: dict[str, int] = {}
        self._by_key: dict[str, list[AssignmentFact]] = {}
        # Codes that many units share are read per unit: key -> unit -> facts, and the
        # units already asked for.
        self._by_key_unit: dict[str, dict[str, list[AssignmentFact]]] = {}
        self._asked: dict[str, set[str]] = {}
        self._first: dict[tuple[str, int], list[AssignmentFact]] = {}
        self._units: dict[str, UnitFact | None] = {}
        # Links and areas per unit as tuples: 3 x 10^5 of them nationally, most empty (the one
        # empty tuple) or of one fact; lists were 17 MiB more per process.
        self._parents: dict[str, tuple[LinkFact, ...]] = {}
        self._areas: dict[str, tuple[AreaFact, ...]] = {}
        self._designations: dict[str, list[AssignmentFact]] = {}
        self._children: dict[str, tuple[LinkFact, ...]] = {}
        self._descendants: dict[tuple[str, int], list[LinkFact] | None] = {}
        self._subtrees: dict[tuple[str, int], Subtree | None] = {}
        self._asks: dict[str, int] = {}
        self._climbable: set[str] = set()  # units whose ancestors are all loaded
        self._above: dict[str, tuple[str, ...]] = {}  # unit -> every unit above it, any period
        self._whole = False  # every unit, link and area read (load_hierarchy)
        # Every key carried by more than this many assignments is read whole
        # (`load_common_keys`); any other key has at most this many. None: not known.
        self._few_at_most: int | None = None
        self._key_index: dict[str, dict[str, tuple[AssignmentFact, ...]]] = {}
        # key -> units -> what assignments_of_units answered, for the shared frozensets of
        # units under a subtree at a date class (`Subtree.under`): most are asked again.
        self._of_units: dict[str, dict[frozenset[str], list[AssignmentFact]]] = {}
        self._of_units_kept = 0
        with session_factory() as session:  # no connection: only the engine's dialect
            self._arrays = session.get_bind().dialect.name == "postgresql"
        self._chunk = ARRAY_CHUNK if self._arrays else IN_CHUNK  # ids per hot statement
        self._statements = self._prepare()
        self.memo: Any = None  # the decode memo of this edition (app/decode/memo.py), if any
        self.rows: Any = None  # the batch row decoder kept with it (app/batch/rows.py), if any
        self.fragments: Any = None  # its facts' JSON parts (app/decode/encode.py), if any

    # --- row helpers ---------------------------------------------------------------------

    def _run(self, work: Callable[[Session], Any]) -> Any:
        with self._session_factory() as session:
            return work(session)

    def _source(self, session: Session, source_id: str) -> SourceRef:
        sources = self._sources
        found = sources.get(source_id) if sources is not None else None
        if found is not None:
            return found  # every fact built asks: one lookup
        rows = _execute(
            session, select(Source.id, Source.kind, Source.citation, Source.url, Source.reliability)
        )
        # Every source ever cited; a row only cites sources valid in its edition.
        sources = {r.id: SourceRef(r.id, r.kind, r.citation, r.url, r.reliability) for r in rows}
        self._sources = sources
        return sources[source_id]

    def _validity(
        self,
        start: dt.date | None,
        start_precision: str | None,
        end: dt.date | None,
        end_precision: str | None,
    ) -> Validity:
        """Equal periods share one object: a national codebook repeats a few thousand of them."""
        key = (start, start_precision, end, end_precision)
        found = self._validities.get(key)
        if found is None:
            found = self._validities[key] = Validity(*key)
        return found

    # The builders below take a row's columns by position, in the order of the statements'
    # columns (_ASSIGNMENT_COLUMNS, _LINK_COLUMNS, _AREA_COLUMNS): a national list builds
    # ~10^6 facts, and reading a row's columns by name was a third of each one's cost.

    def _assignment(self, session: Session, row: Any) -> AssignmentFact:
        unit_id, kind, code, match_key, start, start_p, end, end_p, source, verified, note = row
        return AssignmentFact(
            _intern(unit_id),
            _intern(kind),
            _intern(code),  # "C3" by the thousand
            _intern(match_key),
            self._validity(start, start_p, end, end_p),
            self._source(session, source),
            _intern(verified),
            _intern(note),
        )

    def _link(self, session: Session, row: Any) -> LinkFact:
        unit_id, parent_id, start, start_p, end, end_p, source, verified, note = row[:9]
        return LinkFact(
            _intern(unit_id),
            _intern(parent_id),
            self._validity(start, start_p, end, end_p),
            self._source(session, source),
            _intern(verified),
            _intern(note),
        )

    def _area(self, session: Session, row: Any) -> AreaFact:
        unit_id, area, start, start_p, end, end_p, source, verified, note = row
        return AreaFact(
            _intern(unit_id),
            area,
            self._validity(start, start_p, end, end_p),
            self._source(session, source),
            _intern(verified),
            _intern(note),
        )

    _AREA_COLUMNS = (
        Area.unit_id,
        Area.area,
        Area.valid_from,
        Area.valid_from_precision,
        Area.valid_to,
        Area.valid_to_precision,
        Area.source_id,
        Area.verification,
        Area.note,
    )
    _ASSIGNMENT_COLUMNS = (
        Assignment.unit_id,
        Assignment.kind,
        Assignment.code,
        Assignment.match_key,
        Assignment.valid_from,
        Assignment.valid_from_precision,
        Assignment.valid_to,
        Assignment.valid_to_precision,
        Assignment.source_id,
        Assignment.verification,
        Assignment.note,
    )
    _LINK_COLUMNS = (
        ParentLink.unit_id,
        ParentLink.parent_id,
        ParentLink.valid_from,
        ParentLink.valid_from_precision,
        ParentLink.valid_to,
        ParentLink.valid_to_precision,
        ParentLink.source_id,
        ParentLink.verification,
        ParentLink.note,
    )

    def _among(self, column: Any, name: str) -> Any:
        """`column` is one of the ids bound as `name`: an array on PostgreSQL, else IN (...)."""
        if self._arrays:
            return column == any_(bindparam(name, type_=ARRAY(String)))
        return column.in_(bindparam(name, expanding=True))

    def _prepare(self) -> dict[str, Any]:
        """The hot statements, built once per reader (building one costs more than running it)."""
        seen = visible(Assignment, self.seq)
        return {
            "counts": select(Assignment.match_key, func.count())
            .where(self._among(Assignment.match_key, "keys"), seen)
            .group_by(Assignment.match_key),
            "by_keys": select(*self._ASSIGNMENT_COLUMNS)
            .where(self._among(Assignment.match_key, "keys"), seen)
            .order_by(Assignment.match_key, Assignment.unit_id, Assignment.id),
            "by_key_units": select(*self._ASSIGNMENT_COLUMNS)
            .where(
                Assignment.match_key == bindparam("key"),
                self._among(Assignment.unit_id, "units"),
                seen,
            )
            .order_by(Assignment.unit_id, Assignment.id),
            "parents": self._links_statement(ParentLink.unit_id),
            "ancestry": self._ancestry_statement(),
            "children": self._links_statement(ParentLink.parent_id),
        }

    def _ancestry_statement(self) -> Any:
        """Every link from `units` up to the top, over all periods, in `parents` order."""
        seen = visible(ParentLink, self.seq)
        up = (
            select(ParentLink.unit_id.label("id"))
            .where(self._among(ParentLink.unit_id, "units"))
            .cte("up", recursive=True)
        )
        up = up.union(select(ParentLink.parent_id).where(ParentLink.unit_id == up.c.id, seen))
        return (
            select(*self._LINK_COLUMNS)
            .where(ParentLink.unit_id.in_(select(up.c.id)), seen)
            .order_by(
                ParentLink.valid_from.asc().nulls_first(), ParentLink.unit_id, ParentLink.parent_id
            )
        )

    def _links_statement(self, column: Any) -> Any:
        return (
            select(*self._LINK_COLUMNS, column.label("anchor"))
            .where(self._among(column, "units"), visible(ParentLink, self.seq))
            .order_by(
                ParentLink.valid_from.asc().nulls_first(), ParentLink.unit_id, ParentLink.parent_id
            )
        )

    # --- assignments ---------------------------------------------------------------------

    def key_counts(self, keys: tuple[str, ...]) -> dict[str, int]:
        """How many assignments of this edition carry each key (one grouped, indexed query).

        Once the common keys are read whole, any other key has few assignments: they are
        read instead of counted, and counted as read. The resolver reads them next anyway,
        so a batch chunk makes one query where it made two (a national list's counting
        queries cost PostgreSQL about a second per process).
        """
        missing = [k for k in dict.fromkeys(keys) if k not in self._counts]
        if missing and self._few_at_most is not None:
            self.assignments(tuple(missing))  # counts them
        elif missing:

            def load(session: Session) -> dict[str, int]:
                found = dict.fromkeys(missing, 0)
                for chunk in _chunks(missing, self._chunk):
                    rows = _execute(session, self._statements["counts"], {"keys": chunk})
                    for key, count in rows:
                        found[key] = count
                return found

            self._counts.update(self._run(load))
        return {k: self._counts[k] for k in keys}

    def assignments(self, keys: tuple[str, ...]) -> list[AssignmentFact]:
        missing = [k for k in dict.fromkeys(keys) if k not in self._by_key]
        if missing:

            def load(session: Session) -> dict[str, list[AssignmentFact]]:
                found: dict[str, list[AssignmentFact]] = {k: [] for k in missing}
                for chunk in _chunks(missing, self._chunk):
                    rows = _execute(session, self._statements["by_keys"], {"keys": chunk})
                    for row in rows:
                        found[row.match_key].append(self._assignment(session, row))
                return found

            loaded: dict[str, list[AssignmentFact]] = self._run(load)
            with self._lock:
                self._by_key.update(loaded)
                for key, facts in loaded.items():
                    self._counts[key] = len(facts)
        return [fact for k in keys for fact in self._by_key.get(k, [])]

    def load_common_keys(self, more_than: int) -> list[str]:
        """Read whole every key that more than `more_than` assignments carry ("Đại đội 3").

        A server does it once at start: decodes then narrow such keys in memory instead of
        reading the units below a record's regiment key by key. Returns those keys.
        """

        def candidates(session: Session) -> list[str]:
            # Counted over rows of this edition and the ones they replaced, in the order of
            # the (match_key, first_edition) index: PostgreSQL groups it as it scans the
            # index (0.25 s for 10^6 assignments) where the visibility test made it hash
            # every key (0.9 s). Replaced rows only add to a count; `key_counts` is exact.
            return list(
                session.scalars(
                    select(Assignment.match_key)
                    .where(Assignment.first_edition <= self.seq)
                    .group_by(Assignment.match_key)
                    .having(func.count() > more_than)
                    .order_by(Assignment.match_key)
                )
            )

        found: list[str] = self._run(candidates)
        counts = self.key_counts(tuple(found))
        keys = [key for key in found if counts[key] > more_than]
        self.assignments(tuple(keys))
        # Any key not among them has at most `more_than` assignments (it has no more rows
        # in all the editions up to this one): `key_counts` reads such keys whole.
        with self._lock:
            if self._few_at_most is None or more_than < self._few_at_most:
                self._few_at_most = more_than
        return keys

    def assignments_of_units(self, key: str, unit_ids: Collection[str]) -> list[AssignmentFact]:
        """The assignments of `key` held by any of `unit_ids`, in (unit, row) order."""
        asks = self._asks[key] = self._asks.get(key, 0) + 1
        if key not in self._by_key and asks >= WHOLE_KEY_AFTER:
            self.assignments((key,))  # asked often: one read of the whole key beats many
        if key in self._by_key:
            shared = unit_ids if isinstance(unit_ids, frozenset) else None
            if shared is not None:
                found = self._of_units.get(key, {}).get(shared)
                if found is not None:
                    return found
            index = self._key_index.get(key)
            if index is None:
                held: dict[str, list[AssignmentFact]] = {}
                for fact in self._by_key[key]:
                    held.setdefault(fact.unit_id, []).append(fact)
                index = self._key_index[key] = {u: tuple(fs) for u, fs in held.items()}
            # The few units that hold the key, found by a set intersection (in C).
            found = [f for uid in sorted(index.keys() & unit_ids) for f in index[uid]]
            if shared is not None:
                if self._of_units_kept >= OF_UNITS_KEPT:
                    for kept in self._of_units.values():
                        kept.clear()
                    self._of_units_kept = 0
                self._of_units.setdefault(key, {})[shared] = found
                self._of_units_kept += 1
            return found
        per_unit = self._by_key_unit.setdefault(key, {})
        asked = self._asked.setdefault(key, set())
        missing = sorted(set(unit_ids) - asked)
        if missing:

            def load(session: Session) -> dict[str, list[AssignmentFact]]:
                found: dict[str, list[AssignmentFact]] = {}
                for chunk in _chunks(missing, self._chunk):
                    rows = _execute(
                        session, self._statements["by_key_units"], {"key": key, "units": chunk}
                    )
                    for row in rows:
                        found.setdefault(row.unit_id, []).append(self._assignment(session, row))
                return found

            loaded: dict[str, list[AssignmentFact]] = self._run(load)
            with self._lock:
                per_unit.update(loaded)
                asked.update(missing)
        return [f for uid in sorted(set(unit_ids)) for f in per_unit.get(uid, ())]

    def first_assignments(self, key: str, limit: int) -> list[AssignmentFact]:
        """The first `limit` assignments of `key` by unit id: a sample of a very common code."""
        if key in self._by_key:
            return self._by_key[key][:limit]
        cached = self._first.get((key, limit))
        if cached is None:

            def load(session: Session) -> list[AssignmentFact]:
                rows = _execute(
                    session,
                    select(*self._ASSIGNMENT_COLUMNS)
                    .where(Assignment.match_key == key, visible(Assignment, self.seq))
                    .order_by(Assignment.unit_id, Assignment.id)
                    .limit(limit),
                )
                return [self._assignment(session, row) for row in rows]

            cached = self._first[(key, limit)] = self._run(load)
        return cached

    # --- units, links, areas -------------------------------------------------------------

    _UNIT_COLUMNS = (
        UnitRevision.unit_id,
        UnitRevision.echelon,
        UnitRevision.name,
        UnitRevision.formed,
        UnitRevision.formed_precision,
        UnitRevision.dissolved,
        UnitRevision.dissolved_precision,
        UnitRevision.source_id,
        UnitRevision.verification,
        UnitRevision.note,
    )

    def _unit_facts(
        self, session: Session, rows: Iterable[Any], found: dict[str, UnitFact | None]
    ) -> None:
        """UnitFacts of revision rows ordered by (unit, revision) into `found`."""
        for row in rows:  # by position, as _UNIT_COLUMNS go
            unit_id, echelon, name, start, start_p, end, end_p, source, verified, note = row
            if found.get(unit_id) is not None:
                continue  # one revision per edition; keep the first, as before
            unit_id = _intern(unit_id)
            found[unit_id] = UnitFact(
                unit_id,
                _intern(echelon),
                name,
                self._validity(start, start_p, end, end_p),
                self._source(session, source),
                _intern(verified),
                _intern(note),
            )

    def _load_units(self, unit_ids: Sequence[str]) -> None:
        missing = [u for u in dict.fromkeys(unit_ids) if u not in self._units]
        if not missing:
            return

        def load(session: Session) -> dict[str, UnitFact | None]:
            found: dict[str, UnitFact | None] = dict.fromkeys(missing)
            for chunk in _chunks(missing):
                rows = _execute(
                    session,
                    select(*self._UNIT_COLUMNS)
                    .where(UnitRevision.unit_id.in_(chunk), visible(UnitRevision, self.seq))
                    .order_by(UnitRevision.unit_id, UnitRevision.id),
                )
                self._unit_facts(session, rows, found)
            return found

        self._units.update(self._run(load))

    def unit(self, unit_id: str) -> UnitFact | None:
        if unit_id not in self._units:
            self._load_units([unit_id])
        return self._units[unit_id]

    def units(self, unit_ids: Sequence[str]) -> list[UnitFact | None]:
        """Many units in one query."""
        self._load_units(unit_ids)
        return [self._units[u] for u in unit_ids]

    def _load_links(
        self, statement: str, cache: dict[str, tuple[LinkFact, ...]], ids: Sequence[str]
    ) -> None:
        missing = [u for u in dict.fromkeys(ids) if u not in cache]
        if not missing:
            return

        def load(session: Session) -> dict[str, tuple[LinkFact, ...]]:
            found: dict[str, list[LinkFact]] = {u: [] for u in missing}
            for chunk in _chunks(missing, self._chunk):
                rows = _execute(session, self._statements[statement], {"units": chunk})
                for row in rows:
                    found[row.anchor].append(self._link(session, row))
            return {u: tuple(links) for u, links in found.items()}

        cache.update(self._run(load))

    def reaches(self, unit_id: str, units: AbstractSet[str]) -> bool:
        """Whether `unit_id` or a unit above it through links of any period is in `units`.

        No date in it. The resolver asks it of every anchor of every hypothesis, the same
        few units again and again ("Đại đội 3"'s first readings), so each unit's units
        above are worked out once and kept.
        """
        if unit_id in units:
            return True
        above = self._above.get(unit_id)
        if above is None:
            found = {unit_id}
            stack = [unit_id]
            while stack:
                for link in self.parents(stack.pop()):
                    parent = link.parent_id
                    if parent not in found:
                        found.add(parent)
                        stack.append(parent)
            found.discard(unit_id)
            if len(self._above) >= ABOVE_KEPT:
                self._above.clear()
            above = self._above[unit_id] = tuple(found)  # a few units: a tuple is smallest
        return any(u in units for u in above)

    def parents(self, unit_id: str) -> Sequence[LinkFact]:
        """Links from `unit_id` up to its parents, over all periods."""
        if unit_id not in self._parents:
            self._load_links("parents", self._parents, [unit_id])
        return self._parents[unit_id]

    def children(self, unit_id: str) -> Sequence[LinkFact]:
        """Links from the units under `unit_id`, over all periods."""
        if unit_id not in self._children:
            self._load_links("children", self._children, [unit_id])
        return self._children[unit_id]

    def children_of(self, unit_ids: Sequence[str]) -> dict[str, Sequence[LinkFact]]:
        """`children` of many units, in one query per few hundred."""
        self._load_links("children", self._children, unit_ids)
        return {u: self._children[u] for u in unit_ids}

    def descendant_links(self, root: str, limit: int) -> list[LinkFact] | None:
        """Every link below `root` over all periods, level by level; None past `limit` units."""
        key = (root, limit)
        if key in self._descendants:
            return self._descendants[key]
        links: list[LinkFact] | None = []
        seen = {root}
        level = [root]
        children = self._children
        while level and links is not None:
            following: list[str] = []
            if any(u not in children for u in level):
                self._load_links("children", children, level)
            for unit in level:
                for link in children[unit]:
                    links.append(link)
                    if link.unit_id not in seen:
                        seen.add(link.unit_id)
                        following.append(link.unit_id)
            if len(seen) - 1 > limit:
                links = None
            level = following
        self._descendants[key] = links
        return links

    def subtree(self, root: str, limit: int) -> Subtree | None:
        """`descendant_links` of `root` with who stood under it per date (None past `limit`)."""
        key = (root, limit)
        found = self._subtrees.get(key)
        if found is None and key not in self._subtrees:
            links = self.descendant_links(root, limit)
            found = self._subtrees[key] = None if links is None else Subtree(root, links)
        return found

    def prefetch_ancestors(self, unit_ids: Sequence[str]) -> None:
        """Load the units, parent links and areas of `unit_ids` and of all their ancestors.

        Three queries whatever the depth (a recursive one climbs the links), instead of
        three per level of the hierarchy; over all periods, so the resolver then climbs for
        any date without touching the database.
        """
        if self._whole:
            return  # every unit of the edition is climbable already
        wanted = [u for u in dict.fromkeys(unit_ids) if u not in self._climbable]
        if not wanted:
            return
        found: dict[str, list[LinkFact]] = {}
        for chunk in _chunks(wanted, self._chunk):

            def load(session: Session, chunk: Sequence[str] = chunk) -> list[LinkFact]:
                rows = _execute(session, self._statements["ancestry"], {"units": list(chunk)})
                return [self._link(session, row) for row in rows]

            for link in self._run(load):
                found.setdefault(link.unit_id, []).append(link)
        # Every unit reached: the ones asked for and every parent of a link read.
        parents = (link.parent_id for links in found.values() for link in links)
        reached = list(dict.fromkeys([*wanted, *parents]))
        with self._lock:
            for unit in reached:
                self._parents.setdefault(unit, tuple(found.get(unit, ())))
        self._load_units(reached)
        self._load_areas(reached)
        self._climbable.update(reached)

    def load_whole(self, more_than: int) -> bool:
        """The whole hierarchy, and every key more than `more_than` assignments carry, once.

        What a server or a long list will read anyway, in a few queries. True when it was
        read now (False: already read).
        """
        if self._whole:
            return False
        # The common keys in a second thread, on a connection of their own: the database
        # counts and sends them while this thread builds the hierarchy's facts (1.9 -> 1.3
        # s for a national codebook, where a list's process waits for it).
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            keys = pool.submit(self.load_common_keys, more_than)
            self.load_hierarchy()
            keys.result()  # raises what the thread raised
        return True

    def load_hierarchy(self) -> None:
        """Read every unit, parent link and area of the edition at once.

        For a batch: a national hierarchy (10^5 units and links) comes in three queries
        in a few seconds, where reading it a few hundred units at a time took a minute.
        """
        if self._whole:
            return

        def load(session: Session) -> None:
            parents: dict[str, list[LinkFact]] = {}
            children: dict[str, list[LinkFact]] = {}
            rows = _execute(
                session,
                select(*self._LINK_COLUMNS)
                .where(visible(ParentLink, self.seq))
                .order_by(
                    ParentLink.valid_from.asc().nulls_first(),
                    ParentLink.unit_id,
                    ParentLink.parent_id,
                ),
            )
            for row in rows:
                link = self._link(session, row)
                parents.setdefault(link.unit_id, []).append(link)
                children.setdefault(link.parent_id, []).append(link)
            # Every unit in one query: a few hundred IN (...) lists of 500 took ten seconds.
            units: dict[str, UnitFact | None] = {}
            self._unit_facts(
                session,
                _execute(
                    session,
                    select(*self._UNIT_COLUMNS)
                    .where(visible(UnitRevision, self.seq))
                    .order_by(UnitRevision.unit_id, UnitRevision.id),
                ),
                units,
            )
            ids = list(units)
            with self._lock:
                for unit_id, fact in units.items():
                    self._units.setdefault(unit_id, fact)
            areas: dict[str, list[AreaFact]] = {}
            for r in _execute(
                session,
                select(*self._AREA_COLUMNS)
                .where(visible(Area, self.seq))
                .order_by(Area.valid_from.asc().nulls_first(), Area.id),
            ):
                areas.setdefault(r.unit_id, []).append(self._area(session, r))
            for unit in ids:
                self._parents.setdefault(unit, tuple(parents.get(unit, ())))
                self._children.setdefault(unit, tuple(children.get(unit, ())))
                self._areas.setdefault(unit, tuple(areas.get(unit, ())))
            self._climbable.update(ids)

        self._run(load)
        self._whole = True

    def prefetch_descendants(self, unit_ids: Sequence[str], limit: int = 200_000) -> None:
        """Load the links below `unit_ids` and the ancestors of every unit found there.

        Level by level, at most about `limit` links in all: the units that may narrow a
        wide code, and the readings found below them, then resolve without a query.
        """
        if self._whole:
            return  # every link of the edition is read already
        level = list(dict.fromkeys(unit_ids))
        below: list[str] = []
        for _ in range(32):
            level = [u for u in level if u not in self._children]
            if not level or len(below) > limit:
                break
            found = self.children_of(level)
            level = [link.unit_id for links in found.values() for link in links]
            below.extend(level)
        self.prefetch_ancestors(below)

    def designations(self, unit_id: str) -> list[AssignmentFact]:
        """Every code and name `unit_id` carried, by period."""
        if unit_id not in self._designations:

            def load(session: Session) -> list[AssignmentFact]:
                rows = _execute(
                    session,
                    select(*self._ASSIGNMENT_COLUMNS)
                    .where(Assignment.unit_id == unit_id, visible(Assignment, self.seq))
                    .order_by(
                        Assignment.valid_from.asc().nulls_first(), Assignment.kind, Assignment.code
                    ),
                )
                return [self._assignment(session, r) for r in rows]

            self._designations[unit_id] = self._run(load)
        return self._designations[unit_id]

    def _load_areas(self, unit_ids: Sequence[str]) -> None:
        missing = [u for u in dict.fromkeys(unit_ids) if u not in self._areas]
        if not missing:
            return

        def load(session: Session) -> dict[str, tuple[AreaFact, ...]]:
            found: dict[str, list[AreaFact]] = {u: [] for u in missing}
            for chunk in _chunks(missing):
                rows = _execute(
                    session,
                    select(*self._AREA_COLUMNS)
                    .where(Area.unit_id.in_(chunk), visible(Area, self.seq))
                    .order_by(Area.valid_from.asc().nulls_first(), Area.id),
                )
                for r in rows:
                    found[r.unit_id].append(self._area(session, r))
            return {u: tuple(areas) for u, areas in found.items()}

        self._areas.update(self._run(load))

    def areas(self, unit_id: str) -> Sequence[AreaFact]:
        if unit_id not in self._areas:
            self._load_areas([unit_id])
        return self._areas[unit_id]
