"""Dates in records: golden cases (data/dates_golden.jsonl), codebook bounds and properties."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import InvalidDate
from app.parsing import dates
from app.parsing.dates import DatePrecision, DateRange, parse_bound, parse_date

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "data" / "dates_golden.jsonl"
CASES: list[dict[str, Any]] = [
    json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines() if line.strip()
]
ONE_DAY = datetime.timedelta(days=1)


@pytest.mark.parametrize("case", CASES, ids=[case["why"] for case in CASES])
def test_golden(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(InvalidDate) as caught:
            parse_date(case["input"])
        error = case["error"]
        assert caught.value.extra == {"position": error["position"]}
        assert caught.value.detail == error["detail"]
        assert caught.value.detail_vi == error["detail_vi"]
    else:
        result = parse_date(case["input"])
        assert (result.to_json() if result else None) == case["expected"]


def test_golden_cases_cover_the_forms_of_the_brief() -> None:
    inputs = {case["input"] for case in CASES}
    brief = {"27/1/1968", "27-01-1968", "ngày 27 tháng 1 năm 1968", "T1/1968", "1/1968"}
    brief |= {"1968", "?/1968", "1968-1970", ""}
    assert brief <= inputs


def test_date_range_is_a_value() -> None:
    result = parse_date("T1/1968")
    assert result == DateRange(
        datetime.date(1968, 1, 1), datetime.date(1968, 2, 1), DatePrecision.MONTH, False, "T1/1968"
    )
    with pytest.raises(AttributeError):
        result.lower = datetime.date(1969, 1, 1)  # type: ignore[misc]


def test_invalid_date_is_a_problem_for_the_user() -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_date("31/2/1968")
    assert caught.value.status == 422
    assert caught.value.slug == "invalid-date"


def test_parser_is_built_on_first_use_only() -> None:
    probe = (
        "import app.parsing.dates as d; "
        "assert d._parser.cache_info().currsize == 0; "
        "d.parse_date('1968'); assert d._parser.cache_info().currsize == 0; "
        "d.parse_date('~1968'); d.parse_date('năm 1969'); "
        "assert d._parser.cache_info().misses == 1"
    )
    subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True)
    assert dates._parser() is dates._parser()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1968-01-27", (datetime.date(1968, 1, 27), DatePrecision.DAY)),
        ("1968-01", (datetime.date(1968, 1, 1), DatePrecision.MONTH)),
        ("1968", (datetime.date(1968, 1, 1), DatePrecision.YEAR)),
        (" 1975-03-26 ", (datetime.date(1975, 3, 26), DatePrecision.DAY)),
        ("", None),
        ("  ", None),
    ],
)
def test_parse_bound(text: str, expected: tuple[datetime.date, DatePrecision] | None) -> None:
    assert parse_bound(text) == expected


@pytest.mark.parametrize(
    "text", ["68", "1968-1", "1968-1-2", "27/1/1968", "1968-13", "1968-02-30", "~1968", "x"]
)
def test_parse_bound_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_bound(text)


_DATES = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 12, 31))


@settings(deadline=None)
@given(_DATES)
def test_every_day_form_gives_the_same_range(day: datetime.date) -> None:
    forms = [
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}-{day.month:02d}-{day.year}",
        f"ngày {day.day} tháng {day.month} năm {day.year}",
        day.isoformat(),
    ]
    for form in forms:
        result = parse_date(form)
        assert result is not None
        assert (result.lower, result.upper, result.precision) == (day, day + ONE_DAY, "day")
        assert not result.approximate


@settings(deadline=None)
@given(_DATES)
def test_every_month_form_gives_the_same_range(day: datetime.date) -> None:
    first = day.replace(day=1)
    after = (first + datetime.timedelta(days=31)).replace(day=1)
    forms = [
        f"{day.month}/{day.year}",
        f"T{day.month}/{day.year}",
        f"tháng {day.month} năm {day.year}",
    ]
    for form in forms:
        result = parse_date(form)
        assert result is not None
        assert (result.lower, result.upper, result.precision) == (first, after, "month")


_DATE_LIKE = st.text(alphabet="0123456789/-.?~ tT–ngàyáhămkoả", max_size=100)


@settings(deadline=None, max_examples=300)
@given(st.one_of(st.text(max_size=100), _DATE_LIKE))
def test_anything_else_is_an_invalid_date(text: str) -> None:
    """Any text gives a range, None or InvalidDate naming a place inside the text."""
    error: InvalidDate | None = None
    result: DateRange | None = None
    try:
        result = parse_date(text)
    except InvalidDate as caught:
        error = caught
    if error is not None:
        position = error.extra["position"]
        assert 0 <= position <= len(text)
        assert f"character {position + 1})" in error.detail
        assert f"ký tự {position + 1})" in error.detail_vi
    elif result is not None:
        assert result.lower < result.upper
        assert result.text == text


def _both(text: str) -> tuple[object, object]:
    """parse_date and the grammar alone on `text`: each a DateRange or the error's message."""
    results: list[object] = []
    for read in (parse_date, dates.parse_date_grammar):
        try:
            results.append(read(text))
        except InvalidDate as exc:
            results.append(("error", str(exc), exc.detail_vi))
    return results[0], results[1]


_DIGITS = st.integers(0, 40).map(str) | st.integers(0, 12).map(lambda n: f"{n:02d}")
_YEARS = st.sampled_from(["1968", "1975", "1899", "2101", "2000", "1900", "0000"])
_SEPS = st.sampled_from(["/", "-", ".", " ", "/ ", ""])


@given(
    st.tuples(
        st.sampled_from(["", "T", "t", " ", "T ", "~", "ngày "]),
        _DIGITS,
        _SEPS,
        _DIGITS,
        _SEPS,
        _YEARS,
        st.sampled_from(["", " ", "\t", "\u00a0", "x"]),
    ),
    st.integers(0, 2),
)
@settings(max_examples=600, deadline=None)
def test_quick_forms_read_as_the_grammar_does(parts: tuple[str, ...], drop: int) -> None:
    # The common forms skip the grammar (speed); every answer, and every refusal's wording,
    # must be what the grammar gives.
    lead, first, sep1, second, sep2, year, tail = parts
    pieces = [lead, first, sep1, second, sep2, year, tail]
    if drop:  # shorter forms too: "1/1968", "1968"
        pieces = [lead, *pieces[1 + 2 * drop : 6], tail] if drop < 2 else [lead, year, tail]
    text = "".join(pieces)
    if not text.strip():
        return
    fast, reference = _both(text)
    assert fast == reference, text


@pytest.mark.parametrize(
    "text",
    [
        "27/1/1968",
        "27-01-1968",
        "27.1.1968",
        "T1/1968",
        "t12/1970",
        "01-1968",
        "1968",
        " 1968 ",
        "31/2/1968",
        "29/2/1968",
        "29/2/1970",
        "1/13/1968",
        "0/1/1968",
        "1899",
        "2101",
        "T13/1968",
    ],
)
def test_quick_forms_table(text: str) -> None:
    fast, reference = _both(text)
    assert fast == reference
