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
import contextlib
import csv
import datetime as dt
import io
import itertools
import re
import unicodedata
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

from app.batch.errors import NoDesignationColumn, TableUnreadable
from app.parsing.normalize import fold

Kind = Literal["csv", "xlsx"]
SNIFF_BYTES = 1 << 20
BLOCK_CHARS = 1 << 20  # characters read at once when each line is one row
SLOW_BLOCK_ROWS = 1_000  # rows per block when read row by row
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
class RowBlock:
    """Rows read at once: each as its cells, its text as read without the line ending (""
    in a Windows-1258 file, whose rows are normalised), and, where the file is UTF-8 and
    each line one row, its bytes as read (an output can copy them)."""

    rows: list[list[str]]
    lines: list[str]
    raws: list[bytes] | None

    def extend(self, other: RowBlock) -> None:
        """`other`'s rows after these (their bytes only if both blocks have them)."""
        self.rows.extend(other.rows)
        self.lines.extend(other.lines)
        if self.raws is not None and other.raws is not None:
            self.raws.extend(other.raws)
        else:
            self.raws = None

    def sliced(self, start: int, stop: int | None = None) -> RowBlock:
        raws = self.raws[start:stop] if self.raws is not None else None
        return RowBlock(self.rows[start:stop], self.lines[start:stop], raws)


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

    def row_blocks(
        self, progress: list[int] | None = None, size: int | None = None
    ) -> Iterator[RowBlock]:
        """The rows, a block at a time (`RowBlock`) of `size` characters (BLOCK_CHARS);
        `progress[0]` follows the bytes read.

        A block of whole lines is split and read by the csv module in C, with no Python
        work per row, while each line holds exactly one row. From the first block where
        that does not hold (a quoted line break, a lone carriage return, a line the csv
        module rejects, text that does not decode), the rest of the file is read row by
        row, as the csv module reads a file, and its errors name the line.
        """
        if self.encoding == "cp1258":
            yield from self._row_by_row(0, progress)  # normalised row by row
            return
        done = 0  # lines read in blocks, each one row
        utf8 = self.encoding in ("utf-8", "utf-8-sig")
        size = size or BLOCK_CHARS
        blocks = self._utf8_blocks(size) if utf8 else self._text_blocks(size)
        with contextlib.closing(blocks):
            for text, raw, last, read in blocks:
                found = self._whole_lines(text, raw, last) if text else RowBlock([], [], [])
                if found is None:
                    break
                if progress is not None:
                    progress[0] = read
                if found.rows:
                    yield found
                    done += len(found.rows)
                if last:
                    return
        yield from self._row_by_row(done, progress)

    def _utf8_blocks(self, size: int) -> Generator[tuple[str, bytes, bool, int], None, None]:
        """(text, its bytes, whether it ends the file, bytes read) of blocks of whole lines
        of a UTF-8 file; bytes that do not decode are refused, naming their line."""
        with self.path.open("rb") as raw:
            if raw.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
                raw.seek(0)
            lines = 0  # line endings before the block
            for block, last in _whole_line_chunks(raw.read, size, b"\n"):
                try:
                    text = block.decode("utf-8")
                except UnicodeDecodeError as exc:
                    line = lines + block.count(b"\n", 0, exc.start) + 1
                    raise TableUnreadable(
                        f"Line {line} is not valid {self.encoding} text.",
                        detail_vi=f"Dòng {line} không phải văn bản {self.encoding} hợp lệ.",
                        extra={"line": line, "reason": str(exc)},
                    ) from None
                yield text, block, last, raw.tell()
                lines += block.count(b"\n")

    def _text_blocks(self, size: int) -> Generator[tuple[str, None, bool, int], None, None]:
        """(text, None, whether it ends the file, bytes read) of blocks of whole lines of a
        file in another encoding; stops where the text does not decode."""
        with self.path.open("rb") as raw:
            reader = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            with contextlib.suppress(UnicodeDecodeError):
                for block, last in _whole_line_chunks(reader.read, size, "\n"):
                    yield block, None, last, raw.tell()

    def _whole_lines(self, block: str, raw: bytes | None, last: bool) -> RowBlock | None:
        """`block`'s rows when each of its lines is one row (None: read it by rows).

        `raw`: the block's bytes, if UTF-8; `last`: the block ends the file, so its last
        line may lack a line ending.
        """
        ending = "\n"
        if "\r" in block:
            pairs = block.count("\r\n")
            if block.count("\r") != pairs:
                return None  # a lone carriage return ends a row for the csv module
            if block.count("\n") == pairs:
                ending = "\r\n"  # every line ends so (Excel's way): split there, no copy
            else:
                block = block.replace("\r\n", "\n")
                if raw is not None:
                    raw = raw.replace(b"\r\n", b"\n")
        lines = block.split(ending)
        raws = raw.split(ending.encode()) if raw is not None else None
        if not lines[-1]:
            lines.pop()  # the text after the last line ending
            if raws is not None:
                raws.pop()
        elif not last:
            return None  # only the file's last line may lack its line ending
        try:
            rows = list(csv.reader(lines, delimiter=self.delimiter, strict=True))
        except csv.Error:
            return None
        if len(rows) != len(lines):
            return None  # a quoted field held a line break
        return RowBlock(rows, lines, raws)

    def _row_by_row(self, skip: int, progress: list[int] | None) -> Iterator[RowBlock]:
        """The rows after the first `skip` lines (read already, each one row), one by one."""
        nfc = self.encoding == "cp1258"  # tone marks come as combining characters
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            taken: list[str] = []

            def lines() -> Iterator[str]:
                for line in text:
                    taken.append(line)
                    yield line

            reader = csv.reader(lines(), delimiter=self.delimiter, strict=True)
            rows: list[list[str]] = []
            texts: list[str] = []
            try:
                for _ in itertools.islice(text, skip):
                    pass
                for row in reader:
                    line = taken[0] if len(taken) == 1 else "".join(taken)
                    taken.clear()
                    if nfc:
                        row = [unicodedata.normalize("NFC", c) for c in row]
                        line = ""
                    rows.append(row)
                    texts.append(line.rstrip("\r\n"))
                    if len(rows) >= SLOW_BLOCK_ROWS:
                        if progress is not None:
                            progress[0] = raw.tell()
                        yield RowBlock(rows, texts, None)
                        rows, texts = [], []
                if progress is not None:
                    progress[0] = raw.tell()
                if rows:
                    yield RowBlock(rows, texts, None)
            except csv.Error as exc:
                line_num = skip + reader.line_num
                raise TableUnreadable(
                    f"Line {line_num} is not valid CSV: {exc}.",
                    detail_vi=f"Dòng {line_num} không đúng định dạng CSV: {exc}.",
                    extra={"line": line_num},
                ) from None
            except UnicodeDecodeError as exc:
                line_num = skip + reader.line_num
                raise TableUnreadable(
                    f"Near line {line_num} the file is not valid {self.encoding} text.",
                    detail_vi=f"Gần dòng {line_num}, tệp không phải văn bản "
                    f"{self.encoding} hợp lệ.",
                    extra={"line": line_num, "reason": str(exc)},
                ) from None


AnyStr_ = TypeVar("AnyStr_", str, bytes)


def _whole_line_chunks(
    read: Callable[[int], AnyStr_], size: int, newline: AnyStr_
) -> Iterator[tuple[AnyStr_, bool]]:
    """What `read` gives, `size` at a time, cut after the last line ending of each read
    (the rest goes with the next one): (the block, whether it ends the input)."""
    carry = newline[:0]
    while True:
        data = read(size)
        block = carry + data
        cut = block.rfind(newline) + 1 if data else len(block)
        yield block[:cut], not data
        if not data:
            return
        carry = block[cut:]


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
