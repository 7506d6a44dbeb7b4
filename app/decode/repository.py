"""Read one codebook edition for the resolver, with a cache for published editions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Area, Assignment, ParentLink, Source, UnitRevision
from app.decode.facts import (
    AreaFact,
    AssignmentFact,
    LinkFact,
    SourceRef,
    UnitFact,
    Validity,
)
from codebook.store import visible


def _validity(row: Any) -> Validity:
    return Validity(row.valid_from, row.valid_from_precision, row.valid_to, row.valid_to_precision)


class EditionReader:
    """A CodebookReader over edition `seq` that keeps every row it reads.

    Keep one for as long as its edition cannot change: a published edition's
    reader lives as long as the process; a draft's, one request.
    """

    def __init__(self, session_factory: Callable[[], Session], seq: int) -> None:
        self._session_factory = session_factory
        self.seq = seq
        self._lock = threading.Lock()
        self._sources: dict[str, SourceRef] = {}
        self._by_key: dict[str, list[AssignmentFact]] = {}
        self._units: dict[str, UnitFact | None] = {}
        self._parents: dict[str, list[LinkFact]] = {}
        self._areas: dict[str, list[AreaFact]] = {}
        self._designations: dict[str, list[AssignmentFact]] = {}
        self._children: dict[str, list[LinkFact]] = {}

    def _source(self, session: Session, source_id: str) -> SourceRef:
        ref = self._sources.get(source_id)
        if ref is None:
            row = session.get_one(Source, source_id)
            ref = SourceRef(row.id, row.kind, row.citation, row.url, row.reliability)
            self._sources[source_id] = ref
        return ref

    def _assignment(self, session: Session, row: Assignment) -> AssignmentFact:
        return AssignmentFact(
            row.unit_id,
            row.kind,
            row.code,
            row.match_key,
            _validity(row),
            self._source(session, row.source_id),
            row.verification,
            row.note,
        )

    def _run(self, work: Callable[[Session], Any]) -> Any:
        with self._session_factory() as session:
            return work(session)

    def assignments(self, keys: tuple[str, ...]) -> list[AssignmentFact]:
        missing = [k for k in keys if k not in self._by_key]
        if missing:

            def load(session: Session) -> dict[str, list[AssignmentFact]]:
                found: dict[str, list[AssignmentFact]] = {k: [] for k in missing}
                rows = session.scalars(
                    select(Assignment)
                    .where(Assignment.match_key.in_(missing), visible(Assignment, self.seq))
                    .order_by(Assignment.match_key, Assignment.unit_id, Assignment.id)
                )
                for row in rows:
                    found[row.match_key].append(self._assignment(session, row))
                return found

            loaded: dict[str, list[AssignmentFact]] = self._run(load)
            with self._lock:
                self._by_key.update(loaded)
        return [fact for k in keys for fact in self._by_key.get(k, [])]

    def unit(self, unit_id: str) -> UnitFact | None:
        if unit_id not in self._units:

            def load(session: Session) -> UnitFact | None:
                row = session.scalars(
                    select(UnitRevision).where(
                        UnitRevision.unit_id == unit_id, visible(UnitRevision, self.seq)
                    )
                ).first()
                if row is None:
                    return None
                return UnitFact(
                    row.unit_id,
                    row.echelon,
                    row.name,
                    Validity(
                        row.formed, row.formed_precision, row.dissolved, row.dissolved_precision
                    ),
                    self._source(session, row.source_id),
                    row.verification,
                    row.note,
                )

            self._units[unit_id] = self._run(load)
        return self._units[unit_id]

    def _links(self, column: Any, unit_id: str) -> list[LinkFact]:
        def load(session: Session) -> list[LinkFact]:
            rows = session.scalars(
                select(ParentLink)
                .where(column == unit_id, visible(ParentLink, self.seq))
                .order_by(
                    ParentLink.valid_from.asc().nulls_first(),
                    ParentLink.unit_id,
                    ParentLink.parent_id,
                )
            )
            return [
                LinkFact(
                    r.unit_id,
                    r.parent_id,
                    _validity(r),
                    self._source(session, r.source_id),
                    r.verification,
                    r.note,
                )
                for r in rows
            ]

        result: list[LinkFact] = self._run(load)
        return result

    def parents(self, unit_id: str) -> list[LinkFact]:
        """Links from `unit_id` up to its parents, over all periods."""
        if unit_id not in self._parents:
            self._parents[unit_id] = self._links(ParentLink.unit_id, unit_id)
        return self._parents[unit_id]

    def children(self, unit_id: str) -> list[LinkFact]:
        """Links from the units under `unit_id`, over all periods."""
        if unit_id not in self._children:
            self._children[unit_id] = self._links(ParentLink.parent_id, unit_id)
        return self._children[unit_id]

    def designations(self, unit_id: str) -> list[AssignmentFact]:
        """Every code and name `unit_id` carried, by period."""
        if unit_id not in self._designations:

            def load(session: Session) -> list[AssignmentFact]:
                rows = session.scalars(
                    select(Assignment)
                    .where(Assignment.unit_id == unit_id, visible(Assignment, self.seq))
                    .order_by(
                        Assignment.valid_from.asc().nulls_first(), Assignment.kind, Assignment.code
                    )
                )
                return [self._assignment(session, r) for r in rows]

            self._designations[unit_id] = self._run(load)
        return self._designations[unit_id]

    def areas(self, unit_id: str) -> list[AreaFact]:
        if unit_id not in self._areas:

            def load(session: Session) -> list[AreaFact]:
                rows = session.scalars(
                    select(Area)
                    .where(Area.unit_id == unit_id, visible(Area, self.seq))
                    .order_by(Area.valid_from.asc().nulls_first(), Area.id)
                )
                return [
                    AreaFact(
                        r.unit_id,
                        r.area,
                        _validity(r),
                        self._source(session, r.source_id),
                        r.verification,
                        r.note,
                    )
                    for r in rows
                ]

            self._areas[unit_id] = self._run(load)
        return self._areas[unit_id]
