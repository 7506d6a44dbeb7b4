"""Why a designation gives nothing to look up: where, what was expected there, and a hint.

A parse with no element that has a match key (app/parsing/keys.py) cannot be
decoded; the decode status is then `invalid`, and `nothing_usable` says why in
Vietnamese and English, pointing at the first part of the input it is about.
"""

from __future__ import annotations

from app.parsing import lexicon
from app.parsing.ast import (
    CoverCodeElement,
    Element,
    Notice,
    ParseResult,
    PlaceElement,
    Span,
    TagElement,
    TextElement,
    UnitElement,
)
from app.parsing.keys import KBC_PREFIX
from app.parsing.normalize import fold

EXPECTED_VI = (
    "một ký hiệu (C11, E270), một đơn vị (Sư đoàn 9), một mật danh (Công trường 9), "
    "một mã chiến trường (B3) hoặc một hòm thư (Hòm thư 91364 CS)"
)
EXPECTED_EN = (
    "an echelon symbol (C11, E270), a unit (Sư đoàn 9), a cover name (Công trường 9), "
    "a theatre code (B3) or a field mailbox (Hòm thư 91364 CS)"
)
_MAILBOX_HEADS = ("hom thu", "ht")


def nothing_usable(result: ParseResult) -> Notice:
    """The `nothing_usable` notice for a parse none of whose elements can be looked up."""
    if not result.elements:
        return Notice(
            "nothing_usable",
            f"Không có phiên hiệu nào để tra. Cần {EXPECTED_VI}.",
            f"There is no designation to look up. Expected {EXPECTED_EN}.",
        )
    element = result.elements[0]
    hint_vi, hint_en = _hint(element, result)
    start = element.span[0]
    message_vi = (
        f"Không nhận ra phiên hiệu nào. Tại vị trí {start} («{element.text}») cần {EXPECTED_VI}."
    )
    message_en = (
        f"No designation recognised. At position {start} («{element.text}») expected {EXPECTED_EN}."
    )
    return Notice(
        "nothing_usable",
        f"{message_vi} {hint_vi}".strip(),
        f"{message_en} {hint_en}".strip(),
        element.span,
    )


def _hint(element: Element, result: ParseResult) -> tuple[str, str]:
    text = element.text
    match element:
        case CoverCodeElement(code=str(code)) if code.startswith(KBC_PREFIX):
            return (
                "KBC (Khu Bưu Chính) là số hòm thư của quân đội Việt Nam Cộng hòa, "
                "không phải phiên hiệu của Quân đội nhân dân Việt Nam.",
                "KBC (Khu Bưu Chính) is a South Vietnamese army postal code, "
                "not a designation of the People's Army of Vietnam.",
            )
        case TagElement():
            return (
                f"«{text}» giống số thẻ kim loại tìm thấy cùng hài cốt; bộ mã không chứa thẻ.",
                f"«{text}» looks like a metal identity tag found with remains; "
                "the codebook holds no tags.",
            )
        case PlaceElement():
            return (
                f"«{text}» là tên nơi chốn hoặc chiến trường, không phải đơn vị.",
                f"«{text}» names a place or a battlefield, not a unit.",
            )
        case UnitElement():
            return (
                f"«{text}» có cấp đơn vị nhưng thiếu số hoặc tên (ví dụ: Đoàn vận tải 48).",
                f"«{text}» gives an echelon but no number or name (for example Đoàn vận tải 48).",
            )
        case TextElement():
            return _hint_for_text(text, element.span, result)
        case _:
            return ("", "")


def _hint_for_text(text: str, span: Span, result: ParseResult) -> tuple[str, str]:
    for warning in result.warnings:
        if warning.code == "date_in_designation" and warning.span and _inside(warning.span, span):
            return warning.message_vi, warning.message_en
    folded = fold(text)
    words = folded.split()
    if folded.startswith(_MAILBOX_HEADS):
        return (
            "Sau «Hòm thư» cần số hòm thư (ví dụ: Hòm thư 91364 CS).",
            "After «Hòm thư» its number was expected (for example Hòm thư 91364 CS).",
        )
    heads = {lexicon.lookup_key(" ".join(words[:n])) for n in (1, 2)}
    if heads & lexicon.ECHELON_WORDS.keys():
        return (
            "Sau cấp đơn vị cần số hoặc tên của đơn vị (ví dụ: Đại đội 5, Đoàn Vinh Quang).",
            "After the echelon word a number or a name was expected "
            "(for example Đại đội 5, Đoàn Vinh Quang).",
        )
    if folded[:1].isdigit():
        return (
            "Một con số đứng riêng không cho biết cấp đơn vị: cần chữ ký hiệu hoặc cấp "
            "đơn vị đứng trước (ví dụ: C11, Tiểu đoàn 9).",
            "A number alone does not say its echelon: write a letter or an echelon word "
            "before it (for example C11, Tiểu đoàn 9).",
        )
    heads |= {lexicon.lookup_key(" ".join(words[:n])) for n in (3, 4)}
    if heads & lexicon.BRANCHES.keys():
        return (
            "Binh chủng đứng sau một đơn vị (ví dụ: Đại đội 5 chủ lực).",
            "An arm of service follows a unit (for example Đại đội 5 chủ lực).",
        )
    return ("", "")


def _inside(inner: Span, outer: Span) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]
