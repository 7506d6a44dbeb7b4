"""The page's words: both languages for each key, each key a template uses, each codebook value."""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import pytest

from app.db.models import (
    UNIT_ECHELONS,
    AssignmentKind,
    EditionStatus,
    Reliability,
    SourceKind,
    Verification,
)
from app.decode.facts import Fit
from app.decode.resolver import Status
from app.research.sql import MATCH_KINDS
from app.web.i18n import MESSAGES, translate

TEMPLATES = Path(__file__).parents[2] / "app" / "web" / "templates"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_both_languages(key: str) -> None:
    vi, en = MESSAGES[key]
    assert vi.strip()
    assert en.strip()
    assert unicodedata.normalize("NFC", vi) == vi  # composed diacritics, as users type them
    assert _fields(vi) == _fields(en)


def test_every_key_a_template_uses_exists() -> None:
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(
            re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*[),]""", template.read_text("utf-8"))
        )
    assert used, "no t() call found: the pattern is out of date"
    assert sorted(used - set(MESSAGES)) == []


@pytest.mark.parametrize(
    ("group", "values"),
    [
        ("echelon", UNIT_ECHELONS),
        ("kind", [k.value for k in AssignmentKind]),
        ("verification", [v.value for v in Verification]),
        ("reliability", [r.value for r in Reliability]),
        ("source_kind", [s.value for s in SourceKind]),
        ("edition_status", [s.value for s in EditionStatus]),
        ("status", [s.value for s in Status]),
        ("status_help", [s.value for s in Status]),
        ("fit", [f.value for f in Fit if f is not Fit.UNDATED]),
        ("search.match", MATCH_KINDS),
        (
            "unresolved_reason",
            ["not_in_codebook", "contradicts_chain", "anachronistic", "smaller_than_anchor"],
        ),
    ],
)
def test_every_codebook_value_has_words(group: str, values: Sequence[str]) -> None:
    assert [v for v in values if f"{group}.{v}" not in MESSAGES] == []


def test_translate() -> None:
    assert translate("vi", "search.count", n=3) == "Tìm thấy 3 đơn vị."
    assert translate("en", "nav.decode") == "Decode"
    assert translate("en", "echelon.no_such_echelon") == "no_such_echelon"
