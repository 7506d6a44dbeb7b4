"""A unit's history: names, codes, parents, subordinates and areas, by period, with sources."""

from __future__ import annotations

from typing import Any

from app.db.models import Edition
from app.decode.facts import AreaFact, AssignmentFact, LinkFact
from app.decode.repository import EditionReader
from app.editions.service import edition_ref
from app.errors import UnitNotFound


def _designation(a: AssignmentFact) -> dict[str, Any]:
    return {
        "kind": a.kind,
        "code": a.code,
        "valid": a.validity.to_json(),
        "source": a.source.to_json(),
        "verification": a.verification,
        "note": a.note,
    }


def _link(reader: EditionReader, link: LinkFact, other: str) -> dict[str, Any]:
    unit = reader.unit(other)
    return {
        "id": other,
        "name": unit.name if unit else other,
        "echelon": unit.echelon if unit else None,
        "valid": link.validity.to_json(),
        "source": link.source.to_json(),
        "verification": link.verification,
        "note": link.note,
    }


def _area(a: AreaFact) -> dict[str, Any]:
    return {
        "area": a.area,
        "valid": a.validity.to_json(),
        "source": a.source.to_json(),
        "verification": a.verification,
        "note": a.note,
    }


def unit_history(reader: EditionReader, edition: Edition, unit_id: str) -> dict[str, Any]:
    unit = None if "\x00" in unit_id else reader.unit(unit_id)  # PostgreSQL refuses NUL
    if unit is None:
        raise UnitNotFound(
            f"There is no unit {unit_id!r} in edition {edition.label!r}.",
            detail_vi=f"Không có đơn vị {unit_id!r} trong ấn bản {edition.label!r}.",
        )
    return {
        "id": unit.id,
        "name": unit.name,
        "echelon": unit.echelon,
        "existed": unit.existed.to_json(),
        "source": unit.source.to_json(),
        "verification": unit.verification,
        "note": unit.note,
        "designations": [_designation(a) for a in reader.designations(unit_id)],
        "parents": [_link(reader, link, link.parent_id) for link in reader.parents(unit_id)],
        "subordinates": [_link(reader, link, link.unit_id) for link in reader.children(unit_id)],
        "areas": [_area(a) for a in reader.areas(unit_id)],
        "edition": edition_ref(edition),
    }


# --- Reverse lookup: every code a unit carried, every unit a code meant (issue 4) -----------


def _unit_ref(reader: EditionReader, unit_id: str) -> dict[str, Any]:
    unit = reader.unit(unit_id)
    return {
        "id": unit_id,
        "name": unit.name if unit else unit_id,
        "echelon": unit.echelon if unit else None,
    }


def _period_key(a: AssignmentFact) -> tuple[bool, str]:
    start = a.validity.start
    return (start is not None, start.isoformat() if start else "")


def unit_designations(reader: EditionReader, edition: Edition, unit_id: str) -> dict[str, Any]:
    """Every code and name `unit_id` carried in `edition`, by period, each with its source."""
    unit = None if "\x00" in unit_id else reader.unit(unit_id)
    if unit is None:
        raise UnitNotFound(
            f"There is no unit {unit_id!r} in edition {edition.label!r}.",
            detail_vi=f"Không có đơn vị {unit_id!r} trong ấn bản {edition.label!r}.",
        )
    found = sorted(reader.designations(unit_id), key=lambda a: (_period_key(a), a.kind, a.code))
    return {
        "unit": _unit_ref(reader, unit_id),
        "designations": [{**_designation(a), "match_key": a.match_key} for a in found],
        "edition": edition_ref(edition),
    }
