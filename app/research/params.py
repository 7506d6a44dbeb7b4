"""The questions researchers ask, as checked values: what the listings filter, sort and count.

Built from query parameters by the endpoints (and directly by other callers:
the web pages, the CLI, the benchmark); every bad value becomes InvalidQuery
with a bilingual explanation naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from app.db.models import UNIT_ECHELONS, AssignmentKind, Verification
from app.decode.service import check_text
from app.errors import InvalidDate
from app.parsing import parse
from app.parsing.dates import DateRange, parse_date
from app.parsing.keys import element_keys
from app.research.errors import InvalidQuery
from app.research.text import search_text

DEFAULT_SIZE: Final = 100
MAX_SIZE: Final = 1000
FUZZY_MODES: Final = ("auto", "always", "never")
UNIT_FACETS: Final = ("echelon", "theater", "verification", "decade")
DESIGNATION_FACETS: Final = ("kind", "echelon", "theater", "verification", "decade")
UNIT_SORTS: Final = ("id", "name", "echelon", "formed", "dissolved")
DESIGNATION_SORTS: Final = ("code", "unit", "kind", "valid_from", "valid_to")
UNIT_EXTRAS: Final = ("notes",)
KINDS: Final = tuple(k.value for k in AssignmentKind)
VERIFICATIONS: Final = tuple(v.value for v in Verification)
ECHELONS_ALLOWED: Final = UNIT_ECHELONS
_DECADE: Final = re.compile(r"[12][0-9]{2}0")


def _problem(name: str, detail: str, detail_vi: str) -> InvalidQuery:
    return InvalidQuery(
        f"{name}: {detail}", detail_vi=f"{name}: {detail_vi}", extra={"parameter": name}
    )


def choices(name: str, values: Iterable[str], allowed: Sequence[str]) -> tuple[str, ...]:
    """Repeated or comma-separated values of `name`, each one of `allowed`."""
    picked: list[str] = []
    for raw in values:
        for value in (v.strip() for v in raw.split(",")):
            if not value:
                continue
            if value not in allowed:
                raise _problem(
                    name,
                    f"{value!r} is not one of {', '.join(allowed)}.",
                    f"{value!r} không thuộc {', '.join(allowed)}.",
                )
            if value not in picked:
                picked.append(value)
    return tuple(picked)


def many(values: Iterable[str]) -> tuple[str, ...]:
    """Repeated or comma-separated free values (theatre codes), in order, without repeats."""
    picked: list[str] = []
    for raw in values:
        for value in (v.strip() for v in raw.split(",")):
            if value and value not in picked:
                picked.append(value)
    return tuple(picked)


def date(name: str, text: str | None) -> DateRange | None:
    """A date as records write it (1968, 27/1/1968, 1968-01-27, T1/1968 …): the days it may mean."""
    if text is None or not text.strip():
        return None
    try:
        return parse_date(text)
    except InvalidDate as exc:
        raise _problem(name, exc.detail, exc.detail_vi) from None


def between(name: str, text: str | None) -> DateRange | None:
    """FROM,TO: the days from the first day FROM may mean to the last day TO may mean."""
    if text is None or not text.strip():
        return None
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise _problem(name, "write two dates as FROM,TO.", "hãy viết hai ngày dạng TỪ,ĐẾN.")
    start, end = date(name, parts[0]), date(name, parts[1])
    if start is None or end is None:  # both parts are non-blank, so both parse or raise
        raise _problem(name, "write two dates as FROM,TO.", "hãy viết hai ngày dạng TỪ,ĐẾN.")
    if end.upper <= start.lower:
        raise _problem(name, "TO is before FROM.", "ĐẾN trước TỪ.")
    return DateRange(start.lower, end.upper, start.precision, False, text.strip())


def search(name: str, text: str | None) -> str | None:
    """Search text from what the user typed; it must keep a letter or digit."""
    if text is None or not text.strip():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _problem(
            name, "the text is not valid Unicode.", "văn bản không phải Unicode hợp lệ."
        ) from None
    if len(text) > 200:
        raise _problem(name, "at most 200 characters.", "tối đa 200 ký tự.")
    folded = search_text(text)
    if not folded:
        raise _problem(
            name, "give at least one letter or digit.", "hãy nhập ít nhất một chữ hoặc số."
        )
    return folded


def decades(name: str, values: Iterable[str]) -> tuple[str, ...]:
    picked = many(values)
    for value in picked:
        if value != "unknown" and not _DECADE.fullmatch(value):
            raise _problem(
                name,
                f"{value!r} is not a decade such as 1960, or 'unknown'.",
                f"{value!r} không phải một thập niên như 1960, hay 'unknown'.",
            )
    return picked


def size(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_SIZE
    if text == "max":
        return MAX_SIZE
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_SIZE:
        raise _problem(
            "_size",
            f"a number from 1 to {MAX_SIZE}, or 'max'.",
            f"một số từ 1 đến {MAX_SIZE}, hoặc 'max'.",
        )
    return int(text)


def identifier(name: str, text: str | None) -> str | None:
    """A unit id as given (ids are plain ASCII; NUL is refused by PostgreSQL, so by us)."""
    if text is None or text == "":
        return None
    if "\x00" in text or len(text) > 120:
        raise _problem(name, "not a unit id.", "không phải mã đơn vị.")
    return text


def sort(values: tuple[str | None, str | None], allowed: Sequence[str]) -> tuple[str | None, bool]:
    """(_sort, _sort_desc) → (column, descending); only one of them may be given."""
    ascending, descending = values
    if ascending and descending:
        raise _problem(
            "_sort", "give _sort or _sort_desc, not both.", "chỉ dùng _sort hoặc _sort_desc."
        )
    chosen = ascending or descending
    if chosen is None or chosen == "":
        return None, False
    choices("_sort_desc" if descending else "_sort", [chosen], allowed)
    return chosen, bool(descending)


@dataclass(frozen=True, slots=True)
class Paging:
    size: int = DEFAULT_SIZE
    next: str | None = None


def _view(facets: Sequence[str], extras: Sequence[str], paging: Paging) -> list[tuple[str, str]]:
    size = [("_size", str(paging.size))] if paging.size != DEFAULT_SIZE else []
    return [("_facet", f) for f in facets] + [("_extra", e) for e in extras] + size


@dataclass(frozen=True, slots=True)
class UnitQuery:
    """GET /v1/units: which units, in which order, with which facets."""

    q: str | None = None  # search text (already folded by `search`)
    q_text: str | None = None  # as typed, for links
    q_keys: tuple[str, ...] = ()  # match keys when q reads as one designation ("F9")
    fuzzy: str = "auto"
    echelon: tuple[str, ...] = ()
    active_on: DateRange | None = None
    active_between: DateRange | None = None
    parent: str | None = None
    theater: tuple[str, ...] = ()
    area: str | None = None
    area_text: str | None = None
    verification: tuple[str, ...] = ()
    decade: tuple[str, ...] = ()
    sort: str | None = None
    sort_desc: bool = False
    facets: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    paging: Paging = field(default_factory=Paging)
    in_theater: str | None = None  # GET /v1/theaters/{code}/units: the theatre of the path

    @property
    def when(self) -> DateRange | None:
        return self.active_on or self.active_between

    def params(self) -> list[tuple[str, str]]:
        """The query as URL parameters, in a fixed order (for links and the citation)."""
        out: list[tuple[str, str]] = []
        if self.q_text:
            out.append(("q", self.q_text))
        if self.fuzzy != "auto":
            out.append(("fuzzy", self.fuzzy))
        out += [("echelon", v) for v in self.echelon]
        if self.active_on:
            out.append(("date" if self.in_theater else "active_on", self.active_on.text))
        if self.active_between:
            out.append(("active_between", self.active_between.text))
        if self.parent:
            out.append(("parent", self.parent))
        if not self.in_theater:
            out += [("theater", v) for v in self.theater]
        if self.area_text:
            out.append(("area", self.area_text))
        out += [("verification", v) for v in self.verification]
        out += [("decade", v) for v in self.decade]
        if self.sort:
            out.append(("_sort_desc" if self.sort_desc else "_sort", self.sort))
        return out

    def view_params(self) -> list[tuple[str, str]]:
        """Parameters that shape the answer but not which rows it holds."""
        return _view(self.facets, self.extras, self.paging)


@dataclass(frozen=True, slots=True)
class DesignationQuery:
    """GET /v1/designations: which codes and names, in which order, with which facets."""

    keys: tuple[str, ...] | None = None  # match keys of `code` (as decoding reads it)
    code_text: str | None = None
    code_startswith: str | None = None
    code_startswith_text: str | None = None
    kind: tuple[str, ...] = ()
    valid_on: DateRange | None = None
    unit: str | None = None
    theater: tuple[str, ...] = ()
    echelon: tuple[str, ...] = ()
    verification: tuple[str, ...] = ()
    decade: tuple[str, ...] = ()
    sort: str | None = None
    sort_desc: bool = False
    facets: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    paging: Paging = field(default_factory=Paging)

    @property
    def when(self) -> DateRange | None:
        return self.valid_on

    def params(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if self.code_text is not None:
            out.append(("code", self.code_text))
        if self.code_startswith_text:
            out.append(("code__startswith", self.code_startswith_text))
        out += [("kind", v) for v in self.kind]
        if self.valid_on:
            out.append(("valid_on", self.valid_on.text))
        if self.unit:
            out.append(("unit", self.unit))
        out += [("theater", v) for v in self.theater]
        out += [("echelon", v) for v in self.echelon]
        out += [("verification", v) for v in self.verification]
        out += [("decade", v) for v in self.decade]
        if self.sort:
            out.append(("_sort_desc" if self.sort_desc else "_sort", self.sort))
        return out

    def view_params(self) -> list[tuple[str, str]]:
        return _view(self.facets, self.extras, self.paging)


UNIT_PARAMS: Final = frozenset(
    {
        "q",
        "fuzzy",
        "echelon",
        "active_on",
        "active_between",
        "parent",
        "theater",
        "area",
        "verification",
        "decade",
        "_sort",
        "_sort_desc",
        "_facet",
        "_extra",
        "_size",
        "_next",
        "_format",
        "edition",
    }
)
THEATER_UNIT_PARAMS: Final = (UNIT_PARAMS - {"theater", "active_on"}) | {"date"}
DESIGNATION_PARAMS: Final = frozenset(
    {
        "code",
        "code__startswith",
        "kind",
        "valid_on",
        "unit",
        "theater",
        "echelon",
        "verification",
        "decade",
        "_sort",
        "_sort_desc",
        "_facet",
        "_size",
        "_next",
        "_format",
        "edition",
    }
)
TREE_PARAMS: Final = frozenset({"date", "edition"})
FORMATS: Final = ("json", "csv", "ndjson")


def required(name: str) -> DateRange:
    """A required date left blank."""
    raise _problem(name, "a date is required here.", "cần có ngày ở đây.")


def known_only(names: Iterable[str], allowed: frozenset[str]) -> None:
    """Refuse parameters a listing does not know (a typo would otherwise be silently ignored)."""
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise InvalidQuery(
            f"Unknown parameter(s): {', '.join(unknown)}. Known: {', '.join(sorted(allowed))}.",
            detail_vi=f"Tham số không hợp lệ: {', '.join(unknown)}. "
            f"Các tham số được dùng: {', '.join(sorted(allowed))}.",
            extra={"parameter": unknown[0]},
        )


def output_format(path_format: str | None, param: str | None) -> str:
    """json, csv or ndjson, from the path's suffix (/v1/units.csv) or `_format`."""
    chosen = [f for f in (path_format, param) if f]
    if len(set(chosen)) > 1:
        raise _problem(
            "_format", "the path suffix and _format differ.", "đuôi đường dẫn và _format khác nhau."
        )
    return choices("_format", chosen or ["json"], FORMATS)[0]


def unit_query(
    *,
    q: str | None = None,
    fuzzy: str | None = None,
    echelon: Sequence[str] = (),
    active_on: str | None = None,
    active_between: str | None = None,
    parent: str | None = None,
    theater: Sequence[str] = (),
    area: str | None = None,
    verification: Sequence[str] = (),
    decade: Sequence[str] = (),
    sort_by: str | None = None,
    sort_desc: str | None = None,
    facets: Sequence[str] = (),
    extras: Sequence[str] = (),
    page_size: str | None = None,
    next_token: str | None = None,
) -> UnitQuery:
    """Check the parameters of a units listing."""
    on = date("active_on", active_on)
    span = between("active_between", active_between)
    if on and span:
        raise _problem(
            "active_on",
            "give active_on or active_between, not both.",
            "chỉ dùng active_on hoặc active_between.",
        )
    folded_area = search("area", area)
    column, descending = sort((sort_by, sort_desc), UNIT_SORTS)
    return UnitQuery(
        q=search("q", q),
        q_text=q.strip() if q and q.strip() else None,
        q_keys=designation_keys(q),
        fuzzy=choices("fuzzy", [fuzzy or "auto"], FUZZY_MODES)[0],
        echelon=choices("echelon", echelon, ECHELONS_ALLOWED),
        active_on=on,
        active_between=span,
        parent=identifier("parent", parent),
        theater=many(theater),
        area=folded_area,
        area_text=area.strip() if folded_area and area else None,
        verification=choices("verification", verification, VERIFICATIONS),
        decade=decades("decade", decade),
        sort=column,
        sort_desc=descending,
        facets=choices("_facet", facets, UNIT_FACETS),
        extras=choices("_extra", extras, UNIT_EXTRAS),
        paging=Paging(size(page_size), next_token or None),
    )


def designation_query(
    *,
    code: str | None = None,
    code_startswith: str | None = None,
    kind: Sequence[str] = (),
    valid_on: str | None = None,
    unit: str | None = None,
    theater: Sequence[str] = (),
    echelon: Sequence[str] = (),
    verification: Sequence[str] = (),
    decade: Sequence[str] = (),
    sort_by: str | None = None,
    sort_desc: str | None = None,
    facets: Sequence[str] = (),
    page_size: str | None = None,
    next_token: str | None = None,
) -> DesignationQuery:
    """Check the parameters of a designations listing."""
    column, descending = sort((sort_by, sort_desc), DESIGNATION_SORTS)
    folded_prefix = search("code__startswith", code_startswith)
    return DesignationQuery(
        keys=code_keys(code),
        code_text=code if code and code.strip() else None,
        code_startswith=folded_prefix,
        code_startswith_text=code_startswith.strip() if folded_prefix and code_startswith else None,
        kind=choices("kind", kind, KINDS),
        valid_on=date("valid_on", valid_on),
        unit=identifier("unit", unit),
        theater=many(theater),
        echelon=choices("echelon", echelon, ECHELONS_ALLOWED),
        verification=choices("verification", verification, VERIFICATIONS),
        decade=decades("decade", decade),
        sort=column,
        sort_desc=descending,
        facets=choices("_facet", facets, DESIGNATION_FACETS),
        paging=Paging(size(page_size), next_token or None),
    )


def designation_keys(text: str | None) -> tuple[str, ...]:
    """Match keys of search text that reads as one designation ("F9", "QK5"), else none."""
    if text is None or not text.strip() or len(text) > 200:
        return ()
    parsed = parse(check_text(text))
    if len(parsed.elements) != 1 or parsed.residue:
        return ()
    return tuple(dict.fromkeys(element_keys(parsed.elements[0])))


def code_keys(code: str | None) -> tuple[str, ...] | None:
    """The match keys of a code as records write it ("F9" and "Sư đoàn 9" share one)."""
    if code is None or not code.strip():
        return None
    parsed = parse(check_text(code))
    return tuple(dict.fromkeys(k for e in parsed.elements for k in element_keys(e)))
