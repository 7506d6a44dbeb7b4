"""Resolve a parsed designation, for a date, against one codebook edition.

Records write units small to large ("C9, D6, E270"). Each element with a
match key is looked up (one query for all keys). Every unit an element may
mean becomes the anchor of a hypothesis: from it the chain of parents valid
at the date is climbed, preferring parents that the record itself names.
A hypothesis explains the anchor and every larger element whose unit lies on
that chain; larger elements that name some other unit contradict it.
Hypotheses are scored, near-duplicates dropped, and the rest returned ranked.
A hypothesis that a better one must make redundant, or that ranks below
MAX_CANDIDATES others, is not even drafted (`_kept_drafts`; the kept list is
the same, which `_settle` checks).

Scores are in [0, 1]: the share of the elements known to the codebook that
the chain explains (lowered by 0.9 for each element the codebook does not know
at all, to at most half), times the mean weight of how well the date fits each
period used, times the mean weight of their verification status, halved for
each element that contradicts the chain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache, partial
from typing import Any

from app.decode.facts import (
    AreaFact,
    AssignmentFact,
    Fit,
    LinkFact,
    Subtree,
    UnitFact,
    Validity,
)
from app.decode.memo import RecordingReader
from app.decode.repository import EditionReader
from app.parsing.ast import Element, Notice, ParseResult
from app.parsing.dates import DateRange
from app.parsing.explain import nothing_usable
from app.parsing.keys import element_keys, without_suffix

# What the resolver reads: an edition's reader, or one that records what it hands out.
# Named classes and not a Protocol: compiled, a call through a Protocol goes through
# Python's method lookup and argument parsing, while a call on these is a C call.
Reader = RecordingReader | EditionReader

FIT_WEIGHT = {
    Fit.INSIDE: 1.0,
    Fit.UNDATED: 0.9,
    Fit.BOUNDARY: 0.8,
    Fit.UNKNOWN_PERIOD: 0.75,
    Fit.OUTSIDE: 0.35,
}
VERIFICATION_WEIGHT = {"verified": 1.0, "unverified": 0.85, "disputed": 0.5}
SUFFIX_FALLBACK_WEIGHT = 0.8
UNKNOWN_ELEMENT_WEIGHT = 0.9  # per element the codebook has no entry for at all
AMBIGUITY_RATIO = 0.9  # a rival within this share of the best score makes the answer ambiguous
MAX_CANDIDATES = 10
MAX_DEPTH = 16
# A key the codebook gives to more units than this ("Đại đội 3" nationally) is read only
# for the units under the record's other units, found by walking down at most
# SUPPORT_BUDGET units from them; each reading anchors a hypothesis, so this bounds the work.
WIDE = 64
SUPPORT_BUDGET = 4096

ECHELON_VI = {
    "squad": "Tiểu đội",
    "platoon": "Trung đội",
    "company": "Đại đội",
    "battalion": "Tiểu đoàn",
    "regiment": "Trung đoàn",
    "division": "Sư đoàn",
    "brigade": "Lữ đoàn",
    "corps": "Quân đoàn",
    "military_region": "Quân khu",
    "front": "Mặt trận",
    "group": "Đoàn",
    "station": "Binh trạm",
    "worksite": "Công trường",
    "department": "Cục/Phòng",
    "theater": "Chiến trường",
}
KIND_VI = {
    "designation": "phiên hiệu",
    "cover_name": "mật danh",
    "cover_code": "mã bí danh",
    "honorific": "tên truyền thống",
    "nickname": "biệt danh",
    "mailbox": "hòm thư",
    "theater_code": "mã chiến trường",
}
KIND_EN = {
    "designation": "designation",
    "cover_name": "cover name",
    "cover_code": "cover code",
    "honorific": "honorific name",
    "nickname": "nickname",
    "mailbox": "field mailbox",
    "theater_code": "theatre code",
}


class Status(StrEnum):
    RESOLVED = "resolved"
    PARTIAL = "partial"
    AMBIGUOUS = "ambiguous"
    UNRESOLVED = "unresolved"
    INVALID = "invalid"


# The objects made for every resolution have a written `__init__` (init=False): compiled,
# it sets the slots directly, where the one dataclasses generates stays interpreted Python
# and builds an object about six times slower.


@dataclass(frozen=True, slots=True, init=False)
class Match:
    """An element of the record that a codebook assignment explains."""

    element: int  # index into the parse's elements
    text: str
    assignment: AssignmentFact
    fit: Fit
    by_fallback: bool  # found only after dropping the number's letter suffix

    def __init__(
        self,
        element: int,
        text: str,
        assignment: AssignmentFact,
        fit: Fit,
        by_fallback: bool = False,
    ) -> None:
        object.__setattr__(self, "element", element)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "assignment", assignment)
        object.__setattr__(self, "fit", fit)
        object.__setattr__(self, "by_fallback", by_fallback)

    def to_json(self) -> dict[str, Any]:
        a = self.assignment
        return {
            "element": self.element,
            "text": self.text,
            "code": a.code,
            "kind": a.kind,
            "valid": a.validity.to_json(),
            "fit": self.fit.value,
            "source": a.source.to_json(),
            "verification": a.verification,
            "note": a.note,
            "suffix_ignored": self.by_fallback,
        }


@dataclass(frozen=True, slots=True, init=False)
class ChainLink:
    unit: UnitFact
    fit: Fit  # of the unit's own existence at the date
    matched: tuple[Match, ...]
    parent_link: LinkFact | None  # to the next (larger) link of the chain
    parent_fit: Fit | None
    # Where the unit was at the date, read only when asked (a batch summary never asks).
    area_source: Callable[[], tuple[AreaFact, ...]] | None = field(compare=False, repr=False)
    _areas: list[tuple[AreaFact, ...]] = field(compare=False, repr=False)

    def __init__(
        self,
        unit: UnitFact,
        fit: Fit,
        matched: tuple[Match, ...] = (),
        parent_link: LinkFact | None = None,
        parent_fit: Fit | None = None,
        area_source: Callable[[], tuple[AreaFact, ...]] | None = None,
    ) -> None:
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "fit", fit)
        object.__setattr__(self, "matched", matched)
        object.__setattr__(self, "parent_link", parent_link)
        object.__setattr__(self, "parent_fit", parent_fit)
        object.__setattr__(self, "area_source", area_source)
        object.__setattr__(self, "_areas", [])

    @property
    def areas(self) -> tuple[AreaFact, ...]:
        if not self._areas:
            self._areas.append(self.area_source() if self.area_source else ())
        return self._areas[0]

    def to_json(self) -> dict[str, Any]:
        u = self.unit
        link = self.parent_link
        return {
            "id": u.id,
            "name": u.name,
            "echelon": u.echelon,
            "existed": u.existed.to_json(),
            "existed_fit": self.fit.value,
            "source": u.source.to_json(),
            "verification": u.verification,
            "note": u.note,
            "matched": [m.to_json() for m in self.matched],
            "parent_link": None
            if link is None
            else {
                "parent": link.parent_id,
                "valid": link.validity.to_json(),
                "fit": self.parent_fit.value if self.parent_fit else None,
                "source": link.source.to_json(),
                "verification": link.verification,
                "note": link.note,
            },
            "areas": [
                {
                    "area": a.area,
                    "valid": a.validity.to_json(),
                    "source": a.source.to_json(),
                    "verification": a.verification,
                }
                for a in self.areas
            ],
        }


@dataclass(frozen=True, slots=True, init=False)
class Unresolved:
    element: int
    text: str
    reason: str  # "not_in_codebook", "contradicts_chain", "anachronistic", "smaller_than_anchor"

    def __init__(self, element: int, text: str, reason: str) -> None:
        object.__setattr__(self, "element", element)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "reason", reason)

    def to_json(self) -> dict[str, Any]:
        return {"element": self.element, "text": self.text, "reason": self.reason}


Pending = tuple[str, Callable[[], Notice]]  # a notice's code, and how to word it


def _same(notice: Notice) -> Notice:
    return notice


@dataclass(frozen=True, slots=True, init=False)
class Candidate:
    score: float
    chain: tuple[ChainLink, ...]
    unresolved: tuple[Unresolved, ...]
    pending_reasons: tuple[Pending, ...]
    pending_warnings: tuple[Pending, ...]
    explained: frozenset[int]
    min_fit: Fit
    _worded: dict[str, tuple[Notice, ...]] = field(compare=False, repr=False)

    def __init__(
        self,
        score: float,
        chain: tuple[ChainLink, ...],
        unresolved: tuple[Unresolved, ...],
        pending_reasons: tuple[Pending, ...],
        pending_warnings: tuple[Pending, ...],
        explained: frozenset[int] = frozenset(),
        min_fit: Fit = Fit.INSIDE,
    ) -> None:
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "chain", chain)
        object.__setattr__(self, "unresolved", unresolved)
        object.__setattr__(self, "pending_reasons", pending_reasons)
        object.__setattr__(self, "pending_warnings", pending_warnings)
        object.__setattr__(self, "explained", explained)
        object.__setattr__(self, "min_fit", min_fit)
        object.__setattr__(self, "_worded", {})

    @property
    def reasons(self) -> tuple[Notice, ...]:
        if "reasons" not in self._worded:
            self._worded["reasons"] = tuple(word() for _, word in self.pending_reasons)
        return self._worded["reasons"]

    @property
    def warnings(self) -> tuple[Notice, ...]:
        if "warnings" not in self._worded:
            worded = (word() for _, word in self.pending_warnings)
            self._worded["warnings"] = tuple(dict.fromkeys(worded))
        return self._worded["warnings"]

    @property
    def warning_codes(self) -> tuple[str, ...]:
        """The codes of `warnings`, in order, without wording them."""
        return tuple(dict.fromkeys(code for code, _ in self.pending_warnings))

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "chain": [link.to_json() for link in self.chain],
            "unresolved": [u.to_json() for u in self.unresolved],
            "reasons": [r.to_json() for r in self.reasons],
            "warnings": [w.to_json() for w in self.warnings],
        }


@dataclass(frozen=True, slots=True, init=False)
class Brief:
    """What a list's decode columns show of a resolution: no wording, no text of the record."""

    status: Status
    chain: tuple[UnitFact, ...]  # the best candidate's units, smallest first; () if none
    score: float  # the best candidate's (0.0 if none)
    others: tuple[tuple[UnitFact, float], ...]  # the other candidates' anchors and scores
    warning_codes: tuple[str, ...]

    def __init__(
        self,
        status: Status,
        chain: tuple[UnitFact, ...],
        score: float,
        others: tuple[tuple[UnitFact, float], ...],
        warning_codes: tuple[str, ...],
    ) -> None:
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "chain", chain)
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "others", others)
        object.__setattr__(self, "warning_codes", warning_codes)


@dataclass(frozen=True, slots=True)
class Resolution:
    status: Status
    candidates: tuple[Candidate, ...]
    notices: tuple[Notice, ...] = ()  # the warnings when there is no candidate

    def brief(self) -> Brief:
        if not self.candidates:
            return Brief(self.status, (), 0.0, (), self.warning_codes)
        best, *others = self.candidates
        return Brief(
            self.status,
            tuple(link.unit for link in best.chain),
            best.score,
            tuple((c.chain[0].unit, c.score) for c in others),
            self.warning_codes,
        )

    @property
    def warnings(self) -> tuple[Notice, ...]:
        """The best candidate's warnings (or why there is none)."""
        return self.candidates[0].warnings if self.candidates else self.notices

    @property
    def warning_codes(self) -> tuple[str, ...]:
        if self.candidates:
            return self.candidates[0].warning_codes
        return tuple(dict.fromkeys(n.code for n in self.notices))


def format_vi(value: dt.date, precision: str | None) -> str:
    if precision == "year":
        return str(value.year)
    if precision == "month":
        return f"{value.month}/{value.year}"
    return f"{value.day}-{value.month}-{value.year}"


def format_en(value: dt.date, precision: str | None) -> str:
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


# A codebook repeats a few thousand periods and every reason words one (Validity compares
# by value, so equal periods share their wording).
PERIODS_WORDED = 16_384


@lru_cache(maxsize=PERIODS_WORDED)
def period_vi(v: Validity) -> str:
    if not v.known:
        return "(không rõ thời gian)"
    start = f"từ {format_vi(v.start, v.start_precision)}" if v.start else ""
    end = f"đến trước {format_vi(v.end, v.end_precision)}" if v.end else ""
    return " ".join(p for p in (start, end) if p)


@lru_cache(maxsize=PERIODS_WORDED)
def period_en(v: Validity) -> str:
    if not v.known:
        return "(period unknown)"
    start = f"from {format_en(v.start, v.start_precision)}" if v.start else ""
    end = f"until {format_en(v.end, v.end_precision)}" if v.end else ""
    return " ".join(p for p in (start, end) if p)


def when_vi(when: DateRange) -> str:
    return when.text or format_vi(when.lower, when.precision.value)


def when_en(when: DateRange) -> str:
    return when.text or format_en(when.lower, when.precision.value)


@dataclass(slots=True, init=False)
class _Target:
    """An element of the record that has match keys, and the codebook's readings of it."""

    index: int
    element: Element
    total: int  # assignments the codebook has for it, read or not
    facts: list[tuple[AssignmentFact, bool]]  # the readings considered, with by_fallback
    by_unit: dict[str, list[int]]  # unit -> positions in facts
    narrowed: bool  # wide: only the readings under the record's other units were read
    sampled: bool  # wide and nothing narrows it: only the first readings were read

    def __init__(
        self, index: int, element: Element, total: int, facts: list[tuple[AssignmentFact, bool]]
    ) -> None:
        self.index = index
        self.element = element
        self.total = total
        self.facts = facts
        self.by_unit = {}
        self.narrowed = False
        self.sampled = False

    @property
    def known(self) -> bool:
        return self.total > 0


@dataclass(slots=True, init=False)
class _Draft:
    """A hypothesis before it is worded: its score and what ranking and status read."""

    score: float
    explained: frozenset[int]
    min_fit: Fit
    units: list[UnitFact]  # the chain's units, anchor first
    path: list[tuple[str, LinkFact | None]]
    on_chain: dict[str, list[Match]]
    unresolved: list[Unresolved]
    reasons: list[Pending]
    warnings: list[Pending]
    chain_ids: frozenset[str]
    rank_key: tuple[float, int, str]  # its place in `_rank`'s order

    def __init__(
        self,
        score: float,
        explained: frozenset[int],
        min_fit: Fit,
        units: list[UnitFact],
        path: list[tuple[str, LinkFact | None]],
        on_chain: dict[str, list[Match]],
        unresolved: list[Unresolved],
        reasons: list[Pending],
        warnings: list[Pending],
    ) -> None:
        self.score = score
        self.explained = explained
        self.min_fit = min_fit
        self.units = units
        self.path = path
        self.on_chain = on_chain
        self.unresolved = unresolved
        self.reasons = reasons
        self.warnings = warnings
        self.chain_ids = frozenset(u.id for u in units)
        self.rank_key = (-score, -len(explained), units[0].id)


@dataclass(slots=True, init=False)
class _Resolver:
    parse: ParseResult
    when: DateRange | None
    reader: Reader
    targets: list[int]
    info: dict[int, _Target]
    _matches: dict[tuple[int, int], Match]
    _preferred: dict[int, set[str]]
    _climbs: dict[int, dict[str, tuple[int, list[tuple[str, LinkFact | None]]]]]
    _anachronism_of: dict[int, Match | None]
    _notices: list[Notice]
    prune: bool  # skip drafts that cannot be kept (False: draft every anchor, for tests)
    keys: Sequence[tuple[str, ...]] | None  # each element's keys, if already made
    drafted: int  # drafts made
    _known: tuple[int, float] | None  # known elements, and the unknown ones' weight
    # An element was narrowed by the units under a larger one at other dates: a climb that
    # finds no parent valid at the date goes on through links of other periods.
    _climb_other_dates: bool

    def __init__(
        self,
        parse: ParseResult,
        when: DateRange | None,
        reader: Reader,
        *,
        prune: bool = True,
        keys: Sequence[tuple[str, ...]] | None = None,
    ) -> None:
        self.parse = parse
        self.when = when
        self.reader = reader
        self.targets = []
        self.info = {}
        self._matches = {}
        self._preferred = {}
        self._climbs = {}
        self._anachronism_of = {}
        self._notices = []
        self.prune = prune
        self.keys = keys
        self.drafted = 0
        self._known = None
        self._climb_other_dates = False

    def run(self) -> Resolution:
        if not self._prepare():
            return Resolution(Status.INVALID, (), self._nothing_usable())
        return self._ranked()

    def brief(self) -> Brief:
        """`run().brief()`; for the record's usual shape, without building the answer."""
        if not self._prepare():
            return Resolution(Status.INVALID, (), self._nothing_usable()).brief()
        found = self._single_chain_brief() if self.prune else None
        return found if found is not None else self._ranked_brief()

    def _prepare(self) -> bool:
        """Read every element's readings (and their ancestors); False: nothing to look up."""
        elements = self.parse.elements
        if self.keys is not None:
            keys_of = dict(enumerate(self.keys))
        else:
            keys_of = {i: element_keys(e) for i, e in enumerate(elements)}
        self.targets = [i for i, keys in keys_of.items() if keys]
        if not self.targets:
            return False
        self._read(keys_of)
        self.reader.prefetch_ancestors(
            list(
                dict.fromkeys(fact.unit_id for i in self.targets for fact, _ in self.info[i].facts)
            )
        )
        return True

    def _ranked(self) -> Resolution:
        kept = self._kept()
        if not kept:
            return self._not_found()
        candidates = tuple(self._candidate(d) for d in kept)
        return Resolution(self._status(kept), candidates)

    def _ranked_brief(self) -> Brief:
        """`_ranked().brief()`, building only the best candidate (for its warnings)."""
        kept = self._kept()
        if not kept:
            return self._not_found().brief()
        best = self._candidate(kept[0])
        return Brief(
            self._status(kept),
            tuple(kept[0].units),
            best.score,
            tuple((d.units[0], d.score) for d in kept[1:]),
            best.warning_codes,
        )

    def _kept(self) -> list[_Draft]:
        """The hypotheses kept, ranked."""
        # Most hypotheses only repeat a better one's chain: word the kept ones alone.
        kept = self._single_chain() if self.prune else None
        if kept is None:
            anchors = [(i, pos) for i in self.targets for pos in range(len(self.info[i].facts))]
            kept = self._kept_drafts(anchors)
        return kept

    def _not_found(self) -> Resolution:
        elements = self.parse.elements
        unknown = ", ".join(repr(elements[i].text) for i in self.targets)
        notice = Notice(
            "not_in_codebook",
            f"Không tìm thấy {unknown} trong bộ mã của ấn bản này.",
            f"{unknown} not found in this codebook edition.",
        )
        return Resolution(Status.UNRESOLVED, (), (notice,))

    def _read(self, keys_of: dict[int, tuple[str, ...]]) -> None:
        """Read the codebook's readings of every element.

        A key that the codebook gives to more than WIDE units ("Đại đội 3" at national
        scale) is read only for the units under the other, narrower units the record
        names, found by walking down from them at the date; a record names its units
        small to large, so the larger ones narrow the smaller ones. When nothing
        narrows it, only the first WIDE readings are considered and the answer is at
        best ambiguous.
        """
        wanted: list[str] = []
        for i in self.targets:
            for key in keys_of[i]:
                wanted.append(key)
                fallback = without_suffix(key)
                if fallback:
                    wanted.append(fallback)
        counts = self.reader.key_counts(tuple(dict.fromkeys(wanted)))
        chosen: dict[int, list[tuple[str, bool]]] = {}
        for i in self.targets:
            picks: list[tuple[str, bool]] = []
            for key in keys_of[i]:
                fallback = without_suffix(key)
                if counts.get(key):
                    picks.append((key, False))
                elif fallback and counts.get(fallback):
                    picks.append((fallback, True))
            chosen[i] = picks
        totals = {i: sum(counts[k] for k, _ in chosen[i]) for i in self.targets}
        narrow_keys = [k for i in self.targets if totals[i] <= WIDE for k, _ in chosen[i]]
        found: dict[str, list[AssignmentFact]] = {}
        for fact in self.reader.assignments(tuple(dict.fromkeys(narrow_keys))):
            found.setdefault(fact.match_key, []).append(fact)

        for i in self.targets:
            target = _Target(i, self.parse.elements[i], totals[i], [])
            if totals[i] <= WIDE:
                target.facts = [(f, fb) for key, fb in chosen[i] for f in found.get(key, [])]
            self.info[i] = target
        narrow = [t for t in self.info.values() if t.total <= WIDE and t.facts]
        # Largest first: a wide element narrowed to a few units narrows the smaller ones in turn
        # ("C3, D4, E9068": D4 under E9068, then C3 under that D4).
        for target in sorted(self.info.values(), key=lambda t: -t.index):
            if target.total <= WIDE:
                continue
            below, by, at_date = self._below(target, narrow)
            if below is not None:
                target.narrowed = True
                if not at_date and by is not None:
                    self._notices.append(_narrowed_at_other_dates(target, by))
                    self._climb_other_dates = True
                target.facts = [
                    (f, fb)
                    for key, fb in chosen[target.index]
                    for f in self.reader.assignments_of_units(key, below)
                ]
            else:
                target.sampled = True
                target.facts = [
                    (f, fb)
                    for key, fb in chosen[target.index]
                    for f in self.reader.first_assignments(key, WIDE)
                ]
            if target.sampled or not target.facts:
                self._notices.append(_too_many(target))
            elif len(target.facts) <= WIDE:
                narrow = sorted([*narrow, target], key=lambda t: t.index)
        for target in self.info.values():
            for pos, (fact, _) in enumerate(target.facts):
                target.by_unit.setdefault(fact.unit_id, []).append(pos)

    def _below(
        self, wide: _Target, narrow: list[_Target]
    ) -> tuple[AbstractSet[str] | None, _Target | None, bool]:
        """The units under the nearest narrow element that can narrow `wide`: (those units,
        that element, whether they stood under it at the date).

        Records go small to large, so the nearest larger element is tried first, then the
        ones after it, then the ones before `wide`. An element whose units hold more than
        SUPPORT_BUDGET units below them narrows nothing. When none has any unit under it
        at the date (a record dated before its regiment's documented start), the units
        ever under them narrow it instead: "C9, D4, E9090" in 1954 means E9090's C9 out of
        period rather than any of the codebook's C9. (None, None, False): nothing narrows
        `wide`.
        """
        after = [t for t in narrow if t.index > wide.index]
        before = [t for t in reversed(narrow) if t.index < wide.index]
        order = (*after, *before)
        subtrees: list[tuple[_Target, list[Subtree]]] = []
        for target in order:
            found: list[Subtree] = []
            for fact, _ in target.facts:
                subtree = self.reader.subtree(fact.unit_id, SUPPORT_BUDGET)
                if subtree is not None:
                    found.append(subtree)
            subtrees.append((target, found))
            reach = _joined([t.under(self.when) for t in found])
            if reach:
                return reach, target, True
        if self.when is not None:
            for target, found in subtrees:
                reach = _joined([t.under(None) for t in found])
                if reach:
                    return reach, target, False
        return None, None, False

    def _match(self, index: int, pos: int) -> Match:
        match = self._matches.get((index, pos))
        if match is None:
            fact, by_fallback = self.info[index].facts[pos]
            match = Match(
                index,
                self.info[index].element.text,
                fact,
                fact.validity.fit(self.when),
                by_fallback,
            )
            self._matches[(index, pos)] = match
        return match

    def _on_chain(self, index: int, chain_ids: list[str]) -> list[Match]:
        """The readings of element `index` held by units of the chain, in reading order."""
        by_unit = self.info[index].by_unit
        positions = sorted(p for uid in chain_ids for p in by_unit.get(uid, ()))
        return [self._match(index, p) for p in positions]

    def _nothing_usable(self) -> tuple[Notice, ...]:
        # Where, what was expected there, and a hint ("KBC is a South Vietnamese postal code").
        return (nothing_usable(self.parse),)

    def _units_named_elsewhere(self, index: int) -> set[str]:
        preferred = self._preferred.get(index)
        if preferred is None:
            preferred = {uid for i in self.targets if i != index for uid in self.info[i].by_unit}
            self._preferred[index] = preferred
        return preferred

    def _climb(
        self, unit_id: str, preferred: set[str], element: int
    ) -> list[tuple[str, LinkFact | None]]:
        """The chain of parents valid at the date, from `unit_id` up; prefers named parents.

        Anchors of one element prefer the same parents, so they share one memo.
        """
        memo = self._climbs.setdefault(element, {})
        return self._best(unit_id, frozenset({unit_id}), preferred, memo)[1]

    def _best(
        self,
        uid: str,
        seen: frozenset[str],
        preferred: set[str],
        memo: dict[str, tuple[int, list[tuple[str, LinkFact | None]]]],
    ) -> tuple[int, list[tuple[str, LinkFact | None]]]:
        """(named units on it, the chain) of the best climb from `uid` (a method, not a
        closure: a recursive closure is a reference cycle that kept every resolver alive
        until the garbage collector came by)."""
        if uid in memo:
            return memo[uid]
        hits = int(uid in preferred)
        # (named units above, fit weight, verification weight; chain) of each parent valid then
        options: list[tuple[int, float, float, list[tuple[str, LinkFact | None]]]] = []
        if len(seen) < MAX_DEPTH:
            links = self.reader.parents(uid)
            fits = [link.validity.fit(self.when) for link in links]
            # Links of other periods only where none is valid at the date, and only when
            # the record's units were read at other dates (`_climb_other_dates`).
            outside_too = self._climb_other_dates and all(f is Fit.OUTSIDE for f in fits)
            for link, fit in zip(links, fits, strict=True):
                if (fit is Fit.OUTSIDE and not outside_too) or link.parent_id in seen:
                    continue
                above_hits, above = self._best(
                    link.parent_id, seen | {link.parent_id}, preferred, memo
                )
                options.append(
                    (
                        above_hits,
                        FIT_WEIGHT[fit],
                        VERIFICATION_WEIGHT.get(link.verification, 0.5),
                        [(uid, link), *above],
                    )
                )
        result: tuple[int, list[tuple[str, LinkFact | None]]]
        if not options:
            result = (hits, [(uid, None)])
        else:
            # The first of the best, in the order of the links (max keeps the first).
            top = options[0] if len(options) == 1 else max(options, key=lambda o: o[:3])
            result = (hits + top[0], top[3])
        memo[uid] = result
        return result

    def _anachronism(self, index: int) -> Match | None:
        """The first reading of element `index` whose unit did not exist at the date."""
        if index not in self._anachronism_of:
            self._anachronism_of[index] = next(
                (
                    self._match(index, pos)
                    for pos in range(len(self.info[index].facts))
                    if self._existence(self._match(index, pos)) is Fit.OUTSIDE
                ),
                None,
            )
        return self._anachronism_of[index]

    def _kept_drafts(self, anchors: list[tuple[int, int]]) -> list[_Draft]:
        """`_rank` of every anchor's draft, without drafting those that cannot be kept.

        An anchor's climb tells, before its draft, which elements it would explain and so
        a bound on its score, hence the best place it could take in the ranking. When a
        draft already made must rank before it, explains all of those elements and has
        the anchor on its chain, the anchor's own draft would be dropped as redundant;
        when MAX_CANDIDATES drafts must rank before it, it would be cut. Either way it
        is left undrafted ("Đại đội 3" alone samples 64 readings: most stop here). That
        holds if those drafts are kept, so every skip is checked against the final kept
        list; a skip that does not hold is drafted after all and the ranking made again.
        The kept list is the one ranking every draft would give.
        """
        drafts: list[_Draft] = []
        skipped: list[_Skipped] = []
        entries: list[_Skipped] = []
        # Per element, the units the record's other elements may mean.
        named = {
            i: frozenset(u for t in self.targets if t != i for u in self.info[t].by_unit)
            for i in self.targets
        }
        alone: dict[int, int] = {}  # per element, the contradictions of a reading alone
        for i, pos in anchors:
            anchor = self._match(i, pos)
            path: list[tuple[str, LinkFact | None]] | None = None
            if self.prune and not self.reader.reaches(anchor.assignment.unit_id, named[i]):
                # Nothing the record names is above it at any time: it explains only its
                # own element, whatever its chain; climb it only if it is drafted.
                explained = {i}
            else:
                path = self._path(anchor)
                ids = {uid for uid, _ in path}
                explained = {anchor.element} | {
                    t for t in self.targets if t != i and not ids.isdisjoint(self.info[t].by_unit)
                }
            coverage = self._coverage(len(explained))
            if len(explained) == 1:
                # It explains its own element only: its score is known exactly (one fit
                # and one verification weight; larger known elements contradict it unless
                # they are anachronisms), as `_draft` works it out.
                contradictions = alone.get(i)
                if contradictions is None:
                    contradictions = alone[i] = sum(
                        1
                        for t in self.targets
                        if t > i
                        and self.info[t].known
                        and (self.when is None or self._anachronism(t) is None)
                    )
                bound = _score(
                    coverage, [_fit_weight(anchor)], [_verification_weight(anchor)], contradictions
                )
            else:
                # No score can exceed this: every fit and verification weight is at most 1.
                bound = round(coverage, 3)
            entries.append((anchor, path, explained, bound))
        if self.prune:
            # Best possible rank first: the drafts made early are the ones that shut out
            # the rest. (Any order gives the same kept list.)
            entries.sort(key=_best_key)
        for n, entry in enumerate(entries):
            if self.prune and _cannot_be_kept(entry, drafts):
                skipped.append(entry)
                if _outranked(entry, drafts):
                    # So is every later entry: it could rank no better, and drafts only grow.
                    skipped.extend(entries[n + 1 :])
                    break
            else:
                drafts.append(self._draft_entry(entry))
        return _settle(drafts, skipped, self._draft_entry)

    def _one_reading_each(self) -> bool:
        """Every element has exactly one reading, none of them sampled."""
        return all(len(self.info[i].facts) == 1 and not self.info[i].sampled for i in self.targets)

    def _single_chain(self) -> list[_Draft] | None:
        """`_kept_drafts` when every element has one reading, all on the smallest one's chain.

        The record's usual shape ("C3, D4, E9068, F9012" once narrowed): the smallest
        element's anchor explains every element. Any other anchor explains fewer (the
        smallest element's unit is not above it at any time, so its chain cannot hold it),
        so its score is at most the coverage of one element less; when the first draft
        scores at least that, it outranks every other anchor, which is on its chain and
        explains no more: each would be skipped and the kept list is that draft alone.
        None: not that shape, or the draft scores too low; rank every anchor.
        """
        targets = self.targets
        info = self.info
        if not self._one_reading_each():
            return None
        first = targets[0]
        anchor = self._match(first, 0)
        path = self._path(anchor)
        if len(targets) > 1:
            ids = {uid for uid, _ in path}
            if any(info[i].facts[0][0].unit_id not in ids for i in targets[1:]):
                return None
        draft = self._draft(anchor, path)
        if len(targets) > 1:
            if draft.score < round(self._coverage(len(targets) - 1), 3):
                return None
            smallest = frozenset({anchor.assignment.unit_id})
            if any(self.reader.reaches(info[i].facts[0][0].unit_id, smallest) for i in targets[1:]):
                return None  # a cycle in the codebook: leave it to the general ranking
        return [draft]

    def _single_chain_brief(self) -> Brief | None:
        """`_single_chain`'s answer as its `Brief`, worked out without building it.

        The same reads in the same order as `_single_chain`, `_draft`, `_candidate` and
        `_status` make (so a recording reader notes the same periods), the same weights in
        the same order (so the same score to the last bit), and none of the objects: no
        matches, drafts, chain links, candidates or worded notices. None where
        `_single_chain` would not answer; then the answer is ranked in full.
        """
        targets = self.targets
        info = self.info
        if not self._one_reading_each():
            return None
        when = self.when
        first = targets[0]
        anchor = info[first].facts[0][0]
        path = self._climb(anchor.unit_id, self._units_named_elsewhere(first), first)
        depth = {uid: d for d, (uid, _) in enumerate(path)}
        # Each unit's readings on the chain, anchor first: (fit, by_fallback, verification).
        on_chain: dict[str, list[tuple[Fit, bool, str]]] = {}
        codes = [n.code for n in self.parse.warnings]
        codes.extend(n.code for n in self._notices)
        for i in targets:
            fact, by_fallback = info[i].facts[0]
            if fact.unit_id not in depth:
                return None
            reading = (fact.validity.fit(when), by_fallback, fact.verification)
            on_chain.setdefault(fact.unit_id, []).append(reading)
            if by_fallback:
                codes.append("suffix_ignored")
        top_needed = max(depth[uid] for uid in on_chain)
        units: list[UnitFact] = []
        weights_fit: list[float] = []
        weights_ver: list[float] = []
        for d, (uid, link) in enumerate(path):
            unit = self.reader.unit(uid)
            if unit is None:
                return None  # a dangling reference: leave it to `_draft`
            units.append(unit)
            for fit, by_fallback, verification in on_chain.get(uid, ()):
                weight = FIT_WEIGHT[fit]
                weights_fit.append(weight * SUFFIX_FALLBACK_WEIGHT if by_fallback else weight)
                weights_ver.append(VERIFICATION_WEIGHT.get(verification, 0.5))
            if link is not None and d < top_needed:
                weights_fit.append(FIT_WEIGHT[link.validity.fit(when)])
                weights_ver.append(VERIFICATION_WEIGHT.get(link.verification, 0.5))
        score = _score(self._coverage(len(targets)), weights_fit, weights_ver, 0)
        if len(targets) > 1:
            if score < round(self._coverage(len(targets) - 1), 3):
                return None
            smallest = frozenset({anchor.unit_id})
            if any(self.reader.reaches(info[i].facts[0][0].unit_id, smallest) for i in targets[1:]):
                return None
        outside = False
        for unit in units:
            for fit, _, _ in on_chain.get(unit.id, ()):
                if fit is Fit.OUTSIDE:
                    codes.append("code_out_of_period")
                    outside = True
                elif fit is Fit.BOUNDARY:
                    codes.append("code_period_boundary")
        status = Status.PARTIAL if outside else Status.RESOLVED
        return Brief(status, tuple(units), score, (), tuple(dict.fromkeys(codes)))

    def _coverage(self, explained: int) -> float:
        """The share of known elements explained; unknown elements (most companies) weigh
        it down a little, to at most half."""
        if self._known is None:
            known = sum(1 for i in self.targets if self.info[i].known)
            self._known = (known, max(UNKNOWN_ELEMENT_WEIGHT ** (len(self.targets) - known), 0.5))
        known, weight = self._known
        return explained / known * weight

    def _draft_entry(self, entry: _Skipped) -> _Draft:
        anchor, path, _, _ = entry
        return self._draft(anchor, path if path is not None else self._path(anchor))

    def _path(self, anchor: Match) -> list[tuple[str, LinkFact | None]]:
        preferred = self._units_named_elsewhere(anchor.element)
        return self._climb(anchor.assignment.unit_id, preferred, anchor.element)

    def _draft(self, anchor: Match, path: list[tuple[str, LinkFact | None]]) -> _Draft:
        """A hypothesis anchored at `anchor`: what ranking needs, the wording left for later."""
        self.drafted += 1
        elements = self.parse.elements
        chain_ids = [uid for uid, _ in path]
        on_chain: dict[str, list[Match]] = {anchor.assignment.unit_id: [anchor]}
        explained = {anchor.element}
        unresolved: list[Unresolved] = []
        # Notices are worded only when read (a batch summary needs only their codes).
        reasons: list[Pending] = [("matched", partial(self._matched_reason, anchor))]
        warnings: list[Pending] = [(n.code, partial(_same, n)) for n in self.parse.warnings]
        if self._notices:
            warnings.extend((n.code, partial(_same, n)) for n in self._notices)
        if anchor.by_fallback:
            warnings.append(("suffix_ignored", partial(_suffix_notice, anchor)))

        for i in self.targets:
            if i == anchor.element:
                continue
            # Records go small to large, but not always: any element on the chain is explained.
            here = self._on_chain(i, chain_ids)
            is_known = self.info[i].known
            if not here and i < anchor.element:
                reason = "smaller_than_anchor" if is_known else "not_in_codebook"
                unresolved.append(Unresolved(i, elements[i].text, reason))
                continue
            if here:
                best = max(here, key=lambda m: FIT_WEIGHT[m.fit])
                on_chain.setdefault(best.assignment.unit_id, []).append(best)
                explained.add(i)
                reasons.append(("matched", partial(self._matched_reason, best)))
                if best.by_fallback:
                    warnings.append(("suffix_ignored", partial(_suffix_notice, best)))
                continue
            if not is_known:
                unresolved.append(Unresolved(i, elements[i].text, "not_in_codebook"))
                continue
            anachronism = self._anachronism(i)
            if anachronism is not None and self.when is not None:
                unresolved.append(Unresolved(i, elements[i].text, "anachronistic"))
                warnings.append(
                    ("anachronistic_parent", partial(self._anachronism_notice, anachronism))
                )
            else:
                unresolved.append(Unresolved(i, elements[i].text, "contradicts_chain"))
                reasons.append(("contradicts_chain", partial(self._contradiction, i, path)))

        weights_fit: list[float] = []
        weights_ver: list[float] = []
        top_needed = max(chain_ids.index(uid) for uid in on_chain)
        units: list[UnitFact] = []
        for depth, (uid, link) in enumerate(path):
            unit = self.reader.unit(uid)
            if unit is None:  # a dangling reference cannot survive import; be safe anyway
                break
            units.append(unit)
            for m in on_chain.get(uid, ()):
                weights_fit.append(_fit_weight(m))
                weights_ver.append(_verification_weight(m))
            if link is not None and depth < top_needed:
                # Links between explained elements carry the answer; weigh them too.
                parent_fit = link.validity.fit(self.when)
                weights_fit.append(FIT_WEIGHT[parent_fit or Fit.UNDATED])
                weights_ver.append(VERIFICATION_WEIGHT.get(link.verification, 0.5))

        # Elements the codebook knows but this chain does not explain weigh fully; elements
        # the codebook does not know at all (most companies) only lower the score a little.
        contradictions = sum(1 for u in unresolved if u.reason == "contradicts_chain")
        score = _score(self._coverage(len(explained)), weights_fit, weights_ver, contradictions)
        min_fit = min((m.fit for ms in on_chain.values() for m in ms), key=FIT_WEIGHT.__getitem__)
        return _Draft(
            score=score,
            explained=frozenset(explained),
            min_fit=min_fit,
            units=units,
            path=path,
            on_chain=on_chain,
            unresolved=unresolved,
            reasons=reasons,
            warnings=warnings,
        )

    def _candidate(self, draft: _Draft) -> Candidate:
        """The kept hypothesis in full: its chain, and its reasons and warnings to word."""
        reasons = list(draft.reasons)
        warnings = list(draft.warnings)
        links: list[ChainLink] = []
        for unit, (uid, link) in zip(draft.units, draft.path, strict=False):
            matched = tuple(draft.on_chain.get(uid, ()))
            for m in matched:
                if m.fit is Fit.OUTSIDE:
                    warnings.append(("code_out_of_period", partial(self._out_of_period, m)))
                elif m.fit is Fit.BOUNDARY:
                    warnings.append(("code_period_boundary", partial(self._boundary, m)))
            parent_fit = link.validity.fit(self.when) if link else None
            existence = unit.existed.fit(self.when)
            areas = partial(self._areas_at, uid)
            links.append(ChainLink(unit, existence, matched, link, parent_fit, areas))
            if link is not None and parent_fit is not None:
                reasons.append(("parent_link", partial(self._link_reason, unit, link)))
        return Candidate(
            score=draft.score,
            chain=tuple(links),
            unresolved=tuple(sorted(draft.unresolved, key=lambda u: u.element)),
            pending_reasons=tuple(reasons),
            pending_warnings=tuple(warnings),
            explained=draft.explained,
            min_fit=draft.min_fit,
        )

    def _areas_at(self, unit_id: str) -> tuple[AreaFact, ...]:
        return tuple(
            a for a in self.reader.areas(unit_id) if a.validity.fit(self.when) is not Fit.OUTSIDE
        )

    def _existence(self, match: Match) -> Fit:
        unit = self.reader.unit(match.assignment.unit_id)
        return unit.existed.fit(self.when) if unit else Fit.UNKNOWN_PERIOD

    def _status(self, kept: list[_Draft]) -> Status:
        """The status of the kept hypotheses (a candidate's chain holds its draft's units)."""
        best = kept[0]
        if any(self.info[i].sampled for i in self.targets):
            return Status.AMBIGUOUS  # not every reading of an element was even considered
        best_units = best.chain_ids
        rivals = [
            d
            for d in kept[1:]
            if d.score >= best.score * AMBIGUITY_RATIO and d.units[0].id not in best_units
        ]
        if rivals:
            return Status.AMBIGUOUS
        if len(best.explained) == len(self.targets) and best.min_fit is not Fit.OUTSIDE:
            return Status.RESOLVED
        return Status.PARTIAL

    # --- messages -------------------------------------------------------------------------

    def _matched_reason(self, m: Match) -> Notice:
        a = m.assignment
        unit = self.reader.unit(a.unit_id)
        name = unit.name if unit else a.unit_id
        return _matched_notice(
            m.text, a.kind, a.code, name, a.validity, a.source.id, a.verification
        )

    def _link_reason(self, unit: UnitFact, link: LinkFact) -> Notice:
        parent = self.reader.unit(link.parent_id)
        parent_name = parent.name if parent else link.parent_id
        return _link_notice(
            unit.name, parent_name, link.validity, link.source.id, link.verification
        )

    def _contradiction(self, index: int, path: list[tuple[str, LinkFact | None]]) -> Notice:
        text = self.parse.elements[index].text
        names = []
        for uid, _ in path:
            unit = self.reader.unit(uid)
            names.append(unit.name if unit else uid)
        chain = " → ".join(names)
        return Notice(
            "contradicts_chain",
            f"'{text}' không nằm trong chuỗi trực thuộc theo bộ mã: {chain}.",
            f"'{text}' is not on the codebook's chain of command: {chain}.",
            self.parse.elements[index].span,
        )

    def _anachronism_notice(self, m: Match) -> Notice:
        unit = self.reader.unit(m.assignment.unit_id)
        assert unit is not None
        assert self.when is not None
        return Notice(
            "anachronistic_parent",
            f"'{m.text}' ({unit.name}) chưa tồn tại hoặc không còn tồn tại vào "
            f"{when_vi(self.when)}: {period_vi(unit.existed)}. Có thể hồ sơ ghi theo tên đơn vị "
            "về sau.",
            f"'{m.text}' ({unit.name}) did not exist on {when_en(self.when)}: it existed "
            f"{period_en(unit.existed)}. The record may use a later name.",
            self.parse.elements[m.element].span,
        )

    def _out_of_period(self, m: Match) -> Notice:
        a = m.assignment
        assert self.when is not None
        return Notice(
            "code_out_of_period",
            f"'{a.code}' chỉ được dùng {period_vi(a.validity)}, không vào {when_vi(self.when)}.",
            f"'{a.code}' was in use {period_en(a.validity)}, not on {when_en(self.when)}.",
            self.parse.elements[m.element].span,
        )

    def _boundary(self, m: Match) -> Notice:
        a = m.assignment
        assert self.when is not None
        return Notice(
            "code_period_boundary",
            f"Ngày {when_vi(self.when)} nằm sát ranh giới thời gian dùng '{a.code}' "
            f"({period_vi(a.validity)}); cần đối chiếu thêm.",
            f"The date {when_en(self.when)} straddles a bound of the period of '{a.code}' "
            f"({period_en(a.validity)}); cross-check it.",
            self.parse.elements[m.element].span,
        )


VERIFICATION_VI = {
    "verified": "đã kiểm chứng",
    "unverified": "chưa kiểm chứng",
    "disputed": "đang bị nghi vấn",
}


@lru_cache(maxsize=256)
def _weighing(verification: str) -> tuple[str, str]:
    """How a row's verification status weighs in the score, said in words (vi, en)."""
    weight = VERIFICATION_WEIGHT.get(verification, 0.5)
    status_vi = VERIFICATION_VI.get(verification, verification)
    if weight >= 1.0:
        return f"{status_vi}: tính đủ", f"{verification}: counts in full"
    return (
        f"{status_vi}: chỉ tính {weight:.2f}".replace(".", ",") + " so với dòng đã kiểm chứng",
        f"{verification}: counts {weight:.2f} of a verified row",
    )


# Records name the same units again and again: each reason a matched code or a parent
# link gives is worded once per wording (a notice is immutable, so it is shared).
REASONS_WORDED = 8_192


@lru_cache(maxsize=REASONS_WORDED)
def _matched_notice(
    text: str,
    kind: str,
    code: str,
    name: str,
    validity: Validity,
    source_id: str,
    verification: str,
) -> Notice:
    weight_vi, weight_en = _weighing(verification)
    return Notice(
        "matched",
        f"'{text}' khớp {KIND_VI.get(kind, kind)} '{code}' của {name} "
        f"{period_vi(validity)} (nguồn: {source_id}; {weight_vi}).",
        f"'{text}' matches the {KIND_EN.get(kind, kind)} '{code}' of {name} "
        f"{period_en(validity)} (source: {source_id}; {weight_en}).",
    )


@lru_cache(maxsize=REASONS_WORDED)
def _link_notice(
    name: str, parent_name: str, validity: Validity, source_id: str, verification: str
) -> Notice:
    weight_vi, weight_en = _weighing(verification)
    return Notice(
        "parent_link",
        f"{name} trực thuộc {parent_name} {period_vi(validity)} (nguồn: {source_id}; {weight_vi}).",
        f"{name} was under {parent_name} {period_en(validity)} (source: {source_id}; {weight_en}).",
    )


def _suffix_notice(m: Match) -> Notice:
    return Notice(
        "suffix_ignored",
        f"Không có '{m.text}' trong bộ mã; đã tra theo số không kèm chữ cái "
        f"('{m.assignment.code}').",
        f"'{m.text}' is not in the codebook; matched its number without the letter suffix "
        f"('{m.assignment.code}').",
    )


def _joined(sets: list[frozenset[str]]) -> AbstractSet[str]:
    """One set as it is (a subtree's, shared and never changed), several joined into a
    plain set: made for this resolution only, so the reader does not remember answers by it
    (`assignments_of_units` remembers them per shared frozenset)."""
    if len(sets) == 1:
        return sets[0]
    return set().union(*sets)


def _narrowed_at_other_dates(target: _Target, by: _Target) -> Notice:
    text, larger = target.element.text, by.element.text
    return Notice(
        "narrowed_at_other_dates",
        f"Vào ngày này không có đơn vị nào thuộc '{larger}' trong bộ mã; '{text}' được thu hẹp "
        f"theo các đơn vị từng thuộc '{larger}' vào thời gian khác.",
        f"At this date the codebook has no unit under '{larger}'; '{text}' was narrowed by "
        f"the units under '{larger}' at other dates.",
        target.element.span,
    )


def _too_many(target: _Target) -> Notice:
    text = target.element.text
    if target.sampled:
        return Notice(
            "too_many_readings",
            f"'{text}' ứng với {target.total} đơn vị trong bộ mã và hồ sơ không ghi đơn vị nào "
            f"lớn hơn để thu hẹp; chỉ xét {len(target.facts)} đơn vị đầu tiên.",
            f"'{text}' could be any of {target.total} units in the codebook and the record "
            f"names no larger unit to narrow it; only the first {len(target.facts)} were "
            "considered.",
            target.element.span,
        )
    return Notice(
        "too_many_readings",
        f"'{text}' ứng với {target.total} đơn vị trong bộ mã nhưng không đơn vị nào thuộc "
        "các đơn vị lớn hơn ghi trong hồ sơ (vào ngày này).",
        f"'{text}' could be any of {target.total} units in the codebook, but none of them is "
        "under the larger units the record names (at this date).",
        target.element.span,
    )


def _fit_weight(m: Match) -> float:
    return FIT_WEIGHT[m.fit] * (SUFFIX_FALLBACK_WEIGHT if m.by_fallback else 1.0)


def _verification_weight(m: Match) -> float:
    return VERIFICATION_WEIGHT.get(m.assignment.verification, 0.5)


def _score(
    coverage: float, weights_fit: list[float], weights_ver: list[float], contradictions: int
) -> float:
    """Coverage × mean fit weight × mean verification weight, halved per contradiction."""
    fit_w = sum(weights_fit) / len(weights_fit)
    ver_w = sum(weights_ver) / len(weights_ver)
    return round(coverage * fit_w * ver_w * (0.5**contradictions), 3)


# An anchor left undrafted: the anchor, its climb, the elements it explains, its score bound.
_Skipped = tuple[Match, list[tuple[str, LinkFact | None]] | None, set[int], float]


def _settle(
    drafts: list[_Draft], skipped: list[_Skipped], draft_of: Callable[[_Skipped], _Draft]
) -> list[_Draft]:
    """`_rank` of `drafts`, after drafting every skipped anchor the kept list does not cover.

    A skip holds when, in the kept list, a draft ranked before it makes it redundant or
    MAX_CANDIDATES drafts rank before it: then its draft would not be kept either, and
    the list is the same.
    """
    skipped.sort(key=_best_key)
    while True:
        kept = _rank(drafts)
        wrong = []
        for entry in skipped:
            if _outranked(entry, kept):
                break  # and so is every later one, ranking no better
            if not _cannot_be_kept(entry, kept):
                wrong.append(entry)
        if not wrong:
            return kept
        for entry in wrong:
            skipped.remove(entry)
            drafts.append(draft_of(entry))


def _best_key(entry: _Skipped) -> tuple[float, int, str]:
    """The best rank key a skipped anchor's draft could have: score at most its bound, its
    explained elements exactly."""
    anchor, _, explained, bound = entry
    return (-bound, -len(explained), anchor.assignment.unit_id)


def _outranked(entry: _Skipped, ahead: list[_Draft]) -> bool:
    """MAX_CANDIDATES of the drafts `ahead` rank before anything the skipped anchor could
    draft, so its draft would be cut (and so would that of any anchor ranking no better)."""
    best = _best_key(entry)
    return sum(1 for d in ahead if d.rank_key < best) >= MAX_CANDIDATES


def _cannot_be_kept(entry: _Skipped, ahead: list[_Draft]) -> bool:
    """With the drafts `ahead` kept, the skipped anchor's draft would be dropped or cut."""
    anchor, _, explained, _ = entry
    uid = anchor.assignment.unit_id
    best = _best_key(entry)
    before = [d for d in ahead if d.rank_key < best]
    return len(before) >= MAX_CANDIDATES or any(
        explained <= d.explained and uid in d.chain_ids for d in before
    )


def _rank(drafts: list[_Draft]) -> list[_Draft]:
    ordered = sorted(drafts, key=lambda d: d.rank_key)
    kept: list[_Draft] = []
    for draft in ordered:
        anchor = draft.units[0].id
        redundant = any(
            draft.explained <= other.explained and anchor in other.chain_ids for other in kept
        )
        if not redundant:
            kept.append(draft)
        if len(kept) == MAX_CANDIDATES:
            break
    return kept


def resolve(
    parse: ParseResult,
    when: DateRange | None,
    reader: Reader,
    keys: Sequence[tuple[str, ...]] | None = None,
) -> Resolution:
    """Resolve `parse` at `when` (None: any date) against the edition behind `reader`.

    `keys`: `element_keys` of each element of `parse`, when the caller has them already.
    """
    return _Resolver(parse, when, reader, keys=keys).run()


def brief(
    parse: ParseResult,
    when: DateRange | None,
    reader: Reader,
    keys: Sequence[tuple[str, ...]] | None = None,
) -> Brief:
    """`resolve(...).brief()`: what a list's decode columns show, made more cheaply."""
    return _Resolver(parse, when, reader, keys=keys).brief()
