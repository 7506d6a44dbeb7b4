"""Synthetic national-scale data for the benchmarks: a codebook bundle and a martyr list.

Everything here is invented and says so: unit ids are `synthetic-unit-NNNNNN`,
names end in "(tổng hợp)", sources are `S-synthetic-*`, martyrs are
`synthetic-martyr-NNNNNNN` named "Liệt sĩ tổng hợp NNNNNNN". Unit numbers of
regiments and larger start at 9001 so no code can be taken for a real one. None
of it goes near codebook/sample.

The shape follows the domain brief's national figures (about 10^5 units, 10^6
code assignments, 1.15 million records):

- 12 military regions → 20 divisions each → 5 regiments → 4 battalions → 19–20
  companies (100,000 units). Companies are numbered 1–20 inside their battalion
  and battalions 1–4 inside their regiment, as records write them ("C3, D2"), so
  "Đại đội 3" means thousands of units: the codebook must be narrowed by the
  larger units of the record.
- Hierarchy changes: some regiments move to another division of their region in
  a given year, some battalions to another regiment.
- Reused codes: some regiments are renumbered in 1970 to the number of a regiment
  dissolved in 1969; field mailboxes are reassigned to another unit after their
  period; every unit carries several mailboxes over time (1,000,000 assignments
  in all).
- The list follows a skew of deaths over companies (Zipf), so a few units repeat
  very often and a long tail appears once; designations are written in many ways
  (letters or words, with or without diacritics, other separators, case) and
  dates in the forms records use, a few of them empty or unknown to the codebook.

Deterministic: the same seed and sizes give the same files, byte for byte.

    python3 bench/synth.py codebook OUT_DIR [--units 100000 --assignments 1000000 --seed 1]
    python3 bench/synth.py list OUT.csv --codebook OUT_DIR [--rows 1150000 --seed 1]
    python3 bench/synth.py load OUT_DIR --database-url URL   # bulk-load as a published edition
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import hashlib
import itertools
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codebook.bundle import (
    AreaRow,
    AssignmentRow,
    Bundle,
    ParentLinkRow,
    SourceRow,
    UnitRow,
    write_bundle,
)

VERSION = 2  # bump when the same seed and sizes would give other files
SYNTHETIC_NOTE = "Dữ liệu tổng hợp cho đo hiệu năng, không phải sự thật lịch sử / synthetic."
REGIONS = 12
DIVISIONS_PER_REGION = 20
REGIMENTS_PER_DIVISION = 5
BATTALIONS_PER_REGIMENT = 4
FIRST_NUMBER = 9001

SOURCES = (
    SourceRow(
        "S-synthetic-army-record",
        "army_record",
        "Hồ sơ tổng hợp (synthetic army record), không phải tài liệu thật",
        "",
        "strong",
        SYNTHETIC_NOTE,
    ),
    SourceRow(
        "S-synthetic-testimony",
        "veteran_testimony",
        "Lời kể tổng hợp (synthetic testimony), không phải tài liệu thật",
        "",
        "moderate",
        SYNTHETIC_NOTE,
    ),
)


def unit_id(n: int) -> str:
    return f"synthetic-unit-{n:06d}"


def _year(y: int) -> str:
    return f"{y:04d}"


def _day(d: dt.date) -> str:
    return d.isoformat()


@dataclass(slots=True)
class SynthUnit:
    """What the list generator needs to know about a unit."""

    n: int
    echelon: str
    number: int
    parent: int  # index of the parent at formation (-1 for a region)
    formed: int  # year
    dissolved: int | None  # year, exclusive
    renumbered: tuple[int, int] | None = None  # (year, new number)
    moved: tuple[int, int] | None = None  # (year, new parent)


def build_units(total: int, rng: random.Random) -> list[SynthUnit]:
    """The hierarchy, largest units first; companies fill up to `total` units."""
    units: list[SynthUnit] = []

    def add(echelon: str, number: int, parent: int, formed: int, dissolved: int | None) -> int:
        units.append(SynthUnit(len(units), echelon, number, parent, formed, dissolved))
        return len(units) - 1

    scaled = max(1, round(REGIONS * total / 100_000))  # 12 regions for 100,000 units
    # A division holds 5 regiments, 20 battalions and about 390 companies: 416 units.
    per_region = max(1, min(DIVISIONS_PER_REGION, round((total - scaled) / 416 / scaled)))
    regions = [add("military_region", FIRST_NUMBER + r, -1, 1946, None) for r in range(scaled)]
    divisions: list[int] = []
    number = FIRST_NUMBER
    for region in regions:
        for _ in range(per_region):
            divisions.append(add("division", number, region, rng.randint(1947, 1965), None))
            number += 1
    regiments: list[int] = []
    number = FIRST_NUMBER
    for division in divisions:
        for _ in range(REGIMENTS_PER_DIVISION):
            formed = max(units[division].formed, rng.randint(1947, 1968))
            dissolved = rng.randint(1965, 1969) if rng.random() < 0.06 else None
            if dissolved is not None and dissolved <= formed:
                dissolved = formed + 2
            regiments.append(add("regiment", number, division, formed, dissolved))
            number += 1
    battalions: list[int] = []
    for regiment in regiments:
        for b in range(1, BATTALIONS_PER_REGIMENT + 1):
            r = units[regiment]
            battalions.append(add("battalion", b, regiment, r.formed, r.dissolved))
    companies_left = total - len(units)
    per_battalion, extra = divmod(companies_left, len(battalions))
    for i, battalion in enumerate(battalions):
        b = units[battalion]
        for c in range(1, per_battalion + (1 if i < extra else 0) + 1):
            add("company", c, battalion, b.formed, b.dissolved)

    # Hierarchy changes: a regiment moves to another division of its region, a battalion
    # to another regiment of its division.
    by_region: dict[int, list[int]] = {}
    for d in divisions:
        by_region.setdefault(units[d].parent, []).append(d)
    for reg in regiments:
        u = units[reg]
        if rng.random() < 0.15:
            others = [d for d in by_region[units[u.parent].parent] if d != u.parent]
            if not others:
                continue
            year = rng.randint(max(u.formed + 1, 1963), 1973)
            if u.dissolved is None or year < u.dissolved:
                u.moved = (year, rng.choice(others))
    by_division: dict[int, list[int]] = {}
    for reg in regiments:
        by_division.setdefault(units[reg].parent, []).append(reg)
    for bat in battalions:
        u = units[bat]
        if rng.random() < 0.08:
            others = [r for r in by_division[units[u.parent].parent] if r != u.parent]
            others = [r for r in others if units[r].dissolved is None]
            year = rng.randint(max(u.formed + 1, 1965), 1974)
            if others and (u.dissolved is None or year < u.dissolved):
                u.moved = (year, rng.choice(others))
    # Reused numbers: a regiment dissolved in 1969 lends its number to one renumbered in 1970.
    freed = [units[r].number for r in regiments if units[r].dissolved == 1969]
    living = [r for r in regiments if units[r].dissolved is None and units[r].formed < 1970]
    for number, reg in zip(freed, rng.sample(living, min(len(freed), len(living))), strict=False):
        units[reg].renumbered = (1970, number)
    return units


ECHELON_WORD = {
    "military_region": "Quân khu",
    "division": "Sư đoàn",
    "regiment": "Trung đoàn",
    "battalion": "Tiểu đoàn",
    "company": "Đại đội",
}
ECHELON_LETTER = {
    "military_region": "QK",
    "division": "F",
    "regiment": "E",
    "battalion": "D",
    "company": "C",
}


def _unit_name(u: SynthUnit, units: Sequence[SynthUnit]) -> str:
    word = ECHELON_WORD[u.echelon]
    if u.echelon in ("company", "battalion"):
        parent = units[u.parent]
        return f"{word} {u.number} thuộc {ECHELON_LETTER[parent.echelon]}{parent.number} (tổng hợp)"
    return f"{word} {u.number} (tổng hợp)"


def _verification(rng: random.Random) -> str:
    roll = rng.random()
    return "verified" if roll < 0.8 else "unverified" if roll < 0.95 else "disputed"


def _source(rng: random.Random) -> str:
    return SOURCES[0].id if rng.random() < 0.85 else SOURCES[1].id


@dataclass(slots=True)
class Mailbox:
    unit: int
    code: str
    start: int
    end: int


def build_bundle(
    total_units: int, total_assignments: int, seed: int
) -> tuple[Bundle, list[SynthUnit], list[Mailbox]]:
    rng = random.Random(seed)
    units = build_units(total_units, rng)
    unit_rows: list[UnitRow] = []
    assignments: list[AssignmentRow] = []
    links: list[ParentLinkRow] = []
    areas: list[AreaRow] = []
    for u in units:
        uid = unit_id(u.n)
        dissolved = _year(u.dissolved) if u.dissolved else ""
        unit_rows.append(
            UnitRow(
                uid,
                u.echelon,
                _unit_name(u, units),
                _year(u.formed),
                dissolved,
                _source(rng),
                _verification(rng),
                SYNTHETIC_NOTE if u.echelon != "company" else "",
            )
        )
        word = ECHELON_WORD[u.echelon]
        if u.renumbered:
            year, new = u.renumbered
            assignments.append(
                AssignmentRow(
                    uid,
                    "designation",
                    f"{word} {u.number}",
                    _year(u.formed),
                    _year(year),
                    _source(rng),
                    _verification(rng),
                    "",
                )
            )
            assignments.append(
                AssignmentRow(
                    uid,
                    "designation",
                    f"{word} {new}",
                    _year(year),
                    dissolved,
                    _source(rng),
                    _verification(rng),
                    "Số phiên hiệu dùng lại (tổng hợp).",
                )
            )
        else:
            assignments.append(
                AssignmentRow(
                    uid,
                    "designation",
                    f"{word} {u.number}",
                    _year(u.formed),
                    dissolved,
                    _source(rng),
                    _verification(rng),
                    "",
                )
            )
        if u.echelon == "division":
            assignments.append(
                AssignmentRow(
                    uid,
                    "cover_name",
                    f"Công trường {u.number}",
                    "1965",
                    "1976",
                    _source(rng),
                    _verification(rng),
                    "",
                )
            )
        if u.parent >= 0:
            parent = unit_id(u.parent)
            if u.moved:
                year, new_parent = u.moved
                start = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
                links.append(
                    ParentLinkRow(
                        uid,
                        parent,
                        _year(u.formed),
                        _day(start),
                        _source(rng),
                        _verification(rng),
                        "",
                    )
                )
                links.append(
                    ParentLinkRow(
                        uid,
                        unit_id(new_parent),
                        _day(start),
                        dissolved,
                        _source(rng),
                        _verification(rng),
                        "Chuyển trực thuộc (tổng hợp).",
                    )
                )
            else:
                links.append(
                    ParentLinkRow(
                        uid,
                        parent,
                        _year(u.formed),
                        dissolved,
                        _source(rng),
                        _verification(rng),
                        "",
                    )
                )
        if u.echelon in ("division", "regiment"):
            for start, end in ((max(u.formed, 1955), 1968), (1968, 1976)):
                if start < end:
                    areas.append(
                        AreaRow(
                            uid,
                            f"Vùng tổng hợp {rng.randint(1, 60)}",
                            _year(start),
                            _year(end),
                            _source(rng),
                            _verification(rng),
                            "",
                        )
                    )

    # Field mailboxes fill the rest: each unit, in turn, gets the next period of 2–4 years;
    # a number whose period ended may be handed to another unit later (reuse).
    mailboxes: list[Mailbox] = []
    cursor = {u.n: max(u.formed, 1955) for u in units}
    used: set[str] = set()
    retired: list[tuple[int, str]] = []  # (end year, code) free for reuse after that year
    order = list(range(len(units)))
    remaining = total_assignments - len(assignments)
    letters = "ABCDEGHKLMNPQSTVXY"
    for n in itertools.cycle(order):
        if remaining <= 0:
            break
        u = units[n]
        start = cursor[n]
        stop = u.dissolved or 1980
        if start >= stop:
            start = max(u.formed, 1955)
        end = min(start + rng.randint(2, 4), stop)
        if end <= start:
            end = start + 1
        cursor[n] = end
        code = ""
        if retired and rng.random() < 0.2:
            i = rng.randrange(len(retired))
            free_after, candidate = retired[i]
            if free_after <= start:
                code = candidate
                retired[i] = retired[-1]
                retired.pop()
        while not code:
            pair = rng.choice(letters) + rng.choice(letters)
            candidate = f"Hòm thư {rng.randint(10000, 99999)} {pair}"
            if pair != "HT" and candidate not in used:  # "HT" abbreviates "hòm thư" itself
                code = candidate
        used.add(code)
        retired.append((end, code))
        if len(retired) > 5000:
            retired.pop(0)
        mailboxes.append(Mailbox(n, code, start, end))
        assignments.append(
            AssignmentRow(
                unit_id(n),
                "mailbox",
                code,
                _year(start),
                _year(end),
                _source(rng),
                _verification(rng),
                "",
            )
        )
        remaining -= 1

    bundle = Bundle(
        label=f"synthetic-national-{seed}",
        note="Bộ mã tổng hợp cỡ quốc gia cho đo hiệu năng / synthetic national-scale codebook. "
        + SYNTHETIC_NOTE,
        sources=SOURCES,
        units=tuple(unit_rows),
        assignments=tuple(assignments),
        parent_links=tuple(links),
        areas=tuple(areas),
    )
    return bundle, units, mailboxes


# --- the martyr list ------------------------------------------------------------------------

LIST_HEADER = (
    "STT",
    "Mã hồ sơ",
    "Họ và tên",
    "Năm sinh",
    "Quê quán",
    "Đơn vị khi hy sinh",
    "Ngày hy sinh",
)
SEPARATORS = ((", ", 50), ("/", 12), (" - ", 15), (".", 13), (" ", 10))
STRIP = str.maketrans(
    "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ",
    "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd"
    "AAAAAAAAAAAAAAAAAEEEEEEEEEEEIIIIIOOOOOOOOOOOOOOOOOUUUUUUUUUUUYYYYYD",
)


def _weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> str:
    total = sum(w for _, w in choices)
    roll = rng.random() * total
    for value, weight in choices:
        roll -= weight
        if roll < 0:
            return value
    return choices[-1][0]


def _chain_at(units: Sequence[SynthUnit], n: int, year: int) -> list[SynthUnit]:
    chain = [units[n]]
    while chain[-1].parent >= 0:
        u = chain[-1]
        parent = u.moved[1] if u.moved and year >= u.moved[0] else u.parent
        chain.append(units[parent])
    return chain


def _number_at(u: SynthUnit, year: int) -> int:
    return u.renumbered[1] if u.renumbered and year >= u.renumbered[0] else u.number


def _designation(
    rng: random.Random,
    units: Sequence[SynthUnit],
    n: int,
    death: dt.date,
    mailbox_of: dict[int, list[Mailbox]],
) -> str:
    year = death.year
    chain = _chain_at(units, n, year)  # company, battalion, regiment, division, region
    form = rng.random()
    if form < 0.04:
        return rng.choice(("", "KB", "không rõ", "C5, D9, E8888"))  # empty or not in the codebook
    if form < 0.12:
        boxes = [m for m in mailbox_of.get(n, ()) if m.start <= year < m.end]
        if boxes:
            code = boxes[0].code
            return code if rng.random() < 0.6 else code.translate(STRIP)
    if form < 0.17:
        return (
            f"F{_number_at(chain[3], year)}"
            if rng.random() < 0.5
            else (f"Sư đoàn {_number_at(chain[3], year)}")
        )
    spelled = form > 0.72
    depth = 4 if rng.random() < 0.6 else 3 if rng.random() < 0.7 else 5
    parts = chain[:depth]
    if rng.random() < 0.06 and depth > 3:
        parts = [parts[0], *parts[2:]]  # the battalion left out
    if spelled:
        text = ", ".join(f"{ECHELON_WORD[u.echelon]} {_number_at(u, year)}" for u in parts)
        if rng.random() < 0.3:
            text = text.translate(STRIP)
        if rng.random() < 0.15:
            text = text.lower()
        return text
    sep = _weighted(rng, SEPARATORS)
    text = sep.join(f"{ECHELON_LETTER[u.echelon]}{_number_at(u, year)}" for u in parts)
    if rng.random() < 0.12:
        text = text.lower()
    return text


def _date_text(rng: random.Random, death: dt.date) -> str:
    roll = rng.random()
    if roll < 0.05:
        return ""
    if roll < 0.50:
        return f"{death.day}/{death.month}/{death.year}"
    if roll < 0.70:
        return f"{death.day:02d}/{death.month:02d}/{death.year}"
    if roll < 0.77:
        return f"{death.day:02d}-{death.month:02d}-{death.year}"
    if roll < 0.92:
        return str(death.year)
    return f"T{death.month}/{death.year}"


def write_list(
    out: Path, units: Sequence[SynthUnit], mailboxes: Sequence[Mailbox], rows: int, seed: int
) -> None:
    rng = random.Random(seed * 7919 + 17)
    companies = [u.n for u in units if u.echelon == "company"]
    rng.shuffle(companies)
    # Zipf(1.1) over companies: a few very often, a long tail once or never.
    cumulative = list(
        itertools.accumulate(1.0 / (rank**1.1) for rank in range(1, len(companies) + 1))
    )
    total = cumulative[-1]
    mailbox_of: dict[int, list[Mailbox]] = {}
    for m in mailboxes:
        mailbox_of.setdefault(m.unit, []).append(m)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LIST_HEADER)
        for i in range(1, rows + 1):
            n = companies[bisect.bisect_left(cumulative, rng.random() * total)]
            u = units[n]
            first = max(u.formed, 1955)
            last = min(u.dissolved or 1980, 1980)
            if rng.random() < 0.03:  # a death dated outside the unit's life: an anachronism
                first, last = max(1946, first - 6), first
            death = dt.date(rng.randint(first, max(first, last - 1)), 1, 1) + dt.timedelta(
                days=rng.randrange(365)
            )
            writer.writerow(
                (
                    i,
                    f"synthetic-martyr-{i:07d}",
                    f"Liệt sĩ tổng hợp {i:07d}",
                    death.year - rng.randint(17, 35),
                    f"Xã tổng hợp {rng.randint(1, 999)}, Tỉnh tổng hợp {rng.randint(1, 63)}",
                    _designation(rng, units, n, death, mailbox_of),
                    _date_text(rng, death),
                )
            )


# --- bulk load --------------------------------------------------------------------------


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _bound(text: str) -> tuple[dt.date | None, str | None]:
    if not text:
        return None, None
    if len(text) == 4:
        return dt.date(int(text), 1, 1), "year"
    if len(text) == 7:
        return dt.date(int(text[:4]), int(text[5:7]), 1), "month"
    return dt.date.fromisoformat(text), "day"


def load(folder: Path, database_url: str) -> int:
    """Load the bundle at `folder` as a new published edition, fast; returns its number.

    The same rows `load_bundle` would write (match keys by the same parser), but with
    bulk inserts (COPY on PostgreSQL) and no comparison with earlier editions: the
    database must hold no edition with this content.
    """
    from sqlalchemy import func, insert, select

    from app.context import Context
    from app.db import migrate
    from app.db.models import (
        Area,
        Assignment,
        Edition,
        ParentLink,
        Source,
        Unit,
        UnitRevision,
    )
    from app.research.text import search_text
    from app.settings import Settings
    from codebook.bundle import match_key

    context = Context.from_settings(Settings(database_url=database_url, auto_init=False))
    migrate.upgrade(context.engine)
    meta = (folder / "bundle.toml").read_text(encoding="utf-8")
    label = meta.split('label = "', 1)[1].split('"', 1)[0]
    digest = hashlib.sha256()
    for name in sorted(p.name for p in folder.glob("*.csv")):
        digest.update((folder / name).read_bytes())
    keys: dict[str, str] = {}

    def key(code: str) -> str:
        found = keys.get(code)
        if found is None:
            found = keys[code] = match_key(code)
        return found

    def period(r: dict[str, str]) -> dict[str, Any]:
        start, start_p = _bound(r["valid_from"])
        end, end_p = _bound(r["valid_to"])
        return {
            "valid_from": start,
            "valid_from_precision": start_p,
            "valid_to": end,
            "valid_to_precision": end_p,
        }

    with context.session() as session:
        seq = (session.scalar(select(func.max(Edition.seq))) or 0) + 1
        session.add(
            Edition(
                seq=seq,
                label=label,
                status="published",
                published_on=dt.date(2026, 1, 1),
                checksum=digest.hexdigest(),
                note="synthetic",
            )
        )
        session.flush()
        conn = session.connection()
        conn.execute(
            insert(Source),
            [
                {**r, "url": r["url"] or None, "first_edition": seq}
                for r in _rows(folder / "sources.csv")
            ],
        )
        units = list(_rows(folder / "units.csv"))
        _bulk(conn, Unit, [{"id": r["id"], "first_edition": seq} for r in units])
        revisions = []
        for r in units:
            formed, formed_p = _bound(r["formed"])
            dissolved, dissolved_p = _bound(r["dissolved"])
            revisions.append(
                {
                    "unit_id": r["id"],
                    "echelon": r["echelon"],
                    "name": r["name"],
                    "search": search_text(r["name"]),
                    "formed": formed,
                    "formed_precision": formed_p,
                    "dissolved": dissolved,
                    "dissolved_precision": dissolved_p,
                    "source_id": r["source"],
                    "verification": r["verification"],
                    "note": r["note"],
                    "first_edition": seq,
                }
            )
        _bulk(conn, UnitRevision, revisions)

        def attested(r: dict[str, str]) -> dict[str, Any]:
            return {
                "source_id": r["source"],
                "verification": r["verification"],
                "note": r["note"],
                "first_edition": seq,
                **period(r),
            }

        _bulk(
            conn,
            Assignment,
            [
                {
                    "unit_id": r["unit"],
                    "kind": r["kind"],
                    "code": r["code"],
                    "search": search_text(r["code"]),
                    "match_key": key(r["code"]),
                    **attested(r),
                }
                for r in _rows(folder / "assignments.csv")
            ],
        )
        _bulk(
            conn,
            ParentLink,
            [
                {"unit_id": r["unit"], "parent_id": r["parent"], **attested(r)}
                for r in _rows(folder / "parent_links.csv")
            ],
        )
        _bulk(
            conn,
            Area,
            [
                {
                    "unit_id": r["unit"],
                    "area": r["area"],
                    "search": search_text(r["area"]),
                    **attested(r),
                }
                for r in _rows(folder / "areas.csv")
            ],
        )
    if context.engine.dialect.name == "postgresql":
        with (
            context.engine.begin() as conn
        ):  # committed: statistics of a rolled-back ANALYZE are lost
            conn.exec_driver_sql("ANALYZE")
    # And as `codebook import` leaves the codebook's tables: vacuumed, so that their
    # visibility maps let PostgreSQL count a key's rows from the index alone.
    context.refresh_statistics()
    context.close()
    return seq


def _bulk(conn: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows: COPY on PostgreSQL, executemany in slices elsewhere."""
    if not rows:
        return
    table = model.__table__
    if conn.dialect.name == "postgresql":
        columns = list(rows[0])
        raw = conn.connection.driver_connection
        names = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as cp:
            for row in rows:
                cp.write_row([row[c] for c in columns])
        return
    from sqlalchemy import insert

    for start in range(0, len(rows), 50_000):
        conn.execute(insert(table), rows[start : start + 50_000])


# --- command line ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cb = sub.add_parser("codebook", help="write the synthetic codebook bundle")
    cb.add_argument("out", type=Path)
    cb.add_argument("--units", type=int, default=100_000)
    cb.add_argument("--assignments", type=int, default=1_000_000)
    cb.add_argument("--seed", type=int, default=1)
    ls = sub.add_parser("list", help="write the synthetic martyr list (CSV)")
    ls.add_argument("out", type=Path)
    ls.add_argument("--rows", type=int, default=1_150_000)
    ls.add_argument("--units", type=int, default=100_000)
    ls.add_argument("--assignments", type=int, default=1_000_000)
    ls.add_argument("--seed", type=int, default=1)
    ld = sub.add_parser("load", help="bulk-load a synthetic bundle as a published edition")
    ld.add_argument("folder", type=Path)
    ld.add_argument("--database-url", required=True)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.command == "load":
        seq = load(args.folder, args.database_url)
        print(f"loaded edition #{seq} in {time.perf_counter() - started:.1f} s")
        return 0
    bundle, units, mailboxes = build_bundle(args.units, args.assignments, args.seed)
    if args.command == "codebook":
        write_bundle(bundle, args.out)
        print(
            f"codebook: {len(bundle.units)} units, {len(bundle.assignments)} assignments, "
            f"{len(bundle.parent_links)} parent links, {len(bundle.areas)} areas "
            f"in {time.perf_counter() - started:.1f} s → {args.out}"
        )
    else:
        write_list(args.out, units, mailboxes, args.rows, args.seed)
        print(f"list: {args.rows} rows in {time.perf_counter() - started:.1f} s → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
