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
from app.decode.resolver import Candidate, ChainLink, Match
from app.parsing.ast import Notice

FRAGMENTS_KEPT = 100_000  # facts whose JSON a reader keeps; the oldest half goes when full

_FIT = {fit: encode_basestring(fit.value).encode() for fit in Fit}
_BOOL = {True: b"true", False: b"false"}


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


def _fit(fit: Fit | None) -> bytes:
    if fit is None:
        return b"null"
    found = _FIT.get(fit)
    return found if found is not None else dumps(fit.value)


def _score(score: float) -> bytes:
    if type(score) is float and math.isfinite(score):
        return float.__repr__(score).encode()
    return dumps(score)  # anything else as json renders it (and refuses NaN)


def _int(value: int) -> bytes:
    return int.__repr__(value).encode() if type(value) is int else dumps(value)


def _bool(value: bool) -> bytes:
    found = _BOOL.get(value) if type(value) is bool else None
    return found if found is not None else dumps(value)


def _validity(v: Validity) -> str:
    return (
        f'{{"from":{_str(v.start.isoformat() if v.start else None)},'
        f'"from_precision":{_str(v.start_precision)},'
        f'"to":{_str(v.end.isoformat() if v.end else None)},'
        f'"to_precision":{_str(v.end_precision)}}}'
    )


def _source(s: SourceRef) -> str:
    return (
        f'{{"id":{_str(s.id)},"kind":{_str(s.kind)},"citation":{_str(s.citation)},'
        f'"url":{_str(s.url)},"reliability":{_str(s.reliability)}}}'
    )


class Fragments:
    """The fixed JSON parts of one reader's facts, each made once (by identity, bounded).

    Each entry keeps its fact, so an id is never reused for another object while its
    entry lives.
    """

    __slots__ = ("_made", "_max")

    def __init__(self, max_entries: int = FRAGMENTS_KEPT) -> None:
        self._max = max_entries
        self._made: dict[int, tuple[object, tuple[bytes, ...]]] = {}

    def __len__(self) -> int:
        return len(self._made)

    def _keep(self, fact: object, parts: tuple[bytes, ...]) -> tuple[bytes, ...]:
        made = self._made
        if len(made) >= self._max:
            # Drop the oldest half: cheap, and the facts still in use come straight back.
            for key in list(made)[: len(made) // 2]:
                made.pop(key, None)
        made[id(fact)] = (fact, parts)
        return parts

    def _unit(self, u: UnitFact) -> tuple[bytes, ...]:
        found = self._made.get(id(u))
        if found is not None and found[0] is u:
            return found[1]
        head = (
            f'{{"id":{_str(u.id)},"name":{_str(u.name)},"echelon":{_str(u.echelon)},'
            f'"existed":{_validity(u.existed)},"existed_fit":'
        )
        tail = (
            f',"source":{_source(u.source)},"verification":{_str(u.verification)},'
            f'"note":{_str(u.note)},"matched":['
        )
        return self._keep(u, (head.encode(), tail.encode()))

    def _assignment(self, a: AssignmentFact) -> tuple[bytes, ...]:
        found = self._made.get(id(a))
        if found is not None and found[0] is a:
            return found[1]
        head = (
            f',"code":{_str(a.code)},"kind":{_str(a.kind)},"valid":{_validity(a.validity)},"fit":'
        )
        tail = (
            f',"source":{_source(a.source)},"verification":{_str(a.verification)},'
            f'"note":{_str(a.note)},"suffix_ignored":'
        )
        return self._keep(a, (head.encode(), tail.encode()))

    def _link(self, link: LinkFact) -> tuple[bytes, ...]:
        found = self._made.get(id(link))
        if found is not None and found[0] is link:
            return found[1]
        head = f'{{"parent":{_str(link.parent_id)},"valid":{_validity(link.validity)},"fit":'
        tail = (
            f',"source":{_source(link.source)},"verification":{_str(link.verification)},'
            f'"note":{_str(link.note)}}}'
        )
        return self._keep(link, (head.encode(), tail.encode()))

    def _area(self, area: AreaFact) -> bytes:
        found = self._made.get(id(area))
        if found is not None and found[0] is area:
            return found[1][0]
        made = (
            f'{{"area":{_str(area.area)},"valid":{_validity(area.validity)},'
            f'"source":{_source(area.source)},"verification":{_str(area.verification)}}}'
        )
        return self._keep(area, (made.encode(),))[0]

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
                f'{{"element":{_int(u.element).decode()},"text":{_str(u.text)},'
                f'"reason":{_str(u.reason)}}}'.encode()
            )
        out.append(b'],"reasons":')
        out.append(notices(candidate.reasons))
        out.append(b',"warnings":')
        out.append(notices(candidate.warnings))
        out.append(b"}")

    def _chain_link(self, link: ChainLink, out: list[bytes]) -> None:
        head, tail = self._unit(link.unit)
        out.append(head)
        out.append(_fit(link.fit))
        out.append(tail)
        for n, match in enumerate(link.matched):
            if n:
                out.append(b",")
            self._match(match, out)
        out.append(b'],"parent_link":')
        parent = link.parent_link
        if parent is None:
            out.append(b"null")
        else:
            head, tail = self._link(parent)
            out.append(head)
            out.append(_fit(link.parent_fit) if link.parent_fit else b"null")
            out.append(tail)
        out.append(b',"areas":[')
        for n, area in enumerate(link.areas):
            if n:
                out.append(b",")
            out.append(self._area(area))
        out.append(b"]}")

    def _match(self, m: Match, out: list[bytes]) -> None:
        head, tail = self._assignment(m.assignment)
        out.append(f'{{"element":{_int(m.element).decode()},"text":{_str(m.text)}'.encode())
        out.append(head)
        out.append(_fit(m.fit))
        out.append(tail)
        out.append(_bool(m.by_fallback))
        out.append(b"}")


def notice(n: Notice) -> bytes:
    """`n.to_json()` as JSON bytes."""
    span = n.span
    if not span:
        where = "null"
    elif len(span) == 2 and type(span[0]) is int and type(span[1]) is int:
        where = f"[{span[0]},{span[1]}]"
    else:
        where = dumps(list(span)).decode()
    return (
        f'{{"code":{_str(n.code)},"message_vi":{_str(n.message_vi)},'
        f'"message_en":{_str(n.message_en)},"span":{where}}}'
    ).encode()


def notices(items: Iterable[Notice]) -> bytes:
    """`[n.to_json() for n in items]` as JSON bytes."""
    return b"[" + b",".join(notice(n) for n in items) + b"]"


def fragments_of(reader: Any) -> Fragments:
    """The fragments kept with `reader` (one per edition reader, made on first use)."""
    found: Fragments | None = reader.fragments
    if found is None:
        found = reader.fragments = Fragments()
    return found
