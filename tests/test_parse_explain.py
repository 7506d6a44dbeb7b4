"""A designation with nothing to look up explains itself: where, what was expected, a hint."""

from __future__ import annotations

from typing import Any

import pytest

from app.context import Context
from app.decode.service import decode
from app.parsing import parse
from app.parsing.explain import nothing_usable
from app.parsing.keys import element_keys

# input -> (span of the part the notice is about, a phrase of the English hint)
CASES = {
    "KBC 4100": ((0, 8), "South Vietnamese army postal code"),
    "Đại đội": ((0, 7), "After the echelon word a number or a name was expected"),
    "Hòm thư": ((0, 7), "After «Hòm thư» its number was expected"),
    "1968": ((0, 4), "A number alone does not say its echelon"),
    "chủ lực": ((0, 7), "An arm of service follows a unit"),
    "T1/1968": ((0, 7), "is a date, not part of the designation"),
    "SH 1 - 99X": ((0, 10), "metal identity tag"),
    "chiến trường miền Nam, không rõ": ((0, 21), "names a place or a battlefield"),
    "Đoàn vận tải": ((0, 12), "gives an echelon but no number or name"),
}


@pytest.mark.parametrize(("text", "expected"), CASES.items(), ids=list(CASES))
def test_nothing_usable_says_where_what_and_why(text: str, expected: tuple[Any, str]) -> None:
    result = parse(text)
    assert not [e for e in result.elements if element_keys(e)], "nothing can be looked up"
    notice = nothing_usable(result)
    span, hint = expected
    assert notice.code == "nothing_usable"
    assert notice.span == span
    assert f"At position {span[0]}" in notice.message_en
    assert f"Tại vị trí {span[0]}" in notice.message_vi
    assert "expected an echelon symbol" in notice.message_en
    assert hint in notice.message_en


def test_empty_input_says_there_is_nothing() -> None:
    notice = nothing_usable(parse("  "))
    assert notice.span is None
    assert "There is no designation to look up" in notice.message_en
    assert "Không có phiên hiệu nào để tra" in notice.message_vi


def test_kbc_decodes_as_invalid_with_the_hint(sample_context: Context) -> None:
    with sample_context.session() as session:
        answer = decode(sample_context, session, "KBC 4100", "1968", None)
    assert answer["status"] == "invalid"
    (notice,) = [w for w in answer["warnings"] if w["code"] == "nothing_usable"]
    assert notice["span"] == [0, 8]
    assert "South Vietnamese army postal code" in notice["message_en"]
    assert "Việt Nam Cộng hòa" in notice["message_vi"]
