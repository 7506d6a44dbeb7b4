"""Codebook bundles: read, validate and write the CSV folder format (see README.md here).

Pure: no database. A `Bundle` is one edition's full content; its `checksum`
is taken over a canonical rendering, so the same content always gives the
same checksum whether it came from files or from the database.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tomllib
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from app.db.models import (
    UNIT_ECHELONS,
    AssignmentKind,
    Reliability,
    SourceKind,
    Verification,
)
from app.errors import BundleInvalid
from app.parsing import parse
from app.parsing.dates import parse_bound
from app.parsing.keys import element_keys

SAMPLE_BUNDLE = Path(__file__).resolve().parent / "sample"
META = "bundle.toml"
# A label names an edition in URLs and citations; all digits would read as a sequence number.
LABEL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# An uploaded bundle, unpacked, may not exceed this (the national codebook is ~10^6 rows).
MAX_BUNDLE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True, order=True)
class SourceRow:
    id: str
    kind: str
    citation: str
    url: str
    reliability: str
    note: str


@dataclass(frozen=True, slots=True, order=True)
class UnitRow:
    id: str
    echelon: str
    name: str
    formed: str
    dissolved: str
    source: str
    verification: str
    note: str


@dataclass(frozen=True, slots=True, order=True)
class AssignmentRow:
    unit: str
    kind: str
    code: str
    valid_from: str
    valid_to: str
    source: str
    verification: str
    note: str


@dataclass(frozen=True, slots=True, order=True)
class ParentLinkRow:
    unit: str
    parent: str
    valid_from: str
    valid_to: str
    source: str
    verification: str
    note: str


@dataclass(frozen=True, slots=True, order=True)
class AreaRow:
    unit: str
    area: str
    valid_from: str
    valid_to: str
    source: str
    verification: str
    note: str


Row = SourceRow | UnitRow | AssignmentRow | ParentLinkRow | AreaRow
R = TypeVar("R", SourceRow, UnitRow, AssignmentRow, ParentLinkRow, AreaRow)

FILES: tuple[tuple[str, type[Row]], ...] = (
    ("sources.csv", SourceRow),
    ("units.csv", UnitRow),
    ("assignments.csv", AssignmentRow),
    ("parent_links.csv", ParentLinkRow),
    ("areas.csv", AreaRow),
)


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int  # 1-based line in the file; 0 for the file as a whole
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Bundle:
    label: str
    note: str
    sources: tuple[SourceRow, ...]
    units: tuple[UnitRow, ...]
    assignments: tuple[AssignmentRow, ...]
    parent_links: tuple[ParentLinkRow, ...]
    areas: tuple[AreaRow, ...]

    def tables(self) -> dict[str, Sequence[Row]]:
        return {
            "sources.csv": self.sources,
            "units.csv": self.units,
            "assignments.csv": self.assignments,
            "parent_links.csv": self.parent_links,
            "areas.csv": self.areas,
        }

    @property
    def checksum(self) -> str:
        """SHA-256 of the content (not the label): equal content, equal checksum."""
        digest = hashlib.sha256()
        for name, rows in self.tables().items():
            digest.update(name.encode())
            digest.update(render_csv(type_of(name), sorted(rows)).encode())
        return digest.hexdigest()


def type_of(filename: str) -> type[Row]:
    return dict(FILES)[filename]


def render_csv(row_type: type[Row], rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f.name for f in fields(row_type)])
    writer.writerows(astuple(r) for r in rows)
    return out.getvalue()


def bundle_files(bundle: Bundle) -> dict[str, str]:
    """The files of `bundle` by name; rows sorted so equal content gives equal files."""
    meta = f"label = {_toml_str(bundle.label)}\nnote = {_toml_str(bundle.note)}\n"
    files = {META: meta}
    for name, rows in bundle.tables().items():
        files[name] = render_csv(type_of(name), sorted(rows))
    return files


def write_bundle(bundle: Bundle, folder: Path) -> None:
    """Write `bundle` as a folder; rows sorted so equal content gives equal files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in bundle_files(bundle).items():
        (folder / name).write_bytes(text.encode("utf-8"))


def bundle_zip(bundle: Bundle) -> bytes:
    """The bundle as a zip of its files, byte for byte the same for the same bundle."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in bundle_files(bundle).items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"), compresslevel=9)
    return out.getvalue()


def label_problem(label: str) -> str | None:
    """Why `label` cannot name an edition, or None if it can."""
    if not LABEL_PATTERN.fullmatch(label):
        return (
            f"{label!r} is not a label: 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if label.isdigit():
        return f"{label!r} is all digits and would read as an edition number; add a letter or dot"
    return None


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def read_bundle(folder: Path, *, label: str | None = None) -> Bundle:
    """Read and validate a bundle folder. Raises BundleInvalid listing every problem."""
    if not folder.is_dir():
        raise BundleInvalid(
            f"{folder} is not a folder",
            detail_vi=f"{folder} không phải là một thư mục",
            extra={"problems": [Problem(str(folder), 0, "", "not a folder").to_json()]},
        )
    files = {}
    for name in (META, *dict(FILES)):
        if (folder / name).is_file():
            files[name] = (folder / name).read_bytes()
    return bundle_from_files(files, label=label)


def bundle_from_zip(data: bytes, *, label: str | None = None) -> Bundle:
    """Read and validate a zipped bundle: its files at the top or in one folder."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _invalid([Problem("(upload)", 0, "", f"not a zip file: {exc}")]) from None
    wanted = {META, *dict(FILES)}
    chosen: dict[str, zipfile.ZipInfo] = {}
    problems: list[Problem] = []
    for member in members:
        name = member.filename.rsplit("/", 1)[-1]
        if name not in wanted:
            continue  # notes and other files travel with bundles and are not read
        if name in chosen:
            problems.append(Problem(name, 0, "", "appears twice in the zip file"))
        chosen[name] = member
    if sum(m.file_size for m in chosen.values()) > MAX_BUNDLE_BYTES:
        problems.append(
            Problem("(upload)", 0, "", f"unpacks to more than {MAX_BUNDLE_BYTES} bytes")
        )
    if problems:
        raise _invalid(problems)
    try:
        files = {name: archive.read(member) for name, member in chosen.items()}
    except (zipfile.BadZipFile, NotImplementedError, OSError) as exc:
        raise _invalid([Problem("(upload)", 0, "", f"cannot unpack: {exc}")]) from None
    return bundle_from_files(files, label=label)


def bundle_from_json(document: Any, *, label: str | None = None) -> Bundle:
    """Read and validate a bundle sent as JSON: {"files": {"units.csv": "…", …}}."""
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        raise _invalid(
            [Problem("(upload)", 0, "files", 'expected {"files": {file name: CSV text}}')]
        )
    return bundle_from_files(files, label=label)


def bundle_from_files(files: Mapping[str, bytes | str], *, label: str | None = None) -> Bundle:
    """Read and validate a bundle given as file contents by name (bundle.toml, sources.csv …)."""
    problems: list[Problem] = []
    meta: dict[str, Any] = {}
    raw_meta = files.get(META)
    if raw_meta is not None:
        try:
            text = raw_meta.decode("utf-8") if isinstance(raw_meta, bytes) else raw_meta
            meta = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(Problem(META, 0, "", f"not valid TOML: {exc}"))
    edition_label = label or str(meta.get("label") or "")
    if not edition_label:
        problems.append(Problem(META, 0, "label", "an edition label is required"))
    elif (why := label_problem(edition_label)) is not None:
        problems.append(Problem(META, 0, "label", why))

    tables: dict[str, list[tuple[int, Row]]] = {}
    for name, row_type in FILES:
        tables[name] = _read_table(files.get(name), name, row_type, problems)

    bundle = Bundle(
        label=edition_label,
        note=str(meta.get("note") or ""),
        sources=tuple(r for _, r in tables["sources.csv"] if isinstance(r, SourceRow)),
        units=tuple(r for _, r in tables["units.csv"] if isinstance(r, UnitRow)),
        assignments=tuple(r for _, r in tables["assignments.csv"] if isinstance(r, AssignmentRow)),
        parent_links=tuple(
            r for _, r in tables["parent_links.csv"] if isinstance(r, ParentLinkRow)
        ),
        areas=tuple(r for _, r in tables["areas.csv"] if isinstance(r, AreaRow)),
    )
    problems.extend(_check_rows(tables))
    if problems:
        raise _invalid(problems)
    return bundle


def _invalid(problems: Sequence[Problem]) -> BundleInvalid:
    return BundleInvalid(
        f"The bundle has {len(problems)} problem(s); nothing was imported.",
        detail_vi=f"Gói dữ liệu có {len(problems)} lỗi; không có gì được nhập.",
        extra={"problems": [p.to_json() for p in problems]},
    )


def _read_table(
    raw: bytes | str | None, name: str, row_type: type[Row], problems: list[Problem]
) -> list[tuple[int, Row]]:
    columns = [f.name for f in fields(row_type)]
    if raw is None:
        problems.append(Problem(name, 0, "", "file is missing"))
        return []
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw.removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, 0, "", f"not UTF-8 text: {exc}"))
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = reader.fieldnames or []
    missing = [c for c in columns if c not in header]
    unknown = [c for c in header if c not in columns]
    for column in missing:
        problems.append(Problem(name, 1, column, "required column is missing"))
    for column in unknown:
        problems.append(Problem(name, 1, column, "unknown column"))
    if missing:
        return []
    rows: list[tuple[int, Row]] = []
    try:
        for record in reader:
            line = reader.line_num
            if None in record or any(v is None for v in record.values()):
                problems.append(Problem(name, line, "", "wrong number of fields"))
                continue
            values = {c: (record[c] or "").strip() for c in columns}
            rows.append((line, row_type(**values)))
    except csv.Error as exc:
        problems.append(Problem(name, reader.line_num, "", f"malformed CSV: {exc}"))
    return rows


def check_bundle(bundle: Bundle, *, parse_codes: bool = True) -> list[Problem]:
    """Every problem of a bundle built in memory, placed on the lines of its exported files.

    `parse_codes=False` skips re-parsing codes, for content whose match keys were
    computed when it was written (the slow part on a national-size codebook).
    """
    tables: dict[str, list[tuple[int, Row]]] = {
        name: [(line, row) for line, row in enumerate(sorted(rows), start=2)]
        for name, rows in bundle.tables().items()
    }
    return _check_rows(tables, parse_codes=parse_codes)


def _check_rows(
    tables: dict[str, list[tuple[int, Row]]], *, parse_codes: bool = True
) -> list[Problem]:
    problems: list[Problem] = []
    source_ids = _unique_ids("sources.csv", tables["sources.csv"], problems)
    unit_ids = _unique_ids("units.csv", tables["units.csv"], problems)

    def need(file: str, line: int, column: str, value: str, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        if value not in allowed:
            problems.append(
                Problem(file, line, column, f"{value!r} is not one of: {', '.join(allowed)}")
            )

    def ref(file: str, line: int, column: str, value: str, known: set[str], what: str) -> None:
        if not value:
            problems.append(Problem(file, line, column, "is required"))
        elif value not in known:
            problems.append(Problem(file, line, column, f"unknown {what} {value!r}"))

    def period(file: str, line: int, start_col: str, start: str, end_col: str, end: str) -> None:
        bounds = []
        for column, value in ((start_col, start), (end_col, end)):
            try:
                bounds.append(parse_bound(value))
            except ValueError:
                problems.append(
                    Problem(file, line, column, f"{value!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
                )
                return
        lower, upper = bounds
        if lower and upper and lower[0] >= upper[0]:
            problems.append(Problem(file, line, end_col, f"{end!r} is not after {start!r}"))

    for line, row in tables["sources.csv"]:
        assert isinstance(row, SourceRow)
        need("sources.csv", line, "kind", row.kind, SourceKind)
        need("sources.csv", line, "reliability", row.reliability, Reliability)
        if not row.citation:
            problems.append(Problem("sources.csv", line, "citation", "is required"))

    for file in ("units.csv", "assignments.csv", "parent_links.csv", "areas.csv"):
        seen: dict[Row, int] = {}
        for line, row in tables[file]:
            if row in seen:
                problems.append(Problem(file, line, "", f"duplicate of line {seen[row]}"))
            seen.setdefault(row, line)
            assert not isinstance(row, SourceRow)
            ref(file, line, "source", row.source, source_ids, "source")
            need(file, line, "verification", row.verification, Verification)

    for line, row in tables["units.csv"]:
        assert isinstance(row, UnitRow)
        need("units.csv", line, "echelon", row.echelon, UNIT_ECHELONS)
        if not row.name:
            problems.append(Problem("units.csv", line, "name", "is required"))
        period("units.csv", line, "formed", row.formed, "dissolved", row.dissolved)

    for line, row in tables["assignments.csv"]:
        assert isinstance(row, AssignmentRow)
        ref("assignments.csv", line, "unit", row.unit, unit_ids, "unit")
        need("assignments.csv", line, "kind", row.kind, AssignmentKind)
        period("assignments.csv", line, "valid_from", row.valid_from, "valid_to", row.valid_to)
        if not parse_codes:
            continue
        try:
            match_key(row.code)
        except ValueError as exc:
            problems.append(Problem("assignments.csv", line, "code", str(exc)))

    for line, row in tables["parent_links.csv"]:
        assert isinstance(row, ParentLinkRow)
        ref("parent_links.csv", line, "unit", row.unit, unit_ids, "unit")
        ref("parent_links.csv", line, "parent", row.parent, unit_ids, "unit")
        if row.unit and row.unit == row.parent:
            problems.append(
                Problem("parent_links.csv", line, "parent", "a unit is not its own parent")
            )
        period("parent_links.csv", line, "valid_from", row.valid_from, "valid_to", row.valid_to)

    for line, row in tables["areas.csv"]:
        assert isinstance(row, AreaRow)
        ref("areas.csv", line, "unit", row.unit, unit_ids, "unit")
        if not row.area:
            problems.append(Problem("areas.csv", line, "area", "is required"))
        period("areas.csv", line, "valid_from", row.valid_from, "valid_to", row.valid_to)
    return problems


def _unique_ids(file: str, rows: list[tuple[int, Row]], problems: list[Problem]) -> set[str]:
    seen: dict[str, int] = {}
    for line, row in rows:
        assert isinstance(row, SourceRow | UnitRow)
        if not row.id:
            problems.append(Problem(file, line, "id", "is required"))
        elif row.id in seen:
            problems.append(Problem(file, line, "id", f"{row.id!r} already on line {seen[row.id]}"))
        else:
            seen[row.id] = line
    return set(seen)


def match_key(code: str) -> str:
    """The one match key of a codebook code; ValueError if it is not exactly one designation."""
    result = parse(code)
    keyed = [(e, element_keys(e)) for e in result.elements]
    keyed = [(e, k) for e, k in keyed if k]
    if result.residue:
        raise ValueError(
            f"{code!r}: part not understood: {', '.join(repr(r.text) for r in result.residue)}"
        )
    if len(keyed) != 1 or len(keyed[0][1]) != 1:
        raise ValueError(f"{code!r} must name exactly one unit, code or mailbox")
    return keyed[0][1][0]
