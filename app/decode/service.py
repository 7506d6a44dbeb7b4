"""Parse and decode: the use cases behind the API and the CLI."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.context import Context
from app.decode.resolver import resolve
from app.editions.service import edition_ref, resolve_edition
from app.errors import InvalidText
from app.parsing import parse
from app.parsing.ast import ParseResult
from app.parsing.dates import parse_date


def check_text(text: str) -> str:
    """Refuse text that is not valid Unicode (lone surrogates from a JSON escape or argv)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidText(
            f"The text is not valid Unicode at position {exc.start}.",
            detail_vi=f"Văn bản không phải Unicode hợp lệ tại vị trí {exc.start}.",
        ) from None
    return text


def parse_text(text: str) -> ParseResult:
    return parse(check_text(text))


def decode(
    context: Context, session: Session, text: str, date: str | None, edition: str | int | None
) -> dict[str, Any]:
    """Decode `text` for the date of death `date` against `edition` (default: latest published)."""
    parsed = parse_text(text)  # refuses over-long or invalid input before anything else
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
