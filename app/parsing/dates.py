"""Dates as written in martyr records, read as half-open ranges of days.

The forms are those of grammar/date.lark: "27/1/1968", "27-01-1968", "27.1.1968",
"1968-01-27", "ngày 27 tháng 1 năm 1968", "tháng 1 năm 1968", "T1/1968", "1/1968",
"01-1968", "1968", "năm 1968", "?/1968", "?/?/1968", "?/1/1968", "1968-1970",
"1/1968 - 3/1968", "~1968", "khoảng năm 1968". Diacritics and case do not matter,
nor does Unicode normalization. Numbers are read day/month/year, the Vietnamese
order, never month/day. A year has four digits and lies in 1900-2100.

A `DateRange` holds every day the text may mean, [lower, upper): a day is one day,
a month its days, a year its days. A range runs from the first day of its start to
the last day of its end, at the coarser precision of the two. An approximate date
("~", "khoảng") is widened by one unit of its precision on each side.

Errors are `InvalidDate`, in English and Vietnamese; they name the character
(counted from 1) where the problem is, and `extra["position"]` holds the same place
as a 0-based index into the text as given.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from app.errors import InvalidDate
from grammar import grammar_text

MIN_YEAR: Final = 1900
MAX_YEAR: Final = 2100


class DatePrecision(StrEnum):
    """The finest unit a date states."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


_COARSENESS: Final = {DatePrecision.DAY: 0, DatePrecision.MONTH: 1, DatePrecision.YEAR: 2}


@dataclass(frozen=True, slots=True)
class DateRange:
    """The days a date in a record may mean: [lower, upper)."""

    lower: datetime.date  # first day possibly meant
    upper: datetime.date  # first day NOT meant (exclusive)
    precision: DatePrecision  # precision of the stated bounds
    approximate: bool  # "~1968", "khoảng 1968"
    text: str  # the input as given

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "lower": self.lower.isoformat(),
            "upper": self.upper.isoformat(),
            "precision": self.precision.value,
            "approximate": self.approximate,
        }


# --- typed nodes built by the transformer ----------------------------------------


@dataclass(frozen=True, slots=True)
class _Stated:
    """One date as written, not yet checked against the calendar."""

    precision: DatePrecision
    year: Token
    month: Token | None = None
    day: Token | None = None

    @property
    def tokens(self) -> list[Token]:
        return [t for t in (self.day, self.month, self.year) if t is not None]


@dataclass(frozen=True, slots=True)
class _Span:
    """From one stated date to another."""

    start: _Stated
    end: _Stated


@dataclass(frozen=True, slots=True)
class _About:
    """An approximate date: "~1968", "khoảng năm 1968"."""

    of: _Stated | _Span


_Node = _Stated | _Span | _About


@v_args(inline=True)
class _ToNode(Transformer[Token, _Node]):
    def start(self, node: _Node) -> _Node:
        return node

    def day(self, day: Token, month: Token, year: Token) -> _Stated:
        return _Stated(DatePrecision.DAY, year, month, day)

    def month(self, month: Token, year: Token) -> _Stated:
        return _Stated(DatePrecision.MONTH, year, month)

    def year(self, year: Token) -> _Stated:
        return _Stated(DatePrecision.YEAR, year)

    def iso_day(self, year: Token, month: Token, day: Token) -> _Stated:
        return _Stated(DatePrecision.DAY, year, month, day)

    def iso_month(self, year: Token, month: Token) -> _Stated:
        return _Stated(DatePrecision.MONTH, year, month)

    def year_range(self, start: Token, end: Token) -> _Span:
        return _Span(_Stated(DatePrecision.YEAR, start), _Stated(DatePrecision.YEAR, end))

    def date_range(self, start: _Stated, end: _Stated) -> _Span:
        return _Span(start, end)

    def approximate(self, of: _Stated | _Span) -> _About:
        return _About(of)


@functools.cache
def _parser() -> Lark:
    """The date parser, compiled on first use."""
    return Lark(grammar_text("date.lark"), parser="lalr")


# --- folding: what the grammar sees ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Folded:
    """The text as the grammar sees it, and where each of its characters came from."""

    text: str  # the input as given
    folded: str
    origin: tuple[int, ...]  # origin[i]: index in `text` of folded[i]

    def position(self, folded_index: int) -> int:
        """Index in the input of a folded index; past the end means just after the last word."""
        if folded_index < len(self.origin):
            return self.origin[folded_index]
        return len(self.text.rstrip())

    def original(self, start: int, end: int) -> str:
        """The input behind folded[start:end]."""
        return self.text[self.origin[start] : self.origin[end - 1] + 1]


def _fold(text: str) -> _Folded:
    """Lower case, no diacritics, "đ" as "d", dashes as "-", spaces as " "."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in "đĐÐð":
            pieces = "d"
        elif unicodedata.category(char) == "Pd":
            pieces = "-"
        elif unicodedata.category(char) == "Zs":
            pieces = " "
        else:
            pieces = "".join(
                c
                for c in unicodedata.normalize("NFKD", char).lower()
                if not unicodedata.combining(c)
            )
        folded.append(pieces)
        origin.extend([index] * len(pieces))
    return _Folded(text, "".join(folded), tuple(origin))


# --- errors ----------------------------------------------------------------------

_MONTH_NAMES: Final = tuple(calendar.month_name)  # locale-independent English names

# How the grammar's terminals read in an error message, in the order they are listed.
_TERMINALS: Final[dict[str, tuple[str, str]]] = {
    "NUM": ("a day or month (1 or 2 digits)", "ngày hoặc tháng (1 hoặc 2 chữ số)"),
    "YEAR": ("a 4-digit year", "năm có 4 chữ số"),
    "_SLASH": ("'/'", "'/'"),
    "_MINUS": ("'-'", "'-'"),
    "_DOT": ("'.'", "'.'"),
    "_NGAY": ("'ngày'", "'ngày'"),
    "_THANG": ("'tháng'", "'tháng'"),
    "_NAM": ("'năm'", "'năm'"),
    "_T": ("'T'", "'T'"),
    "_UNKNOWN": ("'?'", "'?'"),
    "_APPROX": ("'~' or 'khoảng'", "'~' hoặc 'khoảng'"),
    "$END": ("the end of the text", "hết chuỗi"),
}
_A_DATE: Final = (
    "a date such as 27/1/1968, 1/1968 or 1968",
    "một ngày dạng 27/1/1968, 1/1968 hoặc 1968",
)
_END_FOUND: Final = ("the end of the text", "hết chuỗi")
_DIGITS: Final = re.compile(r"[0-9]+")


def _invalid(text: str, position: int, reason: str, reason_vi: str) -> InvalidDate:
    at = position + 1
    return InvalidDate(
        f"Date '{text}' not understood: {reason} (at character {at})",
        detail_vi=f"Không hiểu ngày '{text}': {reason_vi} (ở ký tự {at})",
        extra={"position": position},
    )


def _one_of(names: set[str]) -> tuple[str, str]:
    """Describe the terminals the parser would have accepted."""
    if {"NUM", "YEAR", "_NGAY"} <= names:
        return _A_DATE
    words = [_TERMINALS[name] for name in _TERMINALS if name in names]
    if not words:
        return _A_DATE
    english = [en for en, _ in words]
    vietnamese = [vi for _, vi in words]
    if len(words) == 1:
        return english[0], vietnamese[0]
    return (
        f"{', '.join(english[:-1])} or {english[-1]}",
        f"{', '.join(vietnamese[:-1])} hoặc {vietnamese[-1]}",
    )


def _accepted(source: _Folded, folded_index: int) -> set[str]:
    """The terminals the parser accepts after folded[:folded_index], the end included."""
    # The lexer reports the terminals of a merged LALR state; asking the parser is exact.
    interactive = _parser().parse_interactive(source.folded[:folded_index])
    try:
        interactive.exhaust_lexer()
    except UnexpectedInput:
        return set()
    accepts: set[str] = interactive.accepts()  # type: ignore[no-untyped-call]  # lark: untyped
    return accepts


def _syntax_error(source: _Folded, error: UnexpectedInput) -> InvalidDate:
    if isinstance(error, UnexpectedToken):
        expected = _one_of(set(error.accepts or error.expected))
        token = error.token
        if token.type == "$END":
            position, found = len(source.text.rstrip()), _END_FOUND
        else:
            start = token.start_pos or 0
            position = source.position(start)
            found_text = source.original(start, token.end_pos or start + 1)
            found = (f"'{found_text}'", f"'{found_text}'")
    else:
        index = error.pos_in_stream if isinstance(error, UnexpectedCharacters) else None
        if index is None or index >= len(source.folded):
            index = len(source.folded)
            position, found = len(source.text.rstrip()), _END_FOUND
        else:
            position = source.position(index)
            digits = _DIGITS.match(source.text, position)
            found_text = digits.group() if digits else source.text[position]
            found = (f"'{found_text}'", f"'{found_text}'")
        expected = _one_of(_accepted(source, index))
    return _invalid(
        source.text,
        position,
        f"expected {expected[0]} but found {found[0]}",
        f"cần {expected[1]} nhưng gặp {found[1]}",
    )


# --- from nodes to days ------------------------------------------------------------


def _add_months(first: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` after the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _days(stated: _Stated, source: _Folded) -> tuple[datetime.date, datetime.date]:
    """The days a stated date means, [lower, upper), after checking the calendar."""

    def where(token: Token) -> int:
        return source.position(token.start_pos or 0)

    year = int(stated.year)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _invalid(
            source.text,
            where(stated.year),
            f"year {stated.year} is outside {MIN_YEAR}-{MAX_YEAR}",
            f"năm {stated.year} nằm ngoài khoảng {MIN_YEAR}-{MAX_YEAR}",
        )
    if stated.month is None:
        return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
    month = int(stated.month)
    if not 1 <= month <= 12:
        raise _invalid(
            source.text,
            where(stated.month),
            f"there is no month {month} (months are 1 to 12)",
            f"không có tháng {month} (tháng từ 1 đến 12)",
        )
    first = datetime.date(year, month, 1)
    if stated.day is None:
        return first, _add_months(first, 1)
    day = int(stated.day)
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        if month == 2 and day == 29:
            reason = f"February {year} has no day 29", f"tháng 2 năm {year} không có ngày 29"
        else:
            reason = (
                f"{_MONTH_NAMES[month]} has no day {day}",
                f"tháng {month} không có ngày {day}",
            )
        raise _invalid(source.text, where(stated.day), *reason)
    lower = datetime.date(year, month, day)
    return lower, lower + datetime.timedelta(days=1)


def _widen(
    lower: datetime.date, upper: datetime.date, precision: DatePrecision
) -> tuple[datetime.date, datetime.date]:
    """One unit of `precision` more on each side."""
    if precision is DatePrecision.DAY:
        one_day = datetime.timedelta(days=1)
        return lower - one_day, upper + one_day
    if precision is DatePrecision.MONTH:
        return _add_months(lower, -1), _add_months(upper, 1)
    return lower.replace(year=lower.year - 1), upper.replace(year=upper.year + 1)


def _range(
    node: _Stated | _Span, source: _Folded
) -> tuple[datetime.date, datetime.date, DatePrecision]:
    if isinstance(node, _Stated):
        return (*_days(node, source), node.precision)
    start_lower, start_upper = _days(node.start, source)
    end_lower, end_upper = _days(node.end, source)
    if end_lower < start_lower:
        start_tokens, end_tokens = node.start.tokens, node.end.tokens
        start_text = source.original(
            min(t.start_pos or 0 for t in start_tokens), max(t.end_pos or 0 for t in start_tokens)
        )
        end_start = min(t.start_pos or 0 for t in end_tokens)
        end_text = source.original(end_start, max(t.end_pos or 0 for t in end_tokens))
        raise _invalid(
            source.text,
            source.position(end_start),
            f"the range ends ({end_text}) before it starts ({start_text})",
            f"khoảng thời gian kết thúc ({end_text}) trước khi bắt đầu ({start_text})",
        )
    precision = max(node.start.precision, node.end.precision, key=_COARSENESS.__getitem__)
    return start_lower, max(start_upper, end_upper), precision


# The forms most records use, read without the grammar: "27/1/1968" (any of / - . between),
# "T1/1968" or "1/1968", "1968". Anything else, and any of these that fails the calendar,
# goes through the grammar, which gives the same answer or the worded error.
_QUICK: Final = re.compile(
    r"(?:([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]|[Tt]?([0-9]{1,2})[/.-])?([0-9]{4})", re.ASCII
)


def _quick(text: str) -> DateRange | None:
    """A plain date in one of the common forms, or None to let the grammar read it."""
    match = _QUICK.fullmatch(text.strip(" \t\f\r\n"))  # the whitespace the grammar ignores
    if match is None:
        return None
    day, month, only_month, year_text = match.groups()
    year = int(year_text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    if day is not None:
        d, m = int(day), int(month)
        if not 1 <= m <= 12 or not 1 <= d <= calendar.monthrange(year, m)[1]:
            return None
        lower = datetime.date(year, m, d)
        return DateRange(lower, lower + datetime.timedelta(days=1), DatePrecision.DAY, False, text)
    if only_month is not None:
        m = int(only_month)
        if not 1 <= m <= 12:
            return None
        first = datetime.date(year, m, 1)
        return DateRange(first, _add_months(first, 1), DatePrecision.MONTH, False, text)
    return DateRange(
        datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1), DatePrecision.YEAR, False, text
    )


def parse_date(text: str | None) -> DateRange | None:
    """Read a date from a record; None when there is none, InvalidDate when it makes no sense."""
    if text is None or not text.strip():
        return None
    return _quick(text) or parse_date_grammar(text)


def parse_date_grammar(text: str) -> DateRange:
    """`parse_date` through the grammar alone (the reference the quick forms must equal)."""
    source = _fold(text)
    try:
        tree = _parser().parse(source.folded)
    except UnexpectedInput as error:
        raise _syntax_error(source, error) from None
    node = _ToNode().transform(tree)
    approximate = isinstance(node, _About)
    lower, upper, precision = _range(node.of if isinstance(node, _About) else node, source)
    if approximate:
        lower, upper = _widen(lower, upper, precision)
    return DateRange(lower, upper, precision, approximate, text)


_BOUND: Final = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


def parse_bound(text: str) -> tuple[datetime.date, DatePrecision] | None:
    """Read a codebook bound "YYYY-MM-DD", "YYYY-MM" or "YYYY" ("" is None) as its first day."""
    stripped = text.strip()
    if not stripped:
        return None
    match = _BOUND.fullmatch(stripped)
    if match is None:
        raise ValueError(f"{text!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    # datetime.date rejects month 13, 31 February and the like with a ValueError.
    if day is not None:
        return datetime.date(int(year), int(month), int(day)), DatePrecision.DAY
    if month is not None:
        return datetime.date(int(year), int(month), 1), DatePrecision.MONTH
    return datetime.date(int(year), 1, 1), DatePrecision.YEAR
