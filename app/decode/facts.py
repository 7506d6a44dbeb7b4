"""Plain, immutable views of codebook rows, as the resolver reads them.

They are not ORM objects, so a reader of a published edition can cache them
for the life of the process (a published edition never changes).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.parsing.dates import DateRange


class Fit(StrEnum):
    """How a date of death stands to a validity period."""

    INSIDE = "inside"  # wholly inside the period
    BOUNDARY = "boundary"  # overlaps an uncertain bound, or straddles a bound
    OUTSIDE = "outside"  # wholly outside
    UNDATED = "undated"  # no date was given
    UNKNOWN_PERIOD = "unknown_period"  # the codebook does not know the period


def _bound_end(value: dt.date, precision: str | None) -> dt.date:
    """The end of a bound's uncertainty: "1965" may mean any day before 1966-01-01.

    A day-precision bound is exact, so its window is empty.
    """
    if precision == "year":
        return dt.date(value.year + 1, 1, 1)
    if precision == "month":
        return dt.date(value.year + (value.month == 12), value.month % 12 + 1, 1)
    return value


@dataclass(frozen=True, slots=True)
class Validity:
    """A half-open period [start, end); a None bound is open (unknown)."""

    start: dt.date | None = None
    start_precision: str | None = None
    end: dt.date | None = None
    end_precision: str | None = None
    # (sure_start, may_start, sure_end, may_end), worked out once: `fit` runs millions of times
    # on a national list.
    _edges: tuple[dt.date | None, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        sure_start = _bound_end(self.start, self.start_precision) if self.start else None
        may_end = _bound_end(self.end, self.end_precision) if self.end else None
        object.__setattr__(self, "_edges", (sure_start, self.start, self.end, may_end))

    @property
    def known(self) -> bool:
        return self.start is not None or self.end is not None

    def points(self) -> tuple[dt.date, ...]:
        """The dates at which `fit` can change its answer for some date of death."""
        return tuple(d for d in self._edges if d is not None)

    def fit(self, when: DateRange | None) -> Fit:
        if when is None:
            return Fit.UNDATED
        if self.start is None and self.end is None:
            return Fit.UNKNOWN_PERIOD
        # The period surely holds on [sure_start, sure_end) and may hold on [may_start, may_end).
        sure_start, may_start, sure_end, may_end = self._edges
        if (sure_start is None or when.lower >= sure_start) and (
            sure_end is None or when.upper <= sure_end
        ):
            return Fit.INSIDE
        if (may_start is None or when.upper > may_start) and (
            may_end is None or when.lower < may_end
        ):
            return Fit.BOUNDARY
        return Fit.OUTSIDE

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "from_precision": self.start_precision,
            "to": self.end.isoformat() if self.end else None,
            "to_precision": self.end_precision,
        }


@dataclass(frozen=True, slots=True)
class SourceRef:
    id: str
    kind: str
    citation: str
    url: str | None
    reliability: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "citation": self.citation,
            "url": self.url,
            "reliability": self.reliability,
        }


# The facts a national list reads by the hundred thousand are built by a written
# `__init__` (init=False): compiled, it sets the slots directly, where the one dataclasses
# generates stays interpreted Python and builds an object about six times slower.


@dataclass(frozen=True, slots=True, init=False)
class UnitFact:
    id: str
    echelon: str
    name: str
    existed: Validity
    source: SourceRef
    verification: str
    note: str

    def __init__(
        self,
        id: str,
        echelon: str,
        name: str,
        existed: Validity,
        source: SourceRef,
        verification: str,
        note: str,
    ) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "echelon", echelon)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "existed", existed)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "verification", verification)
        object.__setattr__(self, "note", note)


@dataclass(frozen=True, slots=True, init=False)
class AssignmentFact:
    unit_id: str
    kind: str
    code: str
    match_key: str
    validity: Validity
    source: SourceRef
    verification: str
    note: str

    def __init__(
        self,
        unit_id: str,
        kind: str,
        code: str,
        match_key: str,
        validity: Validity,
        source: SourceRef,
        verification: str,
        note: str,
    ) -> None:
        object.__setattr__(self, "unit_id", unit_id)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "match_key", match_key)
        object.__setattr__(self, "validity", validity)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "verification", verification)
        object.__setattr__(self, "note", note)


@dataclass(frozen=True, slots=True, init=False)
class LinkFact:
    unit_id: str
    parent_id: str
    validity: Validity
    source: SourceRef
    verification: str
    note: str

    def __init__(
        self,
        unit_id: str,
        parent_id: str,
        validity: Validity,
        source: SourceRef,
        verification: str,
        note: str,
    ) -> None:
        object.__setattr__(self, "unit_id", unit_id)
        object.__setattr__(self, "parent_id", parent_id)
        object.__setattr__(self, "validity", validity)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "verification", verification)
        object.__setattr__(self, "note", note)


@dataclass(frozen=True, slots=True)
class AreaFact:
    unit_id: str
    area: str
    validity: Validity
    source: SourceRef
    verification: str
    note: str


class Subtree:
    """Every link below a unit over all periods, and who stood under it at a date.

    Who is under the root at a date depends only on `fit` of these links, so it is the
    same for every date of one class against their bound points (as in app/decode/memo.py):
    worked out once per class and kept, equal answers shared.
    """

    __slots__ = ("_by_class", "_sets", "links", "points", "root")

    def __init__(self, root: str, links: list[LinkFact]) -> None:
        self.root = root
        self.links = links
        validities = {id(x.validity): x.validity for x in links}.values()
        # Every bound point of the links' periods, in order: where `under` may change.
        self.points = tuple(sorted({p for v in validities for p in v.points()}))
        self._by_class: dict[tuple[int, int] | None, frozenset[str]] = {}
        self._sets: dict[frozenset[str], frozenset[str]] = {}

    def under(self, when: DateRange | None) -> frozenset[str]:
        """The units below the root at `when`, through links not wholly outside it."""
        key = (
            None
            if when is None
            else (
                bisect.bisect_right(self.points, when.lower),
                bisect.bisect_left(self.points, when.upper),
            )
        )
        found = self._by_class.get(key)
        if found is None:
            under = {self.root}
            for link in self.links:
                if link.parent_id in under and link.validity.fit(when) is not Fit.OUTSIDE:
                    under.add(link.unit_id)
            under.discard(self.root)
            fresh = frozenset(under)
            found = self._by_class[key] = self._sets.setdefault(fresh, fresh)
        return found
