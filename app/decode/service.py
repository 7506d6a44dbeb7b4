"""Parse and decode: the use cases behind the API and the CLI."""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.context import Context
from app.db.models import Edition
from app.decode.encode import dumps, dumps_str, fragments_of, notices
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


def answer_json(
    context: Context, edition: Edition, text: str, date: str | None, head: bytes = b"{"
) -> bytes:
    """The answer of `decode` as JSON bytes; identical work is done once per edition.

    The status, candidates and warnings of `text` are kept per date class: any other
    date that falls alike against the rows the resolution read gets them without
    resolving again (the same date text, if they quote the date). `head` opens the
    object: a batch line puts its item's own keys there.
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
        part = b"".join(
            (
                b'"status":',
                dumps_str(resolution.status.value),
                b',"parse":',
                dumps(parsed.to_json()),
                b',"candidates":',
                fragments_of(reader).candidates(resolution.candidates),
                b',"warnings":',
                notices(resolution.warnings),
            )
        )
        points = recorder.points()
        if when is not None and _uses_date_wording(resolution):
            memo.put(text, when, points, _WORDED)
            memo.put((text, when.text), when, points, part)
        else:
            memo.put(text, when, points, part)
    return _assemble(text, when, edition, part, head)


def _assemble(
    text: str, when: DateRange | None, edition: Edition, part: bytes, head: bytes = b"{"
) -> bytes:
    # One join, not a chain of `+` that copied the ~13 KiB answer at each step.
    return b"".join(
        (
            head,
            b'"input":',
            dumps_str(text),
            b',"date":',
            date_json(when),
            b',"edition":',
            _edition_json(edition),
            b",",
            part,
            b"}",
        )
    )


@lru_cache(maxsize=65_536)
def date_json(when: DateRange | None) -> bytes:
    """The answer's `date` (the date of death as read) as JSON."""
    return dumps(when.to_json() if when else None)


_EDITION_JSON: dict[tuple[Any, ...], bytes] = {}


def _edition_json(edition: Edition) -> bytes:
    """`edition_ref` as JSON, made once for each edition as it stands."""
    key = (edition.seq, edition.label, edition.status, edition.published_on, edition.checksum)
    found = _EDITION_JSON.get(key)
    if found is None:
        if len(_EDITION_JSON) >= 1024:
            _EDITION_JSON.clear()
        found = _EDITION_JSON[key] = dumps(edition_ref(edition))
    return found


# --- Which edition answers, without a query per request --------------------------------------

EDITION_RECHECK_SECONDS = 1.0  # another process's new edition answers within this time
_edition_changes = [0]  # bumped whenever this process flushes a change to an edition row
_listening = [False]


def _note_edition_change(session: Session, *_: Any) -> None:
    if any(isinstance(o, Edition) for o in (*session.new, *session.dirty, *session.deleted)):
        _edition_changes[0] += 1


class EditionChoice:
    """`chosen_edition`, remembered for a second; a change made in this process is seen at once."""

    def __init__(self) -> None:
        if not _listening[0]:
            event.listen(Session, "before_flush", _note_edition_change)
            _listening[0] = True
        self._chosen: dict[str | None, tuple[int, float, Edition]] = {}
        self._rereading: set[str | None] = set()
        self._lock = threading.Lock()

    def peek(self, ref: str | int | None) -> Edition | None:
        """The remembered choice, without database work; None when it must be read again.

        When it is due for a re-read, one caller gets None (and re-reads it); the others
        keep the remembered choice meanwhile, so a busy server does not send every
        request of that moment to the database at once.
        """
        key = _ref_key(ref)
        hit = self._chosen.get(key)
        if hit is None or hit[0] != _edition_changes[0]:
            return None
        if time.monotonic() - hit[1] <= EDITION_RECHECK_SECONDS:
            return hit[2]
        with self._lock:
            if key in self._rereading:
                return hit[2]
            self._rereading.add(key)
        return None

    def get(self, context: Context, ref: str | int | None) -> Edition:
        fresh = self._chosen.get(_ref_key(ref))
        if (
            fresh is not None
            and fresh[0] == _edition_changes[0]
            and time.monotonic() - fresh[1] <= EDITION_RECHECK_SECONDS
        ):
            return fresh[2]
        generation = _edition_changes[0]
        try:
            found = chosen_edition(context, ref)
            self._chosen[_ref_key(ref)] = (generation, time.monotonic(), found)
        finally:
            with self._lock:
                self._rereading.discard(_ref_key(ref))
        return found


def _ref_key(ref: str | int | None) -> str | None:
    return None if ref is None or ref == "" else f"{type(ref).__name__}:{ref}"


def _choice(context: Context) -> EditionChoice:
    # Kept with the context (one per app or CLI run), made on first use.
    choice: EditionChoice | None = getattr(context, "_edition_choice", None)
    if choice is None:
        choice = EditionChoice()
        context._edition_choice = choice  # type: ignore[attr-defined]
    return choice


def quick_answer(
    context: Context, text: str, date: str | None, edition: str | int | None
) -> bytes | None:
    """The answer if it needs no database work (edition known, answer remembered), else None."""
    parse_text(text)  # refuses bad text and dates as the full path would, and before `peek`:
    when = cached_date(date)  # a None from it promises the caller re-reads the edition
    chosen = _choice(context).peek(edition)
    if chosen is None or chosen.status == "draft":
        return None
    memo = context.reader(chosen).memo
    if memo is None or "json" not in memo:
        return None
    part: bytes | None = memo["json"].get(text, when)
    if part is _WORDED and when is not None:
        part = memo["json"].get((text, when.text), when)
    if part is None or part is _WORDED:
        return None
    return _assemble(text, when, chosen, part)


def answer(context: Context, text: str, date: str | None, edition: str | int | None) -> bytes:
    """The answer of POST /v1/decode as JSON bytes (the edition choice remembered briefly)."""
    parse_text(text)  # the order of refusals as in `decode`: text, then date, then edition
    cached_date(date)
    return answer_json(context, _choice(context).get(context, edition), text, date)
