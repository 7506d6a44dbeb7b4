"""Typed, frozen nodes of a parsed designation: the parse contract.

A parse result is JSON with `input`, `elements`, `residue` and `warnings`.
Every element has `kind`, `text` (the original substring) and `span`
([start, end) offsets into the original input, in Python str indices).
Elements cover the meaningful parts of the input in input order; parts the
parser did not understand become `text` elements and are also listed in
`residue`, so nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Span = tuple[int, int]


class Echelon(StrEnum):
    """Echelon of a unit (a `unit` element's `echelon`)."""

    SQUAD = "squad"  # A, tiểu đội
    PLATOON = "platoon"  # B, trung đội
    COMPANY = "company"  # C, đại đội
    BATTALION = "battalion"  # D, tiểu đoàn
    REGIMENT = "regiment"  # E, trung đoàn
    DIVISION = "division"  # F, sư đoàn, sư, đại đoàn
    BRIGADE = "brigade"  # lữ đoàn
    CORPS = "corps"  # quân đoàn, QĐ, binh đoàn
    MILITARY_REGION = "military_region"  # quân khu, QK
    FRONT = "front"  # mặt trận
    GROUP = "group"  # đoàn
    STATION = "station"  # binh trạm
    WORKSITE = "worksite"  # công trường (cover for a division in B2)
    DEPARTMENT = "department"  # cục, phòng


@dataclass(frozen=True, slots=True)
class Branch:
    """An arm of service attached to a unit: a stable English key and the original words."""

    key: str  # e.g. "infantry", "signal", "mortar"
    text: str  # as written, e.g. "thông tin", "BB"

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "text": self.text}


# UnitElement and ParseResult, made for every designation parsed, have a written `__init__`
# (init=False): compiled, it sets the slots directly, where the one dataclasses generates
# stays interpreted Python and builds an object about six times slower.


@dataclass(frozen=True, slots=True, init=False)
class UnitElement:
    """A unit written by echelon: "C11", "Tiểu đoàn 7, 8", "Đoàn Vinh Quang"."""

    text: str
    span: Span
    echelon: Echelon
    number: str | None  # "11", "320"; None for a named unit
    numbers: tuple[str, ...]  # every number when a list names several units
    suffix: str | None  # "A" of 320A, upper case
    branch: Branch | None
    name: str | None  # "Vinh Quang", diacritics as written

    def __init__(
        self,
        text: str,
        span: Span,
        echelon: Echelon,
        number: str | None = None,
        numbers: tuple[str, ...] = (),
        suffix: str | None = None,
        branch: Branch | None = None,
        name: str | None = None,
    ) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "span", span)
        object.__setattr__(self, "echelon", echelon)
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "numbers", numbers)
        object.__setattr__(self, "suffix", suffix)
        object.__setattr__(self, "branch", branch)
        object.__setattr__(self, "name", name)

    @property
    def kind(self) -> str:
        return "unit"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "span": list(self.span),
            "echelon": self.echelon.value,
            "number": self.number,
            "numbers": list(self.numbers),
            "suffix": self.suffix,
            "branch": self.branch.to_json() if self.branch else None,
            "name": self.name,
        }


@dataclass(frozen=True, slots=True)
class TheaterElement:
    """A theatre code: "B3", "T4"."""

    text: str
    span: Span
    code: str  # upper case, "B3"

    @property
    def kind(self) -> str:
        return "theater"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "span": list(self.span), "code": self.code}


@dataclass(frozen=True, slots=True)
class MailboxElement:
    """A field mailbox: "Hòm thư 91364 CS"."""

    text: str
    span: Span
    number: str  # digits as written, dots kept: "91364", "140.52"
    letters: str | None = None  # upper case, "CS"; meaning unknown, stored not interpreted
    theater: str | None = None  # an attached theatre tail: "B11"

    @property
    def kind(self) -> str:
        return "mailbox"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "span": list(self.span),
            "number": self.number,
            "letters": self.letters,
            "theater": self.theater,
        }


@dataclass(frozen=True, slots=True)
class CoverCodeElement:
    """An opaque cover code: "KB", "KBM", "Q761"."""

    text: str
    span: Span
    code: str  # upper case, "Q761"

    @property
    def kind(self) -> str:
        return "cover_code"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "span": list(self.span), "code": self.code}


@dataclass(frozen=True, slots=True)
class TagElement:
    """A metal identity tag found with remains: "SH 1 - 99X". Low confidence."""

    text: str
    span: Span
    code: str

    @property
    def kind(self) -> str:
        return "tag"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "span": list(self.span), "code": self.code}


@dataclass(frozen=True, slots=True)
class PlaceElement:
    """A place or area: "Quảng Ngãi", "Trị Thiên-Huế"."""

    text: str
    span: Span
    name: str

    @property
    def kind(self) -> str:
        return "place"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "span": list(self.span), "name": self.name}


@dataclass(frozen=True, slots=True)
class TextElement:
    """Words the parser did not understand (also listed in the residue)."""

    text: str
    span: Span

    @property
    def kind(self) -> str:
        return "text"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "span": list(self.span)}


Element = (
    UnitElement
    | TheaterElement
    | MailboxElement
    | CoverCodeElement
    | TagElement
    | PlaceElement
    | TextElement
)


@dataclass(frozen=True, slots=True)
class Residue:
    """A part of the input that was not understood."""

    text: str
    span: Span

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "span": list(self.span)}


@dataclass(frozen=True, slots=True)
class Notice:
    """A warning with a stable code and a message in Vietnamese and English."""

    code: str  # e.g. "kbc_lookalike", "not_understood"
    message_vi: str
    message_en: str
    span: Span | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "span": list(self.span) if self.span else None,
        }


@dataclass(frozen=True, slots=True, init=False)
class ParseResult:
    input: str
    elements: tuple[Element, ...]
    residue: tuple[Residue, ...]
    warnings: tuple[Notice, ...]

    def __init__(
        self,
        input: str,
        elements: tuple[Element, ...] = (),
        residue: tuple[Residue, ...] = (),
        warnings: tuple[Notice, ...] = (),
    ) -> None:
        object.__setattr__(self, "input", input)
        object.__setattr__(self, "elements", elements)
        object.__setattr__(self, "residue", residue)
        object.__setattr__(self, "warnings", warnings)

    def to_json(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "elements": [e.to_json() for e in self.elements],
            "residue": [r.to_json() for r in self.residue],
            "warnings": [w.to_json() for w in self.warnings],
        }
