"""Match keys: how a parsed element is looked up in the codebook.

A codebook assignment's `code` is parsed with the same parser and stored with
its key, so a record's "F9" and the codebook's "Sư đoàn 9" meet on
`division:9` without a second set of rules.
"""

from __future__ import annotations

from functools import lru_cache

from app.parsing.ast import (
    CoverCodeElement,
    Element,
    MailboxElement,
    TheaterElement,
    UnitElement,
)
from app.parsing.normalize import fold

KBC_PREFIX = "KBC "
"""The code of a "KBC 4100" cover_code element starts with this (see parser.py)."""


def element_keys(element: Element) -> tuple[str, ...]:
    """Every key the element can be looked up by (one per number of a list); () if none."""
    match element:
        case UnitElement(name=str(name)):
            return (f"{element.echelon.value}:name:{fold(name)}",)
        case UnitElement():
            numbers = element.numbers or ((element.number,) if element.number else ())
            suffix = (element.suffix or "").lower() if len(numbers) == 1 else ""
            return tuple(f"{element.echelon.value}:{n.lower()}{suffix}" for n in numbers)
        case TheaterElement():
            # Folded, so that "Đ" and a "D" typed without its bar meet (theatre Đ, Cambodia).
            return (f"theater:{fold(element.code).upper()}",)
        case CoverCodeElement(code=str(code)) if code.startswith(KBC_PREFIX):
            return ()  # a South Vietnamese army post, never in a PAVN codebook
        case CoverCodeElement():
            return (f"code:{fold(element.code).upper()}",)
        case MailboxElement():
            return (f"mailbox:{element.number}:{(element.letters or '').upper()}",)
        case _:
            return ()


@lru_cache(maxsize=65_536)  # asked of every key of every record; keys repeat by the thousand
def without_suffix(key: str) -> str | None:
    """`division:320a` → `division:320`: the fallback when a suffixed number is unknown."""
    head, _, tail = key.rpartition(":")
    if head and tail[:-1].isdigit() and tail[-1:].isalpha():
        return f"{head}:{tail[:-1]}"
    return None
