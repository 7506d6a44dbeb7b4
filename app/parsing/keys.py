"""Match keys: how a parsed element is looked up in the codebook.

A codebook assignment's `code` is parsed with the same parser and stored with
its key, so a record's "F9" and the codebook's "Sư đoàn 9" meet on
`division:9` without a second set of rules.
"""

from __future__ import annotations

from functools import lru_cache

from app.parsing.ast import (
    CoverCodeElement,
    Echelon,
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
    # isinstance in order of frequency (a match statement's class patterns cost a national
    # list a second per process); unit keys are made once per (echelon, numbers, suffix).
    if isinstance(element, UnitElement):
        if isinstance(element.name, str):
            return (f"{element.echelon.value}:name:{fold(element.name)}",)
        numbers = element.numbers or ((element.number,) if element.number else ())
        return _unit_keys(element.echelon, numbers, element.suffix)
    if isinstance(element, MailboxElement):
        return (f"mailbox:{element.number}:{(element.letters or '').upper()}",)
    if isinstance(element, TheaterElement):
        # Folded, so that "Đ" and a "D" typed without its bar meet (theatre Đ, Cambodia).
        return (f"theater:{fold(element.code).upper()}",)
    if isinstance(element, CoverCodeElement):
        if element.code.startswith(KBC_PREFIX):
            return ()  # a South Vietnamese army post, never in a PAVN codebook
        return (f"code:{fold(element.code).upper()}",)
    return ()


@lru_cache(maxsize=65_536)
def _unit_keys(echelon: Echelon, numbers: tuple[str, ...], suffix: str | None) -> tuple[str, ...]:
    tail = (suffix or "").lower() if len(numbers) == 1 else ""
    return tuple(f"{echelon.value}:{n.lower()}{tail}" for n in numbers)


@lru_cache(maxsize=65_536)  # asked of every key of every record; keys repeat by the thousand
def without_suffix(key: str) -> str | None:
    """`division:320a` → `division:320`: the fallback when a suffixed number is unknown."""
    head, _, tail = key.rpartition(":")
    if head and tail[:-1].isdigit() and tail[-1:].isalpha():
        return f"{head}:{tail[:-1]}"
    return None
