"""Move bundles in and out of the database as editions.

`load_bundle` writes nothing until the whole bundle and its fit with the
database have been checked; it never commits (the caller owns the
transaction), so a failure leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.db.models import (
    Area,
    Assignment,
    Edition,
    EditionStatus,
    ParentLink,
    Source,
    Unit,
    UnitRevision,
)
from app.errors import BundleInvalid
from app.parsing.dates import parse_bound
from codebook.bundle import (
    AreaRow,
    AssignmentRow,
    Bundle,
    ParentLinkRow,
    Problem,
    SourceRow,
    UnitRow,
    match_key,
)

M = TypeVar("M", UnitRevision, Assignment, ParentLink, Area)


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    edition: Edition
    created: bool  # False when the content equals the latest edition's (a no-op)
    added: int
    superseded: int


def format_bound(value: dt.date | None, precision: str | None) -> str:
    if value is None:
        return ""
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def _bound(text: str) -> tuple[dt.date | None, str | None]:
    parsed = parse_bound(text)
    return (parsed[0], parsed[1].value) if parsed else (None, None)


def visible(model: Any, seq: int) -> Any:
    """The SQL condition: a row of `model` belongs to edition `seq`."""
    return (model.first_edition <= seq) & or_(
        model.superseded_in.is_(None), model.superseded_in > seq
    )


def _period_text(obj: Assignment | ParentLink | Area) -> tuple[str, str]:
    """A fact row's validity as the bundle writes it: (valid_from, valid_to)."""
    return (
        format_bound(obj.valid_from, obj.valid_from_precision),
        format_bound(obj.valid_to, obj.valid_to_precision),
    )


def _provenance(obj: UnitRevision | Assignment | ParentLink | Area) -> tuple[str, str, str]:
    """The columns every bundle row ends with: (source, verification, note)."""
    return obj.source_id, obj.verification, obj.note


def to_row(obj: UnitRevision | Assignment | ParentLink | Area) -> Any:
    """The bundle row of a codebook row."""
    match obj:
        case UnitRevision():
            formed = format_bound(obj.formed, obj.formed_precision)
            dissolved = format_bound(obj.dissolved, obj.dissolved_precision)
            return UnitRow(obj.unit_id, obj.echelon, obj.name, formed, dissolved, *_provenance(obj))
        case Assignment():
            return AssignmentRow(
                obj.unit_id, obj.kind, obj.code, *_period_text(obj), *_provenance(obj)
            )
        case ParentLink():
            return ParentLinkRow(obj.unit_id, obj.parent_id, *_period_text(obj), *_provenance(obj))
        case Area():
            return AreaRow(obj.unit_id, obj.area, *_period_text(obj), *_provenance(obj))


def _period(valid_from: str, valid_to: str) -> dict[str, Any]:
    start, start_precision = _bound(valid_from)
    end, end_precision = _bound(valid_to)
    return {
        "valid_from": start,
        "valid_from_precision": start_precision,
        "valid_to": end,
        "valid_to_precision": end_precision,
    }


def from_row(row: Any, seq: int) -> UnitRevision | Assignment | ParentLink | Area:
    """A new codebook row (starting in edition `seq`) from a bundle row."""
    common = {
        "source_id": row.source,
        "verification": row.verification,
        "note": row.note,
        "first_edition": seq,
    }
    match row:
        case UnitRow():
            formed, formed_precision = _bound(row.formed)
            dissolved, dissolved_precision = _bound(row.dissolved)
            return UnitRevision(
                unit_id=row.id,
                echelon=row.echelon,
                name=row.name,
                formed=formed,
                formed_precision=formed_precision,
                dissolved=dissolved,
                dissolved_precision=dissolved_precision,
                **common,
            )
        case AssignmentRow():
            return Assignment(
                unit_id=row.unit,
                kind=row.kind,
                code=row.code,
                match_key=match_key(row.code),
                **_period(row.valid_from, row.valid_to),
                **common,
            )
        case ParentLinkRow():
            return ParentLink(
                unit_id=row.unit,
                parent_id=row.parent,
                **_period(row.valid_from, row.valid_to),
                **common,
            )
        case AreaRow():
            return Area(
                unit_id=row.unit, area=row.area, **_period(row.valid_from, row.valid_to), **common
            )
    raise TypeError(f"not a bundle row: {row!r}")


def source_row(source: Source) -> SourceRow:
    return SourceRow(
        source.id, source.kind, source.citation, source.url or "", source.reliability, source.note
    )


def edition_bundle(session: Session, edition: Edition) -> Bundle:
    """The full content of an edition as a bundle."""
    seq = edition.seq

    def rows(model: type[M]) -> tuple[Any, ...]:
        return tuple(
            sorted(to_row(o) for o in session.scalars(select(model).where(visible(model, seq))))
        )

    sources = session.scalars(select(Source).where(visible(Source, seq)))
    return Bundle(
        label=edition.label,
        note=edition.note,
        sources=tuple(sorted(source_row(s) for s in sources)),
        units=rows(UnitRevision),
        assignments=rows(Assignment),
        parent_links=rows(ParentLink),
        areas=rows(Area),
    )


def latest_edition(session: Session) -> Edition | None:
    return session.scalars(select(Edition).order_by(Edition.seq.desc()).limit(1)).first()


def load_bundle(
    session: Session, bundle: Bundle, *, publish: bool, today: dt.date | None = None
) -> ImportOutcome:
    """Add `bundle` as a new edition (published or draft). Checks everything before writing."""
    latest = latest_edition(session)
    if latest is not None and latest.checksum == bundle.checksum:
        return ImportOutcome(latest, created=False, added=0, superseded=0)

    problems = _source_conflicts(session, bundle, None)
    if session.scalar(select(Edition.seq).where(Edition.label == bundle.label)) is not None:
        problems.append(Problem("bundle.toml", 0, "label", f"edition {bundle.label!r} exists"))
    if latest is not None and latest.status == EditionStatus.DRAFT:
        problems.append(
            Problem(
                "bundle.toml",
                0,
                "",
                f"draft edition {latest.label!r} is open; publish it first, "
                "or import into it (--into)",
            )
        )
    _refuse(problems)

    seq = (latest.seq if latest else 0) + 1
    edition = Edition(seq=seq, label=bundle.label, status=EditionStatus.DRAFT, note=bundle.note)
    session.add(edition)
    session.flush()
    added, superseded = _apply(session, bundle, seq, base=seq - 1)
    if publish:
        publish_edition(session, edition, today=today)
    return ImportOutcome(edition, created=True, added=added, superseded=superseded)


def import_into_draft(session: Session, draft: Edition, bundle: Bundle) -> ImportOutcome:
    """Make the draft's content and note equal to `bundle`'s (the label stays the draft's).

    Rows the draft holds and the bundle lacks are superseded in the draft; rows
    the bundle adds start in it. Earlier editions see neither change. A no-op
    (created=False) when the draft already holds exactly this.
    """
    if draft.status != EditionStatus.DRAFT:
        raise ValueError(f"edition {draft.label} is not a draft")
    _refuse(_source_conflicts(session, bundle, draft.seq))
    same_note = draft.note == bundle.note
    if same_note and edition_bundle(session, draft).checksum == bundle.checksum:
        return ImportOutcome(draft, created=False, added=0, superseded=0)
    if not same_note:
        draft.note = bundle.note
    added, superseded = _apply(session, bundle, draft.seq, base=draft.seq)
    return ImportOutcome(draft, created=True, added=added, superseded=superseded)


def _source_conflicts(session: Session, bundle: Bundle, draft_seq: int | None) -> list[Problem]:
    """Sources never change: a known id must come back with the same content."""
    problems: list[Problem] = []
    wanted = {row.id: row for row in bundle.sources}
    if not wanted:
        return problems
    for old in session.scalars(select(Source).where(Source.id.in_(wanted))):
        row = wanted[old.id]
        if source_row(old) != row:
            problems.append(
                Problem(
                    "sources.csv",
                    0,
                    "id",
                    f"source {row.id!r} exists with other content; sources never change, "
                    "give the corrected source a new id",
                )
            )
        elif old.superseded_in is not None and old.superseded_in != draft_seq:
            problems.append(
                Problem("sources.csv", 0, "id", f"source {row.id!r} was retired; use a new id")
            )
    return problems


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise BundleInvalid(
            f"The bundle does not fit the codebook ({len(problems)} problem(s)); "
            "nothing was imported.",
            detail_vi="Gói dữ liệu không khớp với bộ mã; không có gì được nhập.",
            extra={"problems": [p.to_json() for p in problems]},
        )


def _apply(session: Session, bundle: Bundle, seq: int, *, base: int) -> tuple[int, int]:
    """Write the difference between edition `base` and `bundle` as edition `seq`'s changes.

    `base` is `seq - 1` for a new edition and `seq` itself for a draft being
    re-filled. Returns (rows added, rows superseded).
    """
    added = superseded = 0
    wanted_sources = {r.id for r in bundle.sources}
    for source in session.scalars(select(Source).where(visible(Source, base))):
        if source.id not in wanted_sources:
            source.superseded_in = seq
            superseded += 1
    known_sources = {s.id: s for s in session.scalars(select(Source))}
    for row in bundle.sources:
        old = known_sources.get(row.id)
        if old is None:
            session.add(
                Source(
                    id=row.id,
                    kind=row.kind,
                    citation=row.citation,
                    url=row.url or None,
                    reliability=row.reliability,
                    note=row.note,
                    first_edition=seq,
                )
            )
            added += 1
        elif old.superseded_in == seq and seq == base:
            # Dropped earlier in this same draft and wanted again: no published edition has
            # seen the drop, so undoing it changes none of them.
            old.superseded_in = None
            added += 1
    session.flush()

    known_units = set(session.scalars(select(Unit.id)))
    for unit in bundle.units:
        if unit.id not in known_units:
            session.add(Unit(id=unit.id, first_edition=seq))
    session.flush()

    tables: Sequence[tuple[Any, Sequence[Any]]] = (
        (UnitRevision, bundle.units),
        (Assignment, bundle.assignments),
        (ParentLink, bundle.parent_links),
        (Area, bundle.areas),
    )
    for model, new_rows in tables:
        wanted = set(new_rows)
        present: set[Any] = set()
        for obj in session.scalars(select(model).where(visible(model, base))):
            row = to_row(obj)
            if row in wanted:
                present.add(row)
            else:
                obj.superseded_in = seq
                superseded += 1
        for row in sorted(wanted - present):
            session.add(from_row(row, seq))
            added += 1
        session.flush()
    return added, superseded


def publish_edition(session: Session, edition: Edition, *, today: dt.date | None = None) -> None:
    """Freeze a draft: record its content checksum and publication date."""
    edition.checksum = edition_bundle(session, edition).checksum
    edition.status = EditionStatus.PUBLISHED
    edition.published_on = today or dt.date.today()
    session.flush()


def edition_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Edition)) or 0
