"""The JSON of an answer's candidates and notices, joined from fragments made once per fact.

The bytes are exactly `json.dumps(value, ensure_ascii=False, allow_nan=False,
separators=(",", ":")).encode()` of the `to_json()` trees (`Candidate`,
`ChainLink`, `Match`, `Validity`, `SourceRef`, `Notice`), with the same key
order, escaping and number forms (tests/test_decode_encode.py compares them).
A fact's JSON never changes while its reader lives (a published edition
never changes), so the fixed parts of a unit, a reading, a parent link, an
area, a period and a source are encoded once and kept with the reader, in a
bounded table; an answer only encodes what is its own (texts, fits, score,
notices) and joins.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from json.encoder import encode_basestring
from typing import Any

from app.decode.facts import AreaFact, AssignmentFact, Fit, LinkFact, SourceRef, UnitFact, Validity
from app.decode.resolver import REASONS_WORDED, Candidate, ChainLink
from app.parsing.ast import Notice

FRAGMENTS_KEPT = 100_000  # facts whose JSON a reader keeps; the oldest half goes when full

# Reasons the resolver words once and shares (`_matched_notice`, `_link_notice`): their JSON
# is kept too, by identity.
SHARED_REASONS = frozenset({"matched", "parent_link"})

# `json.dumps` with these arguments makes such an encoder at every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def dumps(value: Any) -> bytes:
    """As Starlette's JSONResponse renders, so an answer is the same bytes whichever path made it.

    `json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()`.
    """
    return _ENCODER.encode(value).encode()


def dumps_str(value: str) -> bytes:
    """`dumps` of a string."""
    return encode_basestring(value).encode()


def _str(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


_FITS: tuple[Fit | None, ...] = (*Fit, None)


def _fit_json(fit: Fit | None) -> str:
    return "null" if fit is None else encode_basestring(fit.value)


# What stands between a fact's fixed parts, for each fit (None: the JSON null).
_EXISTED: dict[Fit | None, bytes] = {
    f: f',"existed_fit":{_fit_json(f)},"source":'.encode() for f in Fit
}
_VALID_FIT: dict[Fit | None, bytes] = {
    f: f',"fit":{_fit_json(f)},"source":'.encode() for f in _FITS
}
_SUFFIX = {True: b"true}", False: b"false}"}


def _between(table: dict[Fit | None, bytes], fit: Fit | None, key: str) -> bytes:
    found = table.get(fit)
    if found is None:  # not a Fit member: as json would render its value
        found = f',"{key}":'.encode() + dumps(fit.value) + b',"source":'  # type: ignore[union-attr]
    return found


def _score(score: float) -> bytes:
    if type(score) is float and math.isfinite(score):
        return float.__repr__(score).encode()
    return dumps(score)  # anything else as json renders it (and refuses NaN)


def _int(value: int) -> str:
    return int.__repr__(value) if type(value) is int else dumps(value).decode()


def _validity(v: Validity) -> bytes:
    return (
        f'{{"from":{_str(v.start.isoformat() if v.start else None)},'
        f'"from_precision":{_str(v.start_precision)},'
        f'"to":{_str(v.end.isoformat() if v.end else None)},'
        f'"to_precision":{_str(v.end_precision)}}}'
    ).encode()


def _source(s: SourceRef) -> bytes:
    return (
        f'{{"id":{_str(s.id)},"kind":{_str(s.kind)},"citation":{_str(s.citation)},'
        f'"url":{_str(s.url)},"reliability":{_str(s.reliability)}}}'
    ).encode()


# A fact's fixed JSON: the part before its period, its period's, its source's, the part
# after its source; a period's and a source's are shared by every fact citing them.
_Parts = tuple[object, bytes, bytes, bytes, bytes]


class Fragments:
    """The fixed JSON parts of one reader's facts, each made once (by identity, bounded).

    Each entry keeps its fact, so an id is never reused for another object while its
    entry lives.
    """

    __slots__ = ("_made", "_max", "_reasons", "_shared")

    def __init__(self, max_entries: int = FRAGMENTS_KEPT) -> None:
        self._max = max_entries
        self._made: dict[int, _Parts] = {}
        self._shared: dict[int, tuple[object, bytes]] = {}  # periods and sources
        self._reasons: dict[int, tuple[Notice, bytes]] = {}

    def __len__(self) -> int:
        return len(self._made) + len(self._shared)

    def _keep(
        self, fact: object, before: str, validity: Validity, source: SourceRef, after: str
    ) -> _Parts:
        made = self._made
        if len(made) >= self._max:
            # Drop the oldest half: cheap, and the facts still in use come straight back.
            for key in list(made)[: len(made) // 2]:
                made.pop(key, None)
        parts = made[id(fact)] = (
            fact,
            before.encode(),
            self._part(validity),
            self._part(source),
            after.encode(),
        )
        return parts

    def _part(self, fact: Validity | SourceRef) -> bytes:
        shared = self._shared
        found = shared.get(id(fact))
        if found is not None and found[0] is fact:
            return found[1]
        if len(shared) >= self._max:
            shared.clear()  # a codebook has a few thousand periods and sources: never, really
        made = _validity(fact) if isinstance(fact, Validity) else _source(fact)
        shared[id(fact)] = (fact, made)
        return made

    def _unit(self, u: UnitFact) -> _Parts:
        found = self._made.get(id(u))
        if found is not None and found[0] is u:
            return found
        return self._keep(
            u,
            f'{{"id":{_str(u.id)},"name":{_str(u.name)},"echelon":{_str(u.echelon)},"existed":',
            u.existed,
            u.source,
            f',"verification":{_str(u.verification)},"note":{_str(u.note)},"matched":[',
        )

    def _assignment(self, a: AssignmentFact) -> _Parts:
        found = self._made.get(id(a))
        if found is not None and found[0] is a:
            return found
        return self._keep(
            a,
            f',"code":{_str(a.code)},"kind":{_str(a.kind)},"valid":',
            a.validity,
            a.source,
            f',"verification":{_str(a.verification)},"note":{_str(a.note)},"suffix_ignored":',
        )

    def _link(self, link: LinkFact) -> _Parts:
        found = self._made.get(id(link))
        if found is not None and found[0] is link:
            return found
        return self._keep(
            link,
            f'],"parent_link":{{"parent":{_str(link.parent_id)},"valid":',
            link.validity,
            link.source,
            f',"verification":{_str(link.verification)},"note":{_str(link.note)}}},"areas":[',
        )

    def _area(self, area: AreaFact) -> _Parts:
        found = self._made.get(id(area))
        if found is not None and found[0] is area:
            return found
        return self._keep(
            area,
            f'{{"area":{_str(area.area)},"valid":',
            area.validity,
            area.source,
            f',"verification":{_str(area.verification)}}}',
        )

    def _reason(self, reason: Notice) -> bytes:
        if reason.code not in SHARED_REASONS:
            return notice(reason)
        reasons = self._reasons
        found = reasons.get(id(reason))
        if found is not None and found[0] is reason:
            return found[1]
        if len(reasons) >= REASONS_WORDED * 2:
            reasons.clear()
        made = notice(reason)
        reasons[id(reason)] = (reason, made)
        return made

    def candidates(self, candidates: Iterable[Candidate]) -> bytes:
        """`[c.to_json() for c in candidates]` as JSON bytes."""
        out: list[bytes] = [b"["]
        for n, candidate in enumerate(candidates):
            if n:
                out.append(b",")
            self._candidate(candidate, out)
        out.append(b"]")
        return b"".join(out)

    def _candidate(self, candidate: Candidate, out: list[bytes]) -> None:
        out.append(b'{"score":')
        out.append(_score(candidate.score))
        out.append(b',"chain":[')
        for n, link in enumerate(candidate.chain):
            if n:
                out.append(b",")
            self._chain_link(link, out)
        out.append(b'],"unresolved":[')
        for n, u in enumerate(candidate.unresolved):
            if n:
                out.append(b",")
            out.append(
                f'{{"element":{_int(u.element)},"text":{_str(u.text)},'
                f'"reason":{_str(u.reason)}}}'.encode()
            )
        out.append(b'],"reasons":[')
        for n, reason in enumerate(candidate.reasons):
            if n:
                out.append(b",")
            out.append(self._reason(reason))
        out.append(b"]")
        out.append(b',"warnings":')
        out.append(notices(candidate.warnings))
        out.append(b"}")

    def _chain_link(self, link: ChainLink, out: list[bytes]) -> None:
        _, before, valid, source, after = self._unit(link.unit)
        between = _between(_EXISTED, link.fit, "existed_fit")
        out += (before, valid, between, source, after)
        for n, m in enumerate(link.matched):
            if n:
                out.append(b",")
            _, before, valid, source, after = self._assignment(m.assignment)
            between = _between(_VALID_FIT, m.fit, "fit")
            suffix = _SUFFIX.get(m.by_fallback) if type(m.by_fallback) is bool else None
            if suffix is None:
                suffix = dumps(m.by_fallback) + b"}"
            opening = f'{{"element":{_int(m.element)},"text":{_str(m.text)}'.encode()
            out += (opening, before, valid, between, source, after, suffix)
        parent = link.parent_link
        if parent is None:
            out.append(b'],"parent_link":null,"areas":[')
        else:
            _, before, valid, source, after = self._link(parent)
            fit = link.parent_fit if link.parent_fit else None
            between = _between(_VALID_FIT, fit, "fit")
            out += (before, valid, between, source, after)
        for n, area in enumerate(link.areas):
            if n:
                out.append(b",")
            _, before, valid, source, after = self._area(area)
            out += (before, valid, b',"source":', source, after)
        out.append(b"]}")


def notice(n: Notice) -> bytes:
    """`n.to_json()` as JSON bytes."""
    span = n.span
    if not span:
        where = "null"
    elif len(span) == 2 and type(span[0]) is int and type(span[1]) is int:
        where = f"[{span[0]},{span[1]}]"
    else:
        where = dumps(list(span)).decode()
    try:
        return (
            f'{{"code":{encode_basestring(n.code)},"message_vi":{encode_basestring(n.message_vi)},'
            f'"message_en":{encode_basestring(n.message_en)},"span":{where}}}'
        ).encode()
    except TypeError:  # not a str (a None): as json renders it
        return dumps(n.to_json())


def notices(items: Iterable[Notice]) -> bytes:
    """`[n.to_json() for n in items]` as JSON bytes."""
    return b"[" + b",".join(map(notice, items)) + b"]"


def fragments_of(reader: Any) -> Fragments:
    """The fragments kept with `reader` (one per edition reader, made on first use)."""
    found: Fragments | None = reader.fragments
    if found is None:
        found = reader.fragments = Fragments()
    return found
