"""`phienhieu export sqlite EDITION PATH`: one edition as a standalone SQLite file for researchers.

The file opens in Datasette (`datasette PATH`) or any SQLite tool: plain tables
with foreign keys (units, designations, parent_links, areas, sources), the
edition and how to cite it, and full-text search over units and designations
(FTS5, diacritics removed, plus a folded column so "dong bang" finds "Đồng
Bằng"; Datasette finds the `*_fts` tables and shows a search box). Rows are
copied a batch at a time; the file is written beside PATH and moved into place
only when complete, so a failure leaves no half-written file.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from app.db.models import Area, Assignment, Edition, ParentLink, Source, UnitRevision
from app.research.cite import cite, today
from app.research.text import search_text
from codebook.store import visible

BATCH: Final = 5_000

SCHEMA: Final = """
CREATE TABLE edition (
    seq INTEGER PRIMARY KEY, label TEXT NOT NULL, status TEXT NOT NULL, published_on TEXT,
    checksum TEXT, note TEXT NOT NULL, exported_on TEXT NOT NULL, cite TEXT NOT NULL
);
CREATE TABLE sources (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, citation TEXT NOT NULL, url TEXT,
    reliability TEXT NOT NULL, note TEXT NOT NULL
);
CREATE TABLE units (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, echelon TEXT NOT NULL,
    formed TEXT, formed_precision TEXT, dissolved TEXT, dissolved_precision TEXT,
    verification TEXT NOT NULL, source TEXT NOT NULL REFERENCES sources(id), note TEXT NOT NULL,
    codes TEXT NOT NULL DEFAULT '', search TEXT NOT NULL DEFAULT ''
);
CREATE TABLE designations (
    id INTEGER PRIMARY KEY, unit TEXT NOT NULL REFERENCES units(id), kind TEXT NOT NULL,
    code TEXT NOT NULL, match_key TEXT NOT NULL, valid_from TEXT, valid_from_precision TEXT,
    valid_to TEXT, valid_to_precision TEXT, verification TEXT NOT NULL,
    source TEXT NOT NULL REFERENCES sources(id), note TEXT NOT NULL, search TEXT NOT NULL
);
CREATE TABLE parent_links (
    id INTEGER PRIMARY KEY, unit TEXT NOT NULL REFERENCES units(id),
    parent TEXT NOT NULL REFERENCES units(id), valid_from TEXT, valid_from_precision TEXT,
    valid_to TEXT, valid_to_precision TEXT, verification TEXT NOT NULL,
    source TEXT NOT NULL REFERENCES sources(id), note TEXT NOT NULL
);
CREATE TABLE areas (
    id INTEGER PRIMARY KEY, unit TEXT NOT NULL REFERENCES units(id), area TEXT NOT NULL,
    valid_from TEXT, valid_from_precision TEXT, valid_to TEXT, valid_to_precision TEXT,
    verification TEXT NOT NULL, source TEXT NOT NULL REFERENCES sources(id), note TEXT NOT NULL
);
"""

FINISH: Final = """
CREATE INDEX designations_unit ON designations(unit);
CREATE INDEX designations_match_key ON designations(match_key);
CREATE INDEX parent_links_unit ON parent_links(unit);
CREATE INDEX parent_links_parent ON parent_links(parent);
CREATE INDEX areas_unit ON areas(unit);
UPDATE units SET codes = coalesce(
    (SELECT group_concat(code, ' · ') FROM
        (SELECT code FROM designations WHERE unit = units.id ORDER BY valid_from, code)),
    '');
UPDATE units SET search = search_text(name || ' ' || codes);
CREATE VIRTUAL TABLE units_fts USING fts5(
    name, codes, search, content="units", tokenize="unicode61 remove_diacritics 2"
);
INSERT INTO units_fts(units_fts) VALUES ('rebuild');
CREATE VIRTUAL TABLE designations_fts USING fts5(
    code, search, content="designations", tokenize="unicode61 remove_diacritics 2"
);
INSERT INTO designations_fts(designations_fts) VALUES ('rebuild');
CREATE VIEW unit_parents AS
    SELECT l.unit, u.name AS unit_name, l.parent, p.name AS parent_name, l.valid_from,
           l.valid_to, l.verification, l.source
    FROM parent_links l JOIN units u ON u.id = l.unit JOIN units p ON p.id = l.parent;
"""


@dataclass(frozen=True, slots=True)
class ExportSummary:
    path: Path
    units: int
    designations: int
    parent_links: int
    areas: int
    sources: int


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _rows(session: Session, statement: Any) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of `statement` in batches, read from a cursor (never all at once)."""
    result = session.execute(statement.execution_options(yield_per=BATCH))
    for part in result.partitions(BATCH):
        yield [tuple(_iso(v) for v in row) for row in part]


def _copy(
    session: Session, db: sqlite3.Connection, table: str, columns: int, statement: Any
) -> int:
    marks = ", ".join("?" * columns)
    count = 0
    for batch in _rows(session, statement):
        db.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)
        count += len(batch)
    return count


def _period(model: Any) -> list[Any]:
    return [model.valid_from, model.valid_from_precision, model.valid_to, model.valid_to_precision]


def export_sqlite(session: Session, edition: Edition, path: Path) -> ExportSummary:
    """Write edition `edition` to a new SQLite file at `path` (replaced only when complete)."""
    seq = edition.seq
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    db = sqlite3.connect(partial)
    try:
        db.create_function("search_text", 1, search_text, deterministic=True)
        db.executescript(SCHEMA)
        what = f"phienhieu export sqlite {edition.label}"
        db.execute(
            "INSERT INTO edition VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                edition.seq,
                edition.label,
                edition.status,
                _iso(edition.published_on),
                edition.checksum,
                edition.note,
                today().isoformat(),
                cite(edition, what),
            ),
        )
        s = Source
        sources = _copy(
            session,
            db,
            "sources",
            6,
            select(s.id, s.kind, s.citation, s.url, s.reliability, s.note)
            .where(visible(s, seq))
            .order_by(s.id),
        )
        r = UnitRevision
        units = _copy(
            session,
            db,
            "units",
            12,
            select(
                r.unit_id,
                r.name,
                r.echelon,
                r.formed,
                r.formed_precision,
                r.dissolved,
                r.dissolved_precision,
                r.verification,
                r.source_id,
                r.note,
                literal(""),  # codes: filled from the designations below
                r.search,
            )
            .where(visible(r, seq))
            .order_by(r.unit_id),
        )
        a = Assignment
        designations = _copy(
            session,
            db,
            "designations",
            13,
            select(
                a.id,
                a.unit_id,
                a.kind,
                a.code,
                a.match_key,
                *_period(a),
                a.verification,
                a.source_id,
                a.note,
                a.search,
            )
            .where(visible(a, seq))
            .order_by(a.id),
        )
        link = ParentLink
        links = _copy(
            session,
            db,
            "parent_links",
            10,
            select(
                link.id,
                link.unit_id,
                link.parent_id,
                *_period(link),
                link.verification,
                link.source_id,
                link.note,
            )
            .where(visible(link, seq))
            .order_by(link.id),
        )
        ar = Area
        areas = _copy(
            session,
            db,
            "areas",
            10,
            select(ar.id, ar.unit_id, ar.area, *_period(ar), ar.verification, ar.source_id, ar.note)
            .where(visible(ar, seq))
            .order_by(ar.id),
        )
        db.executescript(FINISH)
        db.commit()
    except BaseException:
        db.close()
        partial.unlink(missing_ok=True)
        raise
    db.close()
    os.replace(partial, path)
    return ExportSummary(path, units, designations, links, areas, sources)
