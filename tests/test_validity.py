"""How a date of death stands to a validity period (table in data/validity_fit.csv)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from app.decode.facts import Fit, Validity
from app.parsing.dates import parse_bound, parse_date

with (Path(__file__).parent / "data" / "validity_fit.csv").open(encoding="utf-8") as _file:
    CASES = list(csv.DictReader(_file))


def _validity(start: str, end: str) -> Validity:
    lower = parse_bound(start)
    upper = parse_bound(end)
    return Validity(
        lower[0] if lower else None,
        lower[1].value if lower else None,
        upper[0] if upper else None,
        upper[1].value if upper else None,
    )


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_fit(case: dict[str, str]) -> None:
    validity = _validity(case["from"], case["to"])
    assert validity.fit(parse_date(case["date"] or None)) is Fit(case["fit"])
