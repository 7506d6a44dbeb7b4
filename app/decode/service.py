"""Parse and decode: the use cases behind the API and the CLI."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from app.context import Context
from app.db.models import Edition
from app.decode.memo import RecordingReader, memo_of
from app.decode.resolver import Resolution, resolve
from app.editions.service import edition_ref, resolve_edition
from app.errors import InvalidText
from app.parsing import parse
from app.parsing.ast import ParseResult
from app.parsing.dates import DateRange, parse_date


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


# --- The JSON answer as bytes, reused across dates that fall alike ----------------------------

# Notices whose wording quotes the date of death as written (resolver messages
# `_out_of_period`, `_boundary`, `_anachronism_notice`): an answer holding one is reused
# only for the same date text. Every other part of an answer depends on the date only
# through its class (see app/decode/memo.py).
DATE_WORDED = frozenset({"code_out_of_period", "code_period_boundary", "anachronistic_parent"})
_WORDED = b"date-worded"


def _dumps(value: Any) -> bytes:
    # As Starlette's JSONResponse renders, so an answer is the same bytes whichever path made it.
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


@lru_cache(maxsize=65_536)
def cached_date(text: str | None) -> DateRange | None:
    """`parse_date`, remembered: a martyr list repeats the same few thousand dates."""
    return parse_date(text)


def chosen_edition(context: Context, ref: str | int | None) -> Edition:
    """The edition named by `ref` (default: latest published), detached from its session."""
    with context.session() as session:
        edition = resolve_edition(session, ref)
        session.expunge(edition)
    return edition


def _uses_date_wording(resolution: Resolution) -> bool:
    codes = {*resolution.warning_codes}
    for candidate in resolution.candidates:
        codes.update(code for code, _ in candidate.pending_warnings)
        codes.update(code for code, _ in candidate.pending_reasons)
    return not codes.isdisjoint(DATE_WORDED)


def answer_json(context: Context, edition: Edition, text: str, date: str | None) -> bytes:
    """The answer of `decode` as JSON bytes; identical work is done once per edition.

    The status, candidates and warnings of `text` are kept per date class: any other
    date that falls alike against the rows the resolution read gets them without
    resolving again (the same date text, if they quote the date).
    """
    parsed = parse_text(text)
    when = cached_date(date)
    reader = context.reader(edition)
    memo = memo_of(reader, "json")
    part: bytes | None = memo.get(text, when)
    if part is _WORDED and when is not None:
        part = memo.get((text, when.text), when)
    if part is None or part is _WORDED:
        recorder = RecordingReader(reader)
        resolution = resolve(parsed, when, recorder)
        part = (
            b'"status":'
            + _dumps(resolution.status.value)
            + b',"parse":'
            + _dumps(parsed.to_json())
            + b',"candidates":'
            + _dumps([c.to_json() for c in resolution.candidates])
            + b',"warnings":'
            + _dumps([w.to_json() for w in resolution.warnings])
        )
        points = recorder.points()
        if when is not None and _uses_date_wording(resolution):
            memo.put(text, when, points, _WORDED)
            memo.put((text, when.text), when, points, part)
        else:
            memo.put(text, when, points, part)
    return (
        b'{"input":'
        + _dumps(text)
        + b',"date":'
        + _dumps(when.to_json() if when else None)
        + b',"edition":'
        + _dumps(edition_ref(edition))
        + b","
        + part
        + b"}"
    )
