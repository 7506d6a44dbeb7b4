"""What changed between two editions: rows added, removed and changed, table by table.

Rows are shared between editions (a row belongs to every edition from
`first_edition` up to `superseded_in`), so the rows of A that are not in B
are found by one indexed query per table; content that was superseded and
re-added unchanged cancels out. A removed and an added row with the same
identity (a unit's id; an assignment's unit, kind and code; a link's unit and
parent; an area's unit and place) are reported as one change.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Area, Assignment, Edition, ParentLink, Source, UnitRevision
from app.editions.service import edition_ref
from codebook.bundle import Row
from codebook.store import source_row, to_row, visible

TABLES: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("sources", Source, ("id",)),
    ("units", UnitRevision, ("id",)),
    ("assignments", Assignment, ("unit", "kind", "code")),
    ("parent_links", ParentLink, ("unit", "parent")),
    ("areas", Area, ("unit", "area")),
)
CSV_COLUMNS = (
    "from_edition",
    "to_edition",
    "table",
    "change",
    "side",
    "changed_fields",
    "id",
    "unit",
    "parent",
    "kind",
    "code",
    "area",
    "echelon",
    "name",
    "citation",
    "url",
    "reliability",
    "formed",
    "dissolved",
    "valid_from",
    "valid_to",
    "source",
    "verification",
    "note",
)


def _rows_only_in(session: Session, model: Any, inside: int, outside: int) -> set[Row]:
    convert: Callable[[Any], Row] = source_row if model is Source else to_row
    query = select(model).where(visible(model, inside), ~visible(model, outside))
    return {convert(obj) for obj in session.scalars(query)}


def _table_diff(removed: set[Row], added: set[Row], key: tuple[str, ...]) -> dict[str, Any]:
    same = removed & added  # superseded and re-added with the same content: no change
    removed, added = removed - same, added - same
    by_key: dict[tuple[str, ...], tuple[list[Row], list[Row]]] = defaultdict(lambda: ([], []))
    for row in removed:
        by_key[tuple(getattr(row, k) for k in key)][0].append(row)
    for row in added:
        by_key[tuple(getattr(row, k) for k in key)][1].append(row)
    out: dict[str, list[Any]] = {"added": [], "removed": [], "changed": []}
    for identity in sorted(by_key):
        gone, new = (sorted(rows) for rows in by_key[identity])
        for before, after in zip(gone, new, strict=False):
            changed = [
                f.name for f in fields(before) if getattr(before, f.name) != getattr(after, f.name)
            ]
            out["changed"].append(
                {
                    "key": dict(zip(key, identity, strict=True)),
                    "fields": changed,
                    "before": asdict(before),
                    "after": asdict(after),
                }
            )
        out["removed"].extend(asdict(r) for r in gone[len(new) :])
        out["added"].extend(asdict(r) for r in new[len(gone) :])
    return out


def diff_editions(session: Session, a: Edition, b: Edition) -> dict[str, Any]:
    """Everything that differs from edition `a` to edition `b` (either may be the older)."""
    result: dict[str, Any] = {"from": edition_ref(a), "to": edition_ref(b), "summary": {}}
    for name, model, key in TABLES:
        table = _table_diff(
            _rows_only_in(session, model, a.seq, b.seq),
            _rows_only_in(session, model, b.seq, a.seq),
            key,
        )
        result[name] = table
        result["summary"][name] = {change: len(rows) for change, rows in table.items()}
    return result


def diff_csv(diff: dict[str, Any]) -> str:
    """The diff as one CSV table: a line per row; a change gives a `before` and an `after` line."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    editions = {"from_edition": diff["from"]["label"], "to_edition": diff["to"]["label"]}
    for name, _, _ in TABLES:
        table = diff[name]
        for row in table["removed"]:
            writer.writerow(
                {**editions, "table": name, "change": "removed", "side": "before", **row}
            )
        for row in table["added"]:
            writer.writerow({**editions, "table": name, "change": "added", "side": "after", **row})
        for change in table["changed"]:
            for side in ("before", "after"):
                writer.writerow(
                    {
                        **editions,
                        "table": name,
                        "change": "changed",
                        "side": side,
                        "changed_fields": " ".join(change["fields"]),
                        **change[side],
                    }
                )
    return out.getvalue()
