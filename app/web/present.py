"""Pure helpers that turn service answers (plain JSON-shaped dicts) into what a page shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from app.decode.facts import Validity
from app.decode.resolver import format_en, format_vi
from app.web.i18n import translate


def format_bound(iso: str, precision: str | None, lang: str) -> str:
    """A codebook date as records write it ("2-9-1965", "1/1964", "1961"), or ISO in English."""
    value = dt.date.fromisoformat(iso)
    return format_vi(value, precision) if lang == "vi" else format_en(value, precision)


def period(valid: Mapping[str, Any] | Validity | None, lang: str) -> str:
    """A half-open validity period in words: "từ 2-9-1965 đến trước 26-3-1975"."""
    if isinstance(valid, Validity):
        valid = valid.to_json()
    if not valid or (valid.get("from") is None and valid.get("to") is None):
        return translate(lang, "period.unknown")
    parts = []
    if valid.get("from"):
        parts.append(
            translate(
                lang,
                "period.from",
                start=format_bound(valid["from"], valid["from_precision"], lang),
            )
        )
    if valid.get("to"):
        parts.append(
            translate(
                lang, "period.until", end=format_bound(valid["to"], valid["to_precision"], lang)
            )
        )
    return " ".join(parts)


def date_meaning(date: Mapping[str, Any], lang: str) -> str:
    """The days a date of death was read as: one day, or an inclusive range of days."""
    lower = dt.date.fromisoformat(date["lower"])
    last = dt.date.fromisoformat(date["upper"]) - dt.timedelta(days=1)
    if lower == last:
        text = format_bound(lower.isoformat(), "day", lang)
    else:
        text = translate(
            lang,
            "date.range",
            start=format_bound(lower.isoformat(), "day", lang),
            end=format_bound(last.isoformat(), "day", lang),
        )
    if date.get("approximate"):
        text = f"{translate(lang, 'date.approximate')} {text}"
    return text


def score(value: float, lang: str) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "vi" else text


# --- the input, marked -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of the input with one marking: "" (plain), "ok", "unknown" or "warn"."""

    text: str
    mark: str = ""
    codes: tuple[str, ...] = ()


_PRIORITY = {"": 0, "ok": 1, "unknown": 2, "warn": 3}


def segments(text: str, marks: Iterable[tuple[int, int, str, str]]) -> list[Segment]:
    """Cut `text` at every span of `marks` (start, end, mark, code); the strongest mark wins."""
    marks = [(max(0, s), min(len(text), e), m, c) for s, e, m, c in marks if s < e]
    cuts = sorted({0, len(text), *(s for s, _, _, _ in marks), *(e for _, e, _, _ in marks)})
    out: list[Segment] = []
    for start, end in pairwise(cuts):
        if start >= end:
            continue
        covering = [(m, c) for s, e, m, c in marks if s <= start and end <= e]
        mark = max((m for m, _ in covering), key=_PRIORITY.__getitem__, default="")
        codes = tuple(dict.fromkeys(c for m, c in covering if c and m == mark))
        piece = Segment(text[start:end], mark, codes)
        if out and (out[-1].mark, out[-1].codes) == (mark, codes):
            out[-1] = Segment(out[-1].text + piece.text, mark, codes)
        else:
            out.append(piece)
    return out


def answer_marks(answer: Mapping[str, Any]) -> list[tuple[int, int, str, str]]:
    """Spans of the input: decoded by the best chain, recognised but not decoded, or flagged."""
    parsed = answer["parse"]
    elements: Sequence[Mapping[str, Any]] = parsed["elements"]
    best = answer["candidates"][0] if answer["candidates"] else None
    explained: set[int] = set()
    if best is not None:
        explained = {m["element"] for link in best["chain"] for m in link["matched"]}
        explained.difference_update(u["element"] for u in best["unresolved"])
    marks: list[tuple[int, int, str, str]] = []
    for i, element in enumerate(elements):
        start, end = element["span"]
        marks.append((start, end, "ok" if i in explained else "unknown", ""))
    for residue in parsed["residue"]:
        marks.append((residue["span"][0], residue["span"][1], "warn", "not_understood"))
    for notice in all_warnings(answer):
        if notice.get("span"):
            marks.append((notice["span"][0], notice["span"][1], "warn", notice["code"]))
    return marks


def all_warnings(answer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The parser's warnings (KBC look-alike, not understood) and the answer's, once each."""
    seen: set[tuple[str, str]] = set()
    out = []
    for notice in [*answer["parse"]["warnings"], *answer["warnings"]]:
        key = (notice["code"], notice["message_en"])
        if key not in seen:
            seen.add(key)
            out.append(notice)
    return out


def chain_names(chain: Sequence[Mapping[str, Any]]) -> str:
    return " → ".join(link["name"] for link in chain)


# --- a unit's history on a timeline --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One fact of a unit's history, placed by its period."""

    event: str  # i18n key of what happened: event.existed, kind.*, event.parent …
    text: str  # the name, code, unit or area
    valid: Mapping[str, Any]
    source: Mapping[str, Any]
    verification: str
    note: str
    unit_id: str | None = None  # a related unit to link to
    code: str | None = None  # a code or name that can be decoded


@dataclass(frozen=True, slots=True)
class TimelineGroup:
    """Facts that share one period; `valid` is None for those whose period is not known."""

    valid: Mapping[str, Any] | None
    rows: tuple[TimelineRow, ...]


def _start(valid: Mapping[str, Any]) -> str:
    return str(valid.get("from") or valid.get("to") or "")


def _period_key(valid: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (
        str(valid.get("from") or ""),
        str(valid.get("from_precision") or ""),
        str(valid.get("to") or "~"),  # an open end sorts after any end date
        str(valid.get("to_precision") or ""),
    )


def timeline(history: Mapping[str, Any]) -> list[TimelineGroup]:
    """The unit's facts grouped by period in date order; facts of unknown period come last."""
    rows: list[TimelineRow] = [
        TimelineRow(
            "event.existed",
            history["name"],
            history["existed"],
            history["source"],
            history["verification"],
            history["note"],
        )
    ]
    rows += [
        TimelineRow(
            f"kind.{d['kind']}",
            d["code"],
            d["valid"],
            d["source"],
            d["verification"],
            d["note"],
            code=d["code"],
        )
        for d in history["designations"]
    ]
    rows += [
        TimelineRow(
            "event.parent",
            p["name"],
            p["valid"],
            p["source"],
            p["verification"],
            p["note"],
            unit_id=p["id"],
        )
        for p in history["parents"]
    ]
    rows += [
        TimelineRow(
            "event.child",
            c["name"],
            c["valid"],
            c["source"],
            c["verification"],
            c["note"],
            unit_id=c["id"],
        )
        for c in history["subordinates"]
    ]
    rows += [
        TimelineRow("event.area", a["area"], a["valid"], a["source"], a["verification"], a["note"])
        for a in history["areas"]
    ]
    dated = [r for r in rows if _start(r.valid)]
    undated = tuple(r for r in rows if not _start(r.valid))
    # Stable sort: facts of one period keep the order above (unit, names, links, areas).
    dated.sort(key=lambda r: (_start(r.valid), _period_key(r.valid)))
    groups: list[TimelineGroup] = []
    for row in dated:
        if (
            groups
            and groups[-1].valid is not None
            and _period_key(groups[-1].valid) == _period_key(row.valid)
        ):
            groups[-1] = TimelineGroup(groups[-1].valid, (*groups[-1].rows, row))
        else:
            groups.append(TimelineGroup(row.valid, (row,)))
    if undated:
        groups.append(TimelineGroup(None, undated))
    return groups
