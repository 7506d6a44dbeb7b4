"""One martyr-list row in, the decode columns out: the hot loop of batch decoding.

Identical work is done once. A row's designation is parsed once per distinct
folded text (case and diacritics do not matter to the grammar), its date once
per distinct date text, and the resolution once per (what the parse asks the
codebook, the date's class against the rows that resolution read, edition):
"C3, D4, E9068" and "Đại đội 3, Tiểu đoàn 4, Trung đoàn 9068" ask the same,
and every date of 1968 that falls alike against those rows gets the same answer.
The decode columns hold no text of the row, so they can be shared.
"""

from __future__ import annotations

import collections
import csv
import sys
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from app.batch.tables import neutralize
from app.context import Context, pause_list_collector, settle_list_heap
from app.db.models import Edition
from app.decode.encode import dumps_str
from app.decode.facts import UnitFact
from app.decode.memo import Memo, RecordingReader, memo_of
from app.decode.resolver import WIDE, Brief, Resolution, brief
from app.decode.service import check_text, date_json
from app.errors import PhienhieuError
from app.parsing import parse
from app.parsing.ast import ParseResult
from app.parsing.dates import DateRange, parse_date
from app.parsing.keys import element_keys, without_suffix
from app.parsing.legacy import repair_legacy
from app.parsing.normalize import fold_for_parsing

# The columns added to every row, in order (Vietnamese first, English in brackets).
DECODE_COLUMNS = (
    "Giải mã: trạng thái (status)",
    "Giải mã: đơn vị (unit)",
    "Giải mã: mã đơn vị (unit id)",
    "Giải mã: chuỗi trực thuộc (chain)",
    "Giải mã: điểm (score)",
    "Giải mã: khả năng khác (other candidates)",
    "Giải mã: cảnh báo (warnings)",
    "Giải mã: ấn bản (edition)",
)
OTHER_CANDIDATES = 4
CACHE_LIMIT = 500_000  # distinct texts / dates remembered per decoder before starting afresh
# Parses kept after their first resolution, the most recently used (~1.2 KiB each): a
# signature met again at a date of another class is resolved again, and a national list's
# worker did so 24,000 times, each with a parse made anew (~35 us); 12,288 kept served 60 %.
PARSES_KEPT = 12_288
UNITS_KEPT = 100_000  # units whose summary JSON a decoder remembers
KEYS_KEPT = 65_536  # distinct elements' keys shared among signatures
WHOLE_HIERARCHY_FROM = 500  # rows in one go: then read the whole hierarchy at once
FORMULA_START = frozenset("=+-@\t\r")  # what Excel may run at a field's start

Cells = tuple[str, ...]
T = TypeVar("T")
# A CSV row's decode columns as bytes (after its text as read, or its whole line written
# anew), the count per status, the positions of the unresolved rows and of those written anew.
Tails = tuple[list[bytes], collections.Counter[str], list[int], list[int]]
Keyed = tuple[ParseResult, tuple[tuple[str, ...], ...]]  # a parse and each element's keys
_CsvAnswer = tuple[str, bytes]  # a CSV row's status, and its decode columns' bytes


def summarize(answer: Resolution | Brief, edition_label: str) -> Cells:
    """The decode columns of one answer; no text of the record appears in them."""
    found = answer.brief() if isinstance(answer, Resolution) else answer
    status = found.status.value
    warnings = sys.intern("; ".join(found.warning_codes))  # a few dozen combinations
    if not found.chain:
        return (status, "", "", "", "", "", warnings, edition_label)
    unit = found.chain[0]
    chain = sys.intern(" → ".join(u.name for u in found.chain))  # chains repeat
    others = "; ".join(
        f"{u.name} [{u.id}] ({score:.2f})" for u, score in found.others[:OTHER_CANDIDATES]
    )
    score = sys.intern(f"{found.score:.2f}")
    return (status, unit.name, unit.id, chain, score, others, warnings, edition_label)


def _summary_part(found: Brief, unit_json: dict[UnitFact, bytes]) -> bytes:
    """A batch item's summary fields as JSON (no braces): what a list's decode columns hold."""

    def unit(u: UnitFact) -> bytes:
        part = unit_json.get(u)
        if part is None:
            if len(unit_json) >= UNITS_KEPT:
                unit_json.clear()
            part = unit_json[u] = b"".join(
                (
                    b'{"id":',
                    dumps_str(u.id),
                    b',"name":',
                    dumps_str(u.name),
                    b',"echelon":',
                    dumps_str(u.echelon),
                )
            )
        return part

    codes = b",".join(dumps_str(c) for c in found.warning_codes)
    status = b'"status":' + dumps_str(found.status.value)
    if not found.chain:
        return (
            status
            + b',"unit":null,"chain":[],"score":null,"others":[],"warning_codes":['
            + (codes + b"]")
        )
    return b"".join(
        (
            status,
            b',"unit":',
            unit(found.chain[0]),
            b'},"chain":[',
            b",".join(unit(u) + b"}" for u in found.chain),
            b'],"score":',
            float.__repr__(found.score).encode(),
            b',"others":[',
            b",".join(
                unit(u) + b',"score":' + float.__repr__(score).encode() + b"}"
                for u, score in found.others
            ),
            b'],"warning_codes":[',
            codes,
            b"]",
        )
    )


def error_cells(exc: PhienhieuError, edition_label: str) -> Cells:
    return (
        "error",
        "",
        "",
        "",
        "",
        "",
        f"{exc.slug}: {exc.detail_vi} / {exc.detail}",
        edition_label,
    )


def keyed(parsed: ParseResult) -> Keyed:
    """`parsed` with the keys of each of its elements, made once for its signature, the
    batch's bulk reads and its resolution."""
    return parsed, tuple(_shared_keys(element_keys(e)) for e in parsed.elements)


_KEYS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _shared_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """One tuple for equal keys, its keys interned: a national list holds ~10^5 signatures
    made of a few thousand distinct elements' keys (a tuple each was 14 MiB a worker)."""
    found = _KEYS.get(keys)
    if found is None:
        if len(_KEYS) >= KEYS_KEPT:
            _KEYS.clear()
        found = _KEYS[keys] = tuple(map(sys.intern, keys))
    return found


def signature(parsed: Keyed) -> Hashable:
    """What a parse asks the codebook: the keys of its elements in order, and its warnings.

    The resolver reads nothing else of a parse except text for its messages, which the
    decode columns do not show; so parses with equal signatures decode alike.
    """
    result, keys_of = parsed
    keys = tuple(k for k in keys_of if k)
    if not keys:
        return ("invalid", bool(result.residue))
    return (keys, tuple(w.code for w in result.warnings))


def _repaired(text: str) -> str:
    """`text` with TCVN3/VNI legacy encoding turned into Unicode (ASCII needs nothing)."""
    return text if text.isascii() else repair_legacy(text)[0]


class _LastLine:
    """A file for csv.writer that keeps only the line last written."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


@dataclass(slots=True, init=False)  # a written __init__ compiles (app/parsing/ast.py)
class _Text:
    key: int  # its signature's number in the memos (`Memo.key_id`); -1 with an error
    error: PhienhieuError | None

    def __init__(self, key: int, error: PhienhieuError | None) -> None:
        self.key = key
        self.error = error


class RowDecoder:
    """Decode columns for (designation, date) pairs against one edition, reusing all it can."""

    @classmethod
    def shared(cls, context: Context, edition: Edition) -> RowDecoder:
        """The decoder kept with the edition's reader, so that batch after batch reuses it."""
        reader = context.reader(edition)
        found: RowDecoder | None = reader.rows
        if found is None:
            found = cls(context, edition)
            reader.rows = found
        return found

    def __init__(self, context: Context, edition: Edition) -> None:
        self.edition_label = edition.label
        self.reader = context.reader(edition)
        self.memo = memo_of(self.reader, "row")
        self.summaries = memo_of(self.reader, "row-summary")
        self._unit_json: dict[UnitFact, bytes] = {}
        self._texts: dict[str, _Text] = {}
        self._folded: dict[str, _Text] = {}
        # One parse per signature is all a resolution needs (texts alike decode alike),
        # kept from the text's first sight to its first resolution, then among the
        # PARSES_KEPT most recently resolved.
        self._parses: dict[int, Keyed] = {}
        self._resolved_parses: collections.OrderedDict[int, Keyed] = collections.OrderedDict()
        self.parsed = 0  # parses made (the rest came from those kept)
        # The decode columns of each error met (kept texts and dates keep theirs), by id.
        self._errors: dict[int, tuple[PhienhieuError, Cells]] = {}
        self._dates: dict[str, DateRange | PhienhieuError | None] = {}
        self.resolved = 0  # resolutions actually computed (the rest came from the memo)
        self._csv: dict[str, _CsvTails] = {}  # by delimiter

    def _text(self, text: str) -> _Text:
        found = self._texts.get(text)
        if found is not None:
            return found
        if len(self._texts) >= CACHE_LIMIT:
            self._texts.clear()
            self._folded.clear()
            self._parses.clear()
            self._resolved_parses.clear()
        try:
            check_text(text)
            repaired = _repaired(text)
            folded = fold_for_parsing(repaired).text
            found = self._folded.get(folded)
            if found is None:
                parsed = keyed(parse(repaired, remember=False))
                self.parsed += 1
                key = self.memo.key_id(signature(parsed))
                self._parses.setdefault(key, parsed)
                found = self._folded[folded] = _Text(key, None)
        except PhienhieuError as exc:
            found = _Text(-1, exc)
        self._texts[text] = found
        return found

    def _parse_of(self, text: str, entry: _Text) -> Keyed:
        """The parse of `entry`'s signature: kept, or made again."""
        parsed = self._parses.get(entry.key)
        if parsed is None:
            parsed = self._resolved_parses.pop(entry.key, None)  # back among the newest after
            if parsed is None:
                parsed = keyed(parse(_repaired(text), remember=False))
                self.parsed += 1
            parsed = self._parses.setdefault(entry.key, parsed)
        return parsed

    def _date(self, date: str) -> DateRange | PhienhieuError | None:
        try:
            return self._dates[date]  # one lookup for the row that comes again
        except KeyError:
            pass
        if len(self._dates) >= CACHE_LIMIT:
            self._dates.clear()
        try:
            found: DateRange | PhienhieuError | None = parse_date(date)
        except PhienhieuError as exc:
            found = exc
        self._dates[date] = found
        return found

    def warm(self, pairs: Sequence[tuple[str, str]]) -> list[_Text]:
        """Read what a chunk of rows will need in a few bulk queries, not several per row.

        Parses the chunk's new designations, then reads the narrow keys they ask for, the
        ancestors of every unit those keys name and, below the units that must narrow a
        wide key, the subordinate links. Returns each row's text entry (for `_cells`).
        """
        fresh = []
        entries = []
        for text, _ in pairs:
            entry = self._texts.get(text)
            if entry is None:
                entry = self._text(text)
                if entry.error is None:
                    fresh.append(self._parse_of(text, entry))
            entries.append(entry)
        self.read_ahead(fresh, len(pairs))
        return entries

    def read_ahead(self, fresh: Sequence[Keyed], rows: int) -> None:
        """`warm`'s bulk reads for parses made elsewhere (`rows`: how many rows they serve)."""
        if not fresh:
            return
        if rows >= WHOLE_HIERARCHY_FROM:
            pause_list_collector()  # young collections would walk the hierarchy as it grows
            if self.reader.load_whole(WIDE):
                settle_list_heap()  # and full ones again and again
        per_parse: list[list[list[str]]] = []  # per parse, per element with keys, its keys
        for _, keys_of in fresh:
            elements = []
            for of_element in keys_of:
                keys = []
                for key in of_element:
                    keys.append(key)
                    fallback = without_suffix(key)
                    if fallback:
                        keys.append(fallback)
                if keys:
                    elements.append(keys)
            per_parse.append(elements)
        every = tuple(dict.fromkeys(k for es in per_parse for ks in es for k in ks))
        counts = self.reader.key_counts(every)
        narrow = tuple(k for k in every if 0 < counts[k] <= WIDE)
        by_key: dict[str, list[str]] = {}
        for fact in self.reader.assignments(narrow):
            by_key.setdefault(fact.match_key, []).append(fact.unit_id)
        self.reader.prefetch_ancestors([u for ids in by_key.values() for u in ids])
        # Below the element that will narrow each wide one: the nearest narrow one after it,
        # as the resolver tries first (larger ones hold too many units to narrow anything).
        roots: list[str] = []
        for elements in per_parse:
            wide = [any(counts[k] > WIDE for k in keys) for keys in elements]
            for i, is_wide in enumerate(wide):
                if not is_wide:
                    continue
                after = [keys for j, keys in enumerate(elements) if j > i and not wide[j]]
                for keys in after[:1]:
                    roots.extend(u for k in keys for u in by_key.get(k, ()))
        if roots:
            self.reader.prefetch_descendants(roots)

    def cells(self, text: str, date: str) -> Cells:
        """The decode columns for one row (never raises for bad input: the row says why)."""
        return self._cells(self._text(text), text, date)

    def _cells(self, entry: _Text, text: str, date: str) -> Cells:
        """`cells` of a row whose text entry is `entry`."""
        return self._answer(entry, text, date, self.memo, self._cells_of, self._error_cells)

    def _answer(
        self,
        entry: _Text,
        text: str,
        date: str,
        memo: Memo[T],
        made: Callable[[Brief], T],
        failed: Callable[[PhienhieuError], T],
    ) -> T:
        """A row's answer as `memo` keeps it (`made` of a resolution), or `failed` of the
        error that stops it (its text or its date cannot be read)."""
        if entry.error is not None:
            return failed(entry.error)
        when = self._date(date)
        if isinstance(when, PhienhieuError):
            return failed(when)
        found = memo.get(entry.key, when)
        if found is None:
            found = self._resolve(memo, text, entry, when, made)
        return found

    def _error_cells(self, exc: PhienhieuError) -> Cells:
        """`error_cells` of `exc`, one tuple for all the rows it stands for."""
        return _kept_per_error(self._errors, exc, lambda: error_cells(exc, self.edition_label))

    def _cells_of(self, answer: Brief) -> Cells:
        return summarize(answer, self.edition_label)

    def _summary_of(self, answer: Brief) -> bytes:
        return _summary_part(answer, self._unit_json)

    def _resolve(
        self,
        memo: Memo[T],
        text: str,
        entry: _Text,
        when: DateRange | None,
        made: Callable[[Brief], T],
    ) -> T:
        """`made` of `entry`'s answer at `when`, kept in `memo` for every date alike."""
        recorder = RecordingReader(self.reader)
        parsed, keys = self._parse_of(text, entry)
        found = made(brief(parsed, when, recorder, keys))
        # Kept among the most recently resolved, not all: ~100,000 parses (1.2 KiB each)
        # would stay in each worker.
        kept = self._parses.pop(entry.key, None)
        if kept is not None:
            resolved = self._resolved_parses
            resolved[entry.key] = kept
            while len(resolved) > PARSES_KEPT:
                resolved.popitem(last=False)
        self.resolved += 1
        memo.put(entry.key, when, recorder.points(), found)
        return found

    def summary(self, text: str, date: str | None, head: bytes = b"{") -> bytes:
        """A JSON batch item's summary answer: the decode columns' facts as JSON.

        `{…head, "input", "date", "status", "unit", "chain", "score", "others",
        "warning_codes"}`: the best candidate's unit and chain (smallest first, each
        `{id, name, echelon}`), its score, the other candidates' units with their scores,
        and the warnings' codes. Raises the error of a text or date that cannot be read.
        """
        entry = self._text(text)
        if entry.error is not None:
            raise entry.error
        when = self._date(date or "")
        if isinstance(when, PhienhieuError):
            raise when
        part: bytes | None = self.summaries.get(entry.key, when)
        if part is None:
            part = self._resolve(self.summaries, text, entry, when, self._summary_of)
        return b"".join(
            (head, b'"input":', dumps_str(text), b',"date":', date_json(when), b",", part, b"}")
        )

    def csv_tails(
        self,
        rows: Sequence[list[str] | tuple[str, str]],
        pairs: list[tuple[str, str]],
        delimiter: str,
    ) -> Tails:
        """Each CSV row's decode columns as the bytes that follow its text as read; a row
        given as cells (not as its (designation, date) pair) is written anew by the csv
        module, cell by cell, its cells neutralised for Excel. `pairs`: each row's
        (designation, date).

        What the memo keeps for a CSV is each answer's status and those bytes, made once
        per resolution: a row that comes again costs lookups only, and the rows of one
        answer share one bytes object, which a chunk's answer pickles once.
        """
        entries = self.warm(pairs)
        tails = self._csv_tails(delimiter)
        memo, made, failed = tails.memo, tails.made, tails.error
        outs: list[bytes] = []
        statuses: collections.Counter[str] = collections.Counter()
        unresolved: list[int] = []
        whole: list[int] = []
        for index in range(len(rows)):
            text, date = pairs[index]
            status, tail = self._answer(entries[index], text, date, memo, made, failed)
            statuses[status] += 1
            if status == "unresolved":
                unresolved.append(index)
            item = rows[index]
            if isinstance(item, tuple):
                outs.append(tail)  # after the row's own columns, as they were written
                continue
            row = item
            for value in row:
                if value[:1] in FORMULA_START:
                    row = [neutralize(c) for c in row]
                    break
            whole.append(index)
            if len(row) == 1 and not row[0]:
                outs.append(tail)  # one empty cell: written as nothing before others ("" alone)
            else:
                # Each field is quoted or not by its own text: the row's fields, then the tail.
                outs.append(tails.line(row)[:-2].encode() + tail)
        return outs, statuses, unresolved, whole

    def _csv_tails(self, delimiter: str) -> _CsvTails:
        """The CSV answers of this decoder's edition for `delimiter`, made once."""
        found = self._csv.get(delimiter)
        if found is None:
            found = self._csv[delimiter] = _CsvTails(
                memo_of(self.reader, "row-csv" + delimiter), delimiter, self.edition_label
            )
        return found


def _csv_field(value: str, delimiter: str) -> str:
    """`value` as the csv module writes a field of a row of several (QUOTE_MINIMAL, '"' as
    the quote, doubled, CRLF line ends): quoted when it holds the delimiter, a quote or a
    line break."""
    if delimiter in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


class _CsvTails:
    """A CSV's answers, as its rows end: (status, the decode columns' bytes after the row's
    own text), kept per (signature, date class) in `memo` and per error."""

    def __init__(self, memo: Memo[_CsvAnswer], delimiter: str, edition_label: str) -> None:
        self.memo = memo
        self.delimiter = delimiter
        self.edition_label = edition_label
        self._last = _LastLine()
        self._writer = csv.writer(self._last, delimiter=delimiter, lineterminator="\r\n")
        # By the error's id, with the error (kept texts and dates keep theirs).
        self._errors: dict[int, tuple[PhienhieuError, _CsvAnswer]] = {}

    def line(self, cells: Sequence[str]) -> str:
        """`cells` as the csv module writes them, with the line ending."""
        self._writer.writerow(cells)
        return self._last.text

    def answer(self, cells: Cells) -> _CsvAnswer:
        """`cells` as the bytes of decode columns: quoted as the csv module quotes them
        (`line`, which a test holds this to), without its writer's per-character scan."""
        d = self.delimiter
        return cells[0], (d + d.join([_csv_field(c, d) for c in cells]) + "\r\n").encode()

    def made(self, found: Brief) -> _CsvAnswer:
        return self.answer(summarize(found, self.edition_label))

    def error(self, exc: PhienhieuError) -> _CsvAnswer:
        """The answer of a row that `exc` stops: one for all the rows it stands for."""
        return _kept_per_error(
            self._errors, exc, lambda: self.answer(error_cells(exc, self.edition_label))
        )


def _kept_per_error(
    kept: dict[int, tuple[PhienhieuError, T]], exc: PhienhieuError, make: Callable[[], T]
) -> T:
    """`make()` for `exc`, made once and kept by the error's identity (kept texts and dates
    keep their errors, so the rows an error stops share its answer)."""
    found = kept.get(id(exc))
    if found is None or found[0] is not exc:
        if len(kept) >= CACHE_LIMIT:
            kept.clear()
        found = kept[id(exc)] = (exc, make())
    return found[1]
