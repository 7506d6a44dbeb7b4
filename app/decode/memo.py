"""Decode results reused for every date that falls alike against the codebook.

A resolution depends on the date of death only through `Validity.fit` of the
rows the resolver read: how the date's range [lower, upper) lies against the
bounds of those rows. While resolving, `RecordingReader` notes the bound
points of every row it hands out; the date's *class* against those points
(how many points are <= lower, how many are < upper) then decides every
`fit` the resolver made. The resolver is deterministic, so another date of
the same class makes the same reads in the same order and gets the same
answer: it is computed once.

A `Memo` keeps such values per (key, date class): the key says what else
the value depends on (the text, or only the parse for a batch summary that
shows no text). It is bounded and lives with its edition's reader.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Collection, Hashable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Generic, TypeVar

from app.decode.facts import (
    AreaFact,
    AssignmentFact,
    LinkFact,
    Subtree,
    UnitFact,
    Validity,
)
from app.decode.repository import EditionReader
from app.parsing.dates import DateRange

V = TypeVar("V")
DateClass = tuple[int, int] | None
MEMO_ENTRIES = 200_000  # values kept per edition and purpose; the oldest half goes when full
KEY_IDS_KEPT = 500_000  # keys with an id (`Memo.key_id`) before starting afresh


class RecordingReader:
    """An edition's reader that notes the bound points of every period it hands out."""

    def __init__(self, inner: EditionReader) -> None:
        self.inner = inner
        self._points: set[dt.date] = set()
        self._seen: set[int] = set()

    def _note(self, validity: Validity) -> None:
        # Periods are shared objects in the reader, so most are seen already.
        if id(validity) not in self._seen:
            self._seen.add(id(validity))
            self._points.update(validity.points())

    def points(self) -> tuple[dt.date, ...]:
        return tuple(sorted(self._points))

    def key_counts(self, keys: tuple[str, ...]) -> dict[str, int]:
        return self.inner.key_counts(keys)

    def assignments(self, keys: tuple[str, ...]) -> list[AssignmentFact]:
        facts = self.inner.assignments(keys)
        for fact in facts:
            self._note(fact.validity)
        return facts

    def assignments_of_units(self, key: str, unit_ids: Collection[str]) -> list[AssignmentFact]:
        facts = self.inner.assignments_of_units(key, unit_ids)
        for fact in facts:
            self._note(fact.validity)
        return facts

    def first_assignments(self, key: str, limit: int) -> list[AssignmentFact]:
        facts = self.inner.first_assignments(key, limit)
        for fact in facts:
            self._note(fact.validity)
        return facts

    def subtree(self, root: str, limit: int) -> Subtree | None:
        subtree = self.inner.subtree(root, limit)
        if subtree is not None and id(subtree) not in self._seen:
            # Every bound point of its links at once (the same points, one set update).
            self._seen.add(id(subtree))
            self._points.update(subtree.points)
        return subtree

    def prefetch_ancestors(self, unit_ids: Sequence[str]) -> None:
        self.inner.prefetch_ancestors(unit_ids)

    def unit(self, unit_id: str) -> UnitFact | None:
        unit = self.inner.unit(unit_id)
        if unit is not None:
            self._note(unit.existed)
        return unit

    def parents(self, unit_id: str) -> Sequence[LinkFact]:
        links = self.inner.parents(unit_id)
        for link in links:
            self._note(link.validity)
        return links

    def reaches(self, unit_id: str, units: AbstractSet[str]) -> bool:
        # Every period at once: what is above a unit at some time depends on no date.
        return self.inner.reaches(unit_id, units)

    def areas(self, unit_id: str) -> Sequence[AreaFact]:
        areas = self.inner.areas(unit_id)
        for area in areas:
            self._note(area.validity)
        return areas


def date_class(points: tuple[dt.date, ...], when: DateRange | None) -> DateClass:
    """Where `when` lies among `points`: equal classes give equal `fit` for every such period."""
    if when is None:
        return None
    return bisect.bisect_right(points, when.lower), bisect.bisect_left(points, when.upper)


class Memo(Generic[V]):
    """Values by (key, date class), each class taken against the points its value was made with."""

    def __init__(self, max_entries: int = MEMO_ENTRIES, max_ids: int = KEY_IDS_KEPT) -> None:
        self._max = max_entries
        self._max_ids = max_ids
        self._size = 0
        self._by_key: dict[Hashable, list[tuple[tuple[dt.date, ...], dict[DateClass, V]]]] = {}
        self._lock = threading.Lock()
        self._ids: dict[Hashable, int] = {}
        self._last_id = 0

    def key_id(self, key: Hashable) -> int:
        """A number that stands for `key` in `get` and `put` (and in any memo of the same
        reader): a batch asks once per row, and an int hashes at once where a signature of
        nested tuples is hashed again each time. Never given to another key."""
        found = self._ids.get(key)
        if found is None:
            with self._lock:
                found = self._ids.get(key)
                if found is None:
                    if len(self._ids) >= self._max_ids:
                        self._ids.clear()  # a key asked again gets a new number
                    self._last_id += 1
                    found = self._ids[key] = self._last_id
        return found

    def get(self, key: Hashable, when: DateRange | None) -> V | None:
        for points, values in self._by_key.get(key, ()):
            found = values.get(date_class(points, when))
            if found is not None:
                return found
        return None

    def put(
        self, key: Hashable, when: DateRange | None, points: tuple[dt.date, ...], value: V
    ) -> V:
        with self._lock:
            if self._size >= self._max:
                # Drop the oldest half of the keys: cheap, and hot keys come straight back.
                keys = list(self._by_key)
                for old in keys[: len(keys) // 2]:
                    del self._by_key[old]
                self._size = sum(len(v) for entries in self._by_key.values() for _, v in entries)
            entries = self._by_key.setdefault(key, [])
            values = next((found for known, found in entries if known == points), None)
            if values is None:
                values = {}
                entries.append((points, values))
            values[date_class(points, when)] = value
            self._size += 1
        return value

    def __len__(self) -> int:
        return self._size


def memo_of(reader: Any, purpose: str) -> Memo[Any]:
    """The memo for `purpose` kept with `reader` (one per edition reader)."""
    memos: dict[str, Memo[Any]] | None = reader.memo
    if memos is None:
        memos = reader.memo = {}
    memo = memos.get(purpose)
    if memo is None:
        memo = memos.setdefault(purpose, Memo())
    return memo
