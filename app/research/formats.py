"""CSV and NDJSON exports: flat records, one per row, written a chunk at a time.

Both formats carry the same columns, so a spreadsheet and a script read the
same thing; each record carries its source's citation, so a row copied out
of the file can still be cited. Text is UTF-8 (the CSV with a byte-order mark,
so spreadsheet programs read Vietnamese correctly).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any, Final

from app.db.models import Edition
from app.research.sql import MATCH_KINDS
from app.research.urls import unit_url

MEDIA_TYPES: Final = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
CHUNK_ROWS: Final = 200

UNIT_COLUMNS: Final = (
    "id",
    "name",
    "echelon",
    "formed",
    "formed_precision",
    "dissolved",
    "dissolved_precision",
    "verification",
    "note",
    "source",
    "source_citation",
    "source_url",
    "url",
)
MATCH_COLUMNS: Final = ("match_kind", "match_fuzzy", "match_score", "matched")
DESIGNATION_COLUMNS: Final = (
    "code",
    "kind",
    "match_key",
    "unit",
    "unit_name",
    "echelon",
    "valid_from",
    "valid_from_precision",
    "valid_to",
    "valid_to_precision",
    "verification",
    "note",
    "source",
    "source_citation",
    "source_url",
    "unit_url",
)


def unit_columns(searching: bool) -> tuple[str, ...]:
    return UNIT_COLUMNS + MATCH_COLUMNS if searching else UNIT_COLUMNS


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def unit_record(row: Any, *, base: str, edition: Edition, searching: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "echelon": row.echelon,
        "formed": _iso(row.formed),
        "formed_precision": row.formed_precision,
        "dissolved": _iso(row.dissolved),
        "dissolved_precision": row.dissolved_precision,
        "verification": row.verification,
        "note": row.note,
        "source": row.source,
        "source_citation": row.source_citation,
        "source_url": row.source_url,
        "url": unit_url(base, row.id, edition),
    }
    if searching:
        kind = MATCH_KINDS[row.match_class]
        record |= {
            "match_kind": kind,
            "match_fuzzy": kind == "fuzzy",
            "match_score": round(float(row.match_score), 3),
            "matched": row.matched,
        }
    return record


def designation_record(row: Any, *, base: str, edition: Edition) -> dict[str, Any]:
    return {
        "code": row.code,
        "kind": row.kind,
        "match_key": row.match_key,
        "unit": row.unit,
        "unit_name": row.unit_name,
        "echelon": row.echelon,
        "valid_from": _iso(row.valid_from),
        "valid_from_precision": row.valid_from_precision,
        "valid_to": _iso(row.valid_to),
        "valid_to_precision": row.valid_to_precision,
        "verification": row.verification,
        "note": row.note,
        "source": row.source,
        "source_citation": row.source_citation,
        "source_url": row.source_url,
        "unit_url": unit_url(base, row.unit, edition),
    }


def encode(
    fmt: str, columns: tuple[str, ...], records: Iterable[dict[str, Any]]
) -> Iterator[bytes]:
    """Records as CSV (with a header) or NDJSON, in chunks of CHUNK_ROWS rows."""
    if fmt == "csv":
        return _csv(columns, records)
    return _ndjson(records)


def _csv(columns: tuple[str, ...], records: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(columns)
    for n, record in enumerate(records, 1):
        writer.writerow(["" if record[c] is None else record[c] for c in columns])
        if n % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _ndjson(records: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    lines: list[str] = []
    for record in records:
        lines.append(json.dumps(record, ensure_ascii=False))
        if len(lines) == CHUNK_ROWS:
            yield ("\n".join(lines) + "\n").encode("utf-8")
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode("utf-8")
