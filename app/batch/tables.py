"""Martyr lists as files: CSV and XLSX read as streams of rows, written back with columns added.

CSV comes as Excel and other tools write it: UTF-8 with or without a BOM,
UTF-16 with a BOM ("Unicode text", tab-separated), or Windows-1258 when it is
not UTF-8; the delimiter (comma, semicolon, tab, bar) is taken from the header.
XLSX is read and written in openpyxl's streaming modes, never loaded whole.
Every cell written is safe to open in Excel: text that starts with = + - @ (or a
tab or carriage return) would run as a formula, so it gets a leading apostrophe
(plain numbers such as -5 are left alone).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from app.batch.errors import NoDesignationColumn, TableUnreadable
from app.parsing.normalize import fold

Kind = Literal["csv", "xlsx"]
SNIFF_BYTES = 1 << 20
HEADER_SEARCH_ROWS = 30  # title rows ("DANH SÁCH LIỆT SĨ …") may stand above the header
DELIMITERS = (",", ";", "\t", "|")

# Headers seen on martyr lists, folded (no diacritics, lower case); earlier wins.
DESIGNATION_HEADERS = (
    "don vi khi hy sinh",
    "don vi khi hi sinh",
    "don vi hy sinh",
    "don vi hi sinh",
    "don vi",
    "phien hieu don vi",
    "phien hieu",
    "ky hieu don vi",
    "ky hieu",
    "don vi cong tac",
    "don vi (phien hieu)",
    "designation",
    "unit",
)
DATE_HEADERS = (
    "ngay hy sinh",
    "ngay hi sinh",
    "ngay thang nam hy sinh",
    "ngay, thang, nam hy sinh",
    "ngay/thang/nam hy sinh",
    "hy sinh ngay",
    "thoi gian hy sinh",
    "nam hy sinh",
    "nam hi sinh",
    "date of death",
    "date",
)

_DANGER = frozenset("=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*")


def neutralize(value: str) -> str:
    """Text Excel would run as a formula gets a leading apostrophe (CSV/formula injection)."""
    if value and value[0] in _DANGER and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _header_key(value: Any) -> str:
    text = fold(str(value)) if value is not None else ""
    return re.sub(r"[\s:*.]+", " ", text).strip(" ")


def _find(
    headers: Sequence[Any], wanted: str | None, known: Sequence[str], fuzzy: Any
) -> int | None:
    keys = [_header_key(h) for h in headers]
    if wanted is not None:
        stripped = wanted.strip()
        if stripped.isdigit() and 1 <= int(stripped) <= len(headers):
            return int(stripped) - 1
        target = _header_key(stripped)
        return keys.index(target) if target in keys else None
    for name in known:
        if name in keys:
            return keys.index(name)
    for i, key in enumerate(keys):
        if fuzzy(key):
            return i
    return None


def _looks_like_designation(key: str) -> bool:
    return ("don vi" in key or "phien hieu" in key) and "noi" not in key.split()


def _looks_like_date(key: str) -> bool:
    words = key.split()
    return ("hy sinh" in key or "hi sinh" in key) and ("ngay" in words or "nam" in words)


@dataclass(slots=True)
class Layout:
    """Where the header is and which columns hold the designation and the date."""

    header_row: int  # 0-based index among the rows read
    width: int
    designation: int
    date: int | None
    headers: list[str] = field(default_factory=list)


def find_layout(
    rows: Sequence[Sequence[Any]], column: str | None, date_column: str | None
) -> Layout:
    """The header row (the first of the first rows naming a designation column) and columns."""
    if not rows:
        raise TableUnreadable("The file is empty.", detail_vi="Tệp trống, không có dòng nào.")
    seen: list[str] = []
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if not any(c not in (None, "") for c in row):
            continue
        where = _find(row, column, DESIGNATION_HEADERS, _looks_like_designation)
        if where is None:
            seen.append(" | ".join(str(c) for c in row if c not in (None, ""))[:200])
            if column is not None and column.strip().isdigit():
                break  # a column number needs no header: take the first non-empty row
            continue
        when = _find(row, date_column, DATE_HEADERS, _looks_like_date)
        if date_column is not None and when is None:
            raise NoDesignationColumn(
                f"No column {date_column!r} in the header: {' | '.join(map(str, row))}.",
                detail_vi=f"Không có cột {date_column!r} trong dòng tiêu đề: "
                f"{' | '.join(map(str, row))}.",
            )
        headers = ["" if c is None else str(c) for c in row]
        return Layout(index, len(row), where, when, headers)
    asked = f"column {column!r}" if column else "designation column"
    asked_vi = f"cột {column!r}" if column else "cột đơn vị / phiên hiệu"
    first = seen[0] if seen else "(no header)"
    raise NoDesignationColumn(
        f"Found no {asked} (headers such as 'Đơn vị', 'Đơn vị khi hy sinh', 'Phiên hiệu'); "
        f"the first row reads: {first}. Name the column with --column / column=.",
        detail_vi=f"Không tìm thấy {asked_vi} (tiêu đề như 'Đơn vị', 'Đơn vị khi hy sinh', "
        f"'Phiên hiệu'); dòng đầu là: {first}. Hãy chỉ rõ cột bằng --column / column=.",
    )


# --- CSV ----------------------------------------------------------------------------------


def detect_encoding(head: bytes) -> str:
    """utf-8-sig / utf-16 by BOM, utf-8 if it decodes, else Windows-1258 (Vietnamese ANSI)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not merely a character cut at the end of the sample
            return "cp1258"
    return "utf-8"


def sniff_delimiter(sample: str) -> str:
    """The delimiter most used on the first lines outside quotes."""
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    unquoted = [re.sub(r'"[^"]*"', "", line) for line in lines]
    best = max(DELIMITERS, key=lambda d: (sum(u.count(d) for u in unquoted), -DELIMITERS.index(d)))
    return best if any(best in u for u in unquoted) else ","


@dataclass(slots=True)
class CsvSource:
    path: Path
    encoding: str = "utf-8"
    delimiter: str = ","

    @classmethod
    def open(cls, path: Path) -> CsvSource:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        if not head.strip():
            raise TableUnreadable("The file is empty.", detail_vi="Tệp trống, không có dòng nào.")
        encoding = detect_encoding(head)
        sample = head.decode(encoding, errors="ignore")
        return cls(path, encoding, sniff_delimiter(sample))

    def rows_and_lines(self, progress: list[int] | None = None) -> Iterator[tuple[list[str], str]]:
        """Rows as lists of str, each with the text it was read from (its line or lines, as
        decoded); `progress[0]` follows the bytes read.

        The text is for an output that keeps a row's original columns as they were
        written; rows of a Windows-1258 file are normalised, so they come with "".
        """
        nfc = self.encoding == "cp1258"  # tone marks come as combining characters
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            taken: list[str] = []

            def lines() -> Iterator[str]:
                for line in text:
                    taken.append(line)
                    yield line

            reader = csv.reader(lines(), delimiter=self.delimiter, strict=True)
            try:
                for row in reader:
                    # The position every few hundred rows: a tell() per row was ~1 s of a
                    # national list.
                    if progress is not None and not reader.line_num & 0xFF:
                        progress[0] = raw.tell()
                    line = taken[0] if len(taken) == 1 else "".join(taken)
                    taken.clear()
                    if nfc:
                        row = [unicodedata.normalize("NFC", c) for c in row]
                        line = ""
                    yield row, line
                if progress is not None:
                    progress[0] = raw.tell()
            except csv.Error as exc:
                raise TableUnreadable(
                    f"Line {reader.line_num} is not valid CSV: {exc}.",
                    detail_vi=f"Dòng {reader.line_num} không đúng định dạng CSV: {exc}.",
                    extra={"line": reader.line_num},
                ) from None
            except UnicodeDecodeError as exc:
                raise TableUnreadable(
                    f"Near line {reader.line_num} the file is not valid {self.encoding} text.",
                    detail_vi=f"Gần dòng {reader.line_num}, tệp không phải văn bản "
                    f"{self.encoding} hợp lệ.",
                    extra={"line": reader.line_num, "reason": str(exc)},
                ) from None


class CsvSink:
    """Writes UTF-8 with a BOM (Excel then reads Vietnamese right), the input's delimiter."""

    def __init__(self, handle: IO[str], delimiter: str) -> None:
        self._writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")

    def write(self, row: Sequence[Any]) -> None:
        self._writer.writerow(row)


# --- XLSX ---------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as the text a record would write: dates as d/m/yyyy, whole numbers without .0."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return f"{value.day}/{value.month}/{value.year}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@contextmanager
def xlsx_book(path: Path) -> Iterator[Any]:
    """The workbook in read-only (streaming) mode, cached values instead of formulas.

    Opened from a file object, so a workbook is read whatever its file is called.
    """
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    with path.open("rb") as handle:
        try:
            book = load_workbook(handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            raise TableUnreadable(
                f"The file is not a readable XLSX workbook: {exc}.",
                detail_vi=f"Tệp không phải sổ tính XLSX đọc được: {exc}.",
            ) from None
        try:
            yield book
        finally:
            book.close()


def sniff_kind(path: Path, name: str | None = None) -> Kind:
    """XLSX by its zip signature, else CSV (whatever the file is called)."""
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PK\x03\x04":
        return "xlsx"
    if (name or path.name).lower().endswith((".xls",)) and magic.startswith(b"\xd0\xcf"):
        raise TableUnreadable(
            "Old Excel .xls files are not read; save the list as .xlsx or CSV.",
            detail_vi="Không đọc tệp Excel .xls cũ; hãy lưu danh sách thành .xlsx hoặc CSV.",
        )
    return "csv"
