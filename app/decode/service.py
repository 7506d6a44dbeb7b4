"""Parse and decode: the use cases behind the API and the CLI."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.context import Context
from app.decode.resolver import resolve
from app.editions.service import edition_ref, resolve_edition
from app.parsing import parse
from app.parsing.ast import ParseResult
from app.parsing.dates import parse_date


def parse_text(text: str) -> ParseResult:
    return parse(text)


def decode(
    context: Context, session: Session, text: str, date: str | None, edition: str | int | None
) -> dict[str, Any]:
    """Decode `text` for the date of death `date` against `edition` (default: latest published)."""
    parsed = parse(text)  # refuses over-long input before anything else
    when = parse_date(date)
    chosen = resolve_edition(session, edition)
    resolution = resolve(parsed, when, context.reader(chosen))
    return {
        "input": text,
        "date": when.to_json() if when else None,
        "edition": edition_ref(chosen),
        "status": resolution.status.value,
        "parse": parsed.to_json(),
        "candidates": [c.to_json() for c in resolution.candidates],
        "warnings": [w.to_json() for w in resolution.warnings],
    }
