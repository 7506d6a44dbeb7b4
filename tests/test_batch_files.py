"""Martyr lists as files, on SQLite and PostgreSQL: encodings, layouts, safety, reuse of work.

The rows come from data/decode_golden.jsonl: every decoded row must say what a single
decode of the same designation and date says.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import event

from app.batch import service, tables
from app.batch.errors import BatchWorkerFailed, NoDesignationColumn, TableUnreadable
from app.batch.rows import DECODE_COLUMNS, RowDecoder, summarize
from app.batch.service import _formula_rows, _kept_as_written, decode_file, decode_table
from app.batch.tables import (
    CsvSource,
    detect_encoding,
    find_layout,
    neutralize,
    sniff_delimiter,
)
from app.context import Context, collect_rarely
from app.decode.resolver import resolve
from app.decode.service import answer_json, chosen_edition, decode
from app.errors import PhienhieuError
from app.parsing import parse
from app.parsing.dates import parse_date

DATA = Path(__file__).parent / "data"


def _jsonl(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


GOLDEN = _jsonl("decode_golden.jsonl")
HEADERS = _jsonl("batch_headers.jsonl")
NEUTRALIZE = _jsonl("batch_neutralize.jsonl")
HEADER = ["STT", "Họ và tên", "Đơn vị khi hy sinh", "Ngày hy sinh"]
STATUS = DECODE_COLUMNS.index("Giải mã: trạng thái (status)")


def _rows() -> list[list[str]]:
    return [
        [str(i), f"Liệt sĩ mẫu {i}", case["text"], case["date"] or ""]
        for i, case in enumerate(GOLDEN, 1)
    ]


def _expected(context: Context) -> list[str]:
    out = []
    for case in GOLDEN:
        with context.session() as session:
            out.append(decode(context, session, case["text"], case["date"], None)["status"])
    return out


def _cp1258(text: str) -> bytes:
    """Vietnamese as Windows-1258 writes it: base letters with the tone as a combining mark."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], list(decomposed[1:])
        shape = [m for m in marks if m in "\u0302\u0306\u031b"]  # â ă ơ keep their shape
        tone = [m for m in marks if m not in shape]
        out += unicodedata.normalize("NFC", base + "".join(shape)).encode("cp1258")
        out += "".join(tone).encode("cp1258")
    return bytes(out)


def _csv(rows: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=sniff_delimiter(path.read_text("utf-8-sig"))))


ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: text.encode("utf-8-sig"),
    "utf-16 (Excel's Unicode text)": lambda text: text.encode("utf-16"),
    "windows-1258": _cp1258,
}


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_list_decodes_as_single_decodes_do(
    sample_context: Context, tmp_path: Path, encoding: str, delimiter: str
) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(ENCODINGS[encoding](_csv([HEADER, *_rows()], delimiter)))
    summary = decode_table(sample_context, source, out)
    written = _read_csv(out)
    assert written[0] == HEADER + list(DECODE_COLUMNS)
    assert [r[:4] for r in written[1:]] == _rows()  # every original cell kept, in order
    assert [r[4 + STATUS] for r in written[1:]] == _expected(sample_context)
    assert summary.rows == len(GOLDEN)
    assert sum(summary.statuses.values()) == len(GOLDEN)
    assert summary.designation_column == "Đơn vị khi hy sinh"
    assert summary.date_column == "Ngày hy sinh"


def test_xlsx_list_keeps_cells_and_sheets(sample_context: Context, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Danh sách"
    sheet.append(["DANH SÁCH LIỆT SĨ (mẫu)"])
    sheet.append(HEADER)
    for row in _rows():
        sheet.append([int(row[0]), row[1], row[2], row[3]])
    notes = book.create_sheet("Ghi chú")
    notes.append([None, 42])
    text_cell = notes.cell(row=1, column=1)
    text_cell.value = "=1+1 typed as text"
    text_cell.data_type = "s"  # text a user typed, which Excel would run if it lost its type
    source, out = tmp_path / "in.xlsx", tmp_path / "out.xlsx"
    book.save(source)
    summary = decode_table(sample_context, source, out)
    result = load_workbook(out, read_only=True)
    assert result.sheetnames == ["Danh sách", "Ghi chú"]
    rows = [list(r) for r in result["Danh sách"].iter_rows(values_only=True)]
    assert rows[0][0] == "DANH SÁCH LIỆT SĨ (mẫu)"
    assert rows[1] == HEADER + list(DECODE_COLUMNS)
    assert [r[0] for r in rows[2:]] == list(range(1, len(GOLDEN) + 1))  # numbers stay numbers
    assert [r[4 + STATUS] for r in rows[2:]] == _expected(sample_context)
    assert [list(r) for r in result["Ghi chú"].iter_rows(values_only=True)] == [
        ["'=1+1 typed as text", 42]
    ]
    result.close()
    assert summary.rows == len(GOLDEN)


def test_formula_prefixed_cells_are_neutralised(sample_context: Context, tmp_path: Path) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    rows = [HEADER, ["1", '=HYPERLINK("http://x","bấm")', "@C9, D6", "=1968"]]
    source.write_text(_csv(rows, ","), "utf-8")
    decode_table(sample_context, source, out)
    written = _read_csv(out)
    assert written[1][:4] == ["1", '\'=HYPERLINK("http://x","bấm")', "'@C9, D6", "'=1968"]
    assert all(not c or c[0] not in "=+-@" for row in written for c in row)


@pytest.mark.parametrize("case", NEUTRALIZE, ids=[c["in"] for c in NEUTRALIZE])
def test_neutralize(case: dict[str, str]) -> None:
    assert neutralize(case["in"]) == case["out"]


@pytest.mark.parametrize("case", HEADERS, ids=[c["case"] for c in HEADERS])
def test_layout_from_headers(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(PhienhieuError) as caught:
            find_layout(case["rows"], case.get("column"), case.get("date_column"))
        assert caught.value.slug == case["error"]
        assert caught.value.detail_vi != caught.value.detail
        return
    layout = find_layout(case["rows"], case.get("column"), case.get("date_column"))
    assert (layout.header_row, layout.designation, layout.date) == (
        case["header_row"],
        case["designation"],
        case["date"],
    )


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", TableUnreadable),
        (b"   \r\n", TableUnreadable),
        ("Họ tên,Quê quán\nA,B\n".encode(), NoDesignationColumn),
        ('Đơn vị,Ngày hy sinh\n"C9, D6,1968\n'.encode(), TableUnreadable),  # quote never closed
        ("Đơn vị,Ngày hy sinh\nC9,1968,x,y\n".encode(), TableUnreadable),  # more cells than header
        (b"PK\x03\x04 not really a workbook", TableUnreadable),
    ],
    ids=["empty", "blank", "no column", "unclosed quote", "row too wide", "broken xlsx"],
)
def test_unreadable_files_are_refused_and_nothing_is_written(
    sample_context: Context, tmp_path: Path, content: bytes, error: type[PhienhieuError]
) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(content)
    with pytest.raises(error) as caught:
        decode_table(sample_context, source, out)
    assert caught.value.detail_vi != caught.value.detail
    assert list(tmp_path.iterdir()) == [source]  # no output, no partial file left behind


def test_trailing_delimiter_and_short_rows_are_accepted(
    sample_context: Context, tmp_path: Path
) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("Đơn vị;Ngày hy sinh;Ghi chú\nCông trường 9;1968;;\nB3\n", "utf-8")
    decode_table(sample_context, source, out)
    written = _read_csv(out)
    assert [r[:3] for r in written[1:]] == [["Công trường 9", "1968", ""], ["B3", "", ""]]
    assert [r[3] for r in written[1:]] == ["resolved", "resolved"]


def test_bad_rows_say_why_and_the_rest_decodes(sample_context: Context, tmp_path: Path) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    rows = [HEADER, ["1", "a", "C" * 501, "1968"], ["2", "b", "B3", "32/13/1970"]]
    rows.append(["3", "c", "Công trường 9", "1968"])
    source.write_text(_csv(rows, ","), "utf-8")
    summary = decode_table(sample_context, source, out)
    written = _read_csv(out)
    assert [r[4] for r in written[1:]] == ["error", "error", "resolved"]
    assert written[1][4 + 6].startswith("input-too-long")
    assert written[2][4 + 6].startswith("invalid-date")
    assert summary.statuses == {"error": 2, "resolved": 1}


def test_unresolved_codes_are_counted_for_curators(sample_context: Context, tmp_path: Path) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    rows = [HEADER] + [[str(i), "x", "KBM", "1968"] for i in range(3)]
    rows += [["9", "y", "kbm", ""], ["10", "z", "Công trường 9", "1968"]]
    source.write_text(_csv(rows, ","), "utf-8")
    summary = decode_table(sample_context, source, out)
    assert summary.top_unresolved() == [("KBM", 4)]


def test_two_workers_write_what_one_writes(sample_context: Context, tmp_path: Path) -> None:
    # Formula-like cells, a short row and unresolved codes, as well as the golden rows.
    extra = [[case["in"], "x", "KBM", "1968"] for case in NEUTRALIZE] + [["7", "y", "Kbm"]]
    source = tmp_path / "in.csv"
    source.write_text(_csv([HEADER, *((_rows() + extra) * 30)], ","), "utf-8")
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    alone = decode_table(sample_context, source, one, workers=1)
    summary = decode_table(sample_context, source, two, workers=2)
    assert summary.workers == 2
    assert one.read_bytes() == two.read_bytes()
    assert summary.statuses == alone.statuses
    assert summary.statuses["unresolved"] >= len(extra) * 30
    assert summary.top_unresolved() == alone.top_unresolved()
    assert summary.top_unresolved()[0][0] == "KBM"  # as first written


@pytest.fixture
def list_process() -> Iterator[None]:
    """This process as `phienhieu batch` makes it (`collect_rarely`), then as it was."""
    thresholds = gc.get_threshold()
    collect_rarely()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        gc.enable()


def test_a_list_process_reads_the_hierarchy_once_for_all_its_workers(
    sample_context: Context, tmp_path: Path, list_process: None
) -> None:
    # In `phienhieu batch`, the whole hierarchy is read in the list's own process and the
    # workers are forked with it: none reads it again. Each statement is noted with the
    # process that ran it (the workers are forked with the engine and its listener).
    log = tmp_path / "statements.log"

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\t{' '.join(statement.split())}\n")

    source = tmp_path / "in.csv"
    source.write_text(_csv([HEADER, *(_rows() * 30)], ","), "utf-8")
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    decode_table(sample_context, source, one, workers=1)
    sample_context.forget_reader(chosen_edition(sample_context, None))  # read anew below
    event.listen(sample_context.engine, "before_cursor_execute", note)
    try:
        summary = decode_table(sample_context, source, two, workers=2)
    finally:
        event.remove(sample_context.engine, "before_cursor_execute", note)
    assert summary.workers == 2
    assert two.read_bytes() == one.read_bytes()
    ran = [line.split("\t", 1) for line in log.read_text("utf-8").splitlines()]
    here = str(os.getpid())
    hierarchy = ("parent_link", "unit_revision", " area")
    assert [s for pid, s in ran if pid == here and "parent_link" in s]  # read here
    assert {pid for pid, s in ran if pid != here and "assignment" in s}  # the rows' codes
    assert not [s for pid, s in ran if pid != here and any(t in s for t in hierarchy)]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_progress_follows_the_rows_written_not_the_bytes_read(
    sample_context: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    # The file is read a block at a time and chunks go to the workers ahead of the rows
    # written: the share of the bytes read alone said 100 % with a fifth of them to go.
    monkeypatch.setattr(tables, "BLOCK_CHARS", 20_000)
    monkeypatch.setattr(service, "CHUNK_ROWS", 100)
    rows = _rows() * 100
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(_csv([HEADER, *rows], ","), "utf-8")
    seen: list[tuple[int, float | None]] = []
    decode_table(
        sample_context, source, out, workers=workers, progress=lambda n, s: seen.append((n, s))
    )
    assert len(seen) > 10
    assert seen[-1] == (len(rows), 1.0)
    for written, share in seen:
        assert share is not None
        assert abs(share - written / len(rows)) < 0.08, (written, share)


def test_two_workers_fill_an_xlsx_list_as_one_does(sample_context: Context, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in [*(_rows() * 20), ["9", "y", "KBM", "1968"]]:
        sheet.append(row)
    source = tmp_path / "in.xlsx"
    book.save(source)
    written = []
    for workers in (1, 2):
        out = tmp_path / f"out-{workers}.xlsx"
        summary = decode_table(sample_context, source, out, workers=workers)
        assert summary.workers == workers
        result = load_workbook(out, read_only=True)
        rows = [list(r) for r in result.worksheets[0].iter_rows(values_only=True)]
        written.append((rows, summary))
        result.close()
    (one, alone), (two, summary) = written
    assert two == one
    assert [r[4 + STATUS] for r in two[1 : 1 + len(GOLDEN)]] == _expected(sample_context)
    assert summary.statuses == alone.statuses
    assert summary.top_unresolved() == alone.top_unresolved()
    assert ("KBM", 1) in summary.top_unresolved()


def test_a_failing_worker_fails_the_list_and_writes_nothing(
    sample_context: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Worker processes are forked from this one, so they inherit the broken step (a module
    # function that is not compiled: compiled code calls its own functions directly).
    def broken(*args: Any) -> None:
        raise PhienhieuError("The codebook cannot be read.", detail_vi="Không đọc được bộ mã.")

    monkeypatch.setattr(service, "_tails", broken)
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(_csv([HEADER, *(_rows() * 30)], ","), "utf-8")
    with pytest.raises(PhienhieuError, match="cannot be read"):
        decode_table(sample_context, source, out, workers=2)
    assert list(tmp_path.iterdir()) == [source]


def test_a_worker_that_dies_fails_the_list_plainly(
    sample_context: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(*args: Any) -> None:
        os._exit(9)  # as the kernel's out-of-memory killer would leave it

    monkeypatch.setattr(service, "_tails", killed)
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(_csv([HEADER, *(_rows() * 30)], ","), "utf-8")
    with pytest.raises(BatchWorkerFailed) as caught:
        decode_table(sample_context, source, out, workers=2)
    assert "--workers 1" in caught.value.detail_vi
    assert list(tmp_path.iterdir()) == [source]


def test_decode_file_in_memory(sample_context: Context) -> None:
    content = _csv([HEADER, *_rows()], ";").encode("utf-8-sig")
    with sample_context.session() as session:
        decoded = decode_file(sample_context, session, "Danh sách.csv", content)
    assert decoded.filename == "Danh sách.giai-ma.csv"
    assert decoded.media_type.startswith("text/csv")
    assert decoded.summary.rows == len(GOLDEN)
    assert decoded.content.startswith(b"\xef\xbb\xbf")


def test_encoding_detection() -> None:
    assert detect_encoding("Đơn vị".encode("utf-8-sig")) == "utf-8-sig"
    assert detect_encoding("Đơn vị".encode("utf-16")) == "utf-16"
    assert detect_encoding("Đơn vị".encode()) == "utf-8"
    assert detect_encoding("Đơn vị".encode()[:-1]) == "utf-8"  # a character cut by the sample
    assert detect_encoding(_cp1258("Đơn vị khi hy sinh, Ngày hy sinh")) == "cp1258"


# --- work done once gives the answers work done each time gives -----------------------------

DATES = [None, "1950", "1962", "1964", "1/1964", "1965", "2/9/1965", "3/9/1965", "27/1/1968"]
DATES += ["1968", "T3/1968", "1972", "1975", "26/3/1975", "25/3/1975", "1976", "1961-1966"]


def test_reused_answers_equal_fresh_ones(sample_context: Context) -> None:
    """Every golden text at many dates, in an order that reuses answers across dates."""
    edition = chosen_edition(sample_context, None)
    rows = RowDecoder(sample_context, edition)
    texts = sorted({c["text"] for c in GOLDEN})
    cases = [(t, d) for d in DATES for t in texts] + [(t, d) for t in texts for d in DATES]
    for text, date in cases:
        with sample_context.session() as session:
            fresh = decode(sample_context, session, text, date, None)
        reused = json.loads(answer_json(sample_context, edition, text, date))
        assert reused == fresh, (text, date)
        when = parse_date(date)
        alone = summarize(resolve(parse(text), when, sample_context.reader(edition)), edition.label)
        assert rows.cells(text, date or "") == alone, (text, date)
    assert rows.resolved < len(cases) / 2  # most answers were reused, not recomputed


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_decode_columns_are_quoted_as_the_csv_module_quotes_them(
    sample_context: Context, delimiter: str
) -> None:
    # A CSV answer's bytes are joined without the csv writer: each field must come out as
    # the csv module writes it, whatever a unit's name or an error's message holds.
    tails = RowDecoder(sample_context, chosen_edition(sample_context, None))._csv_tails(delimiter)
    awkward = ["", " ", "a,b", "a;b", "a\tb", "a|b", 'nói "x"', '"', "dòng\nmới", "a\rb", "x\r\n"]
    awkward += ["Sư đoàn 9 → Quân khu 5", "=1+1", "-", "'", "a b ", "\u00a0", "\x00"]
    for n in range(len(awkward)):
        cells = tuple(awkward[(n + i) % len(awkward)] for i in range(len(DECODE_COLUMNS)))
        expected = (delimiter + _csv([list(cells)], delimiter)).encode()
        assert tails.answer(cells) == (cells[0], expected), cells


def test_rows_of_one_answer_share_one_bytes_object_made_once(sample_context: Context) -> None:
    # A chunk's answer pickles each distinct answer once: rows that decode alike (same
    # signature, dates of one class) must share their decode columns' bytes, made once.
    decoder = RowDecoder(sample_context, chosen_edition(sample_context, None))
    pairs = [("C9, D6", "1970"), ("c9.d6", "1970"), ("C9, D6", "1970"), ("X?", "31/2/1970")] * 2
    outs, statuses, _, whole = decoder.csv_tails(pairs, pairs, ",")
    again, _, _, _ = decoder.csv_tails(pairs, pairs, ",")
    assert decoder.resolved == 1  # one resolution for the six rows that decode alike
    assert outs == again
    assert all(out is outs[0] for out in (outs[1], outs[2], outs[4], again[0]))
    assert outs[3] is outs[7]  # a bad date: its own error answer, shared too
    assert outs[3] is not outs[0]
    expected = [[*decoder.cells(t, d)] for t, d in pairs]
    for out, cells in zip(outs, expected, strict=True):
        assert out.decode() == "," + _csv([cells], ",")
    assert statuses["error"] == 2
    assert sum(statuses.values()) == len(pairs)
    assert not whole


def test_a_signature_resolved_at_another_date_class_is_not_parsed_again(
    sample_context: Context,
) -> None:
    # Texts alike ("E1, F2" and "e1.f2") are one signature, resolved once per class of
    # dates; each text is parsed once, when first seen, and the signature's parse is kept
    # after its first resolution for the next class.
    decoder = RowDecoder(sample_context, chosen_edition(sample_context, None))
    years = [str(year) for year in range(1945, 1990)]
    cells = [decoder.cells("E1, F2" if n % 2 else "e1.f2", year) for n, year in enumerate(years)]
    assert decoder.resolved > 1  # the sample's periods put these years in several classes
    assert decoder.parsed == 2  # the two texts, and nothing again
    fresh = RowDecoder(sample_context, chosen_edition(sample_context, None))
    for year, found in zip(years, cells, strict=True):
        assert fresh.cells("E1, F2", year) == found  # the same answers as from a fresh parse


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_lines_are_the_csv_modules_whatever_the_cells_hold(
    sample_context: Context, tmp_path: Path, delimiter: str
) -> None:
    # Decode columns are rendered once per distinct answer and joined to each row's own
    # cells; the file must be byte for byte what the csv module writes of the whole row.
    awkward = ["", " lề", 'có "ngoặc"', "a,b", "a;b", "dòng\nmới", "tab\there"]
    rows = [
        [str(i), awkward[i % len(awkward)], GOLDEN[i % len(GOLDEN)]["text"], ""]
        for i in range(3 * len(awkward))
    ]
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(_csv([HEADER, *rows], delimiter), "utf-8")
    decode_table(sample_context, source, out)
    decoder = RowDecoder(sample_context, chosen_edition(sample_context, None))
    expected = _csv(
        [HEADER + list(DECODE_COLUMNS)] + [[*r, *decoder.cells(r[2], r[3])] for r in rows],
        delimiter,
    )
    assert out.read_bytes().decode("utf-8-sig") == expected


def test_a_one_column_list_with_empty_rows_is_written_as_the_csv_module_writes_it(
    sample_context: Context, tmp_path: Path
) -> None:
    rows = [["C9, D6"], [""], ["Công trường 9"], [""]]
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(_csv([["Đơn vị"], *rows], ","), "utf-8")
    decode_table(sample_context, source, out)
    decoder = RowDecoder(sample_context, chosen_edition(sample_context, None))
    expected = _csv(
        [["Đơn vị", *DECODE_COLUMNS]] + [[*r, *decoder.cells(r[0], "")] for r in rows], ","
    )
    assert out.read_bytes().decode("utf-8-sig") == expected


@pytest.mark.parametrize(
    ("written", "cells"),
    [
        # Quoted where the csv module would not quote, LF line ends, a line break in a cell:
        # each row's own columns come back as written, then its decode columns.
        ('"1","Liệt sĩ A","C9, D6","1970"\n', ["1", "Liệt sĩ A", "C9, D6", "1970"]),
        (
            '2,"dòng\nmới",Công trường 9,27/1/1968\n',
            ["2", "dòng\nmới", "Công trường 9", "27/1/1968"],
        ),
        ("3,'sẵn nháy,B3,\r\n", ["3", "'sẵn nháy", "B3", ""]),
        ('4,"a ""b""",B3,1970', ["4", 'a "b"', "B3", "1970"]),  # the last line, no line end
    ],
    ids=["quoted", "line break in a cell", "CRLF", "no line end"],
)
def test_a_rows_own_columns_are_kept_as_written(
    sample_context: Context, tmp_path: Path, written: str, cells: list[str]
) -> None:
    header = "STT,Họ và tên,Đơn vị,Ngày hy sinh\r\n"
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(header + written, "utf-8")
    decode_table(sample_context, source, out)
    text = out.read_bytes().decode("utf-8-sig")
    decoder = RowDecoder(sample_context, chosen_edition(sample_context, None))
    tail = _csv([list(decoder.cells(cells[2], cells[3]))], ",")
    assert text == _csv([[*header.strip().split(","), *DECODE_COLUMNS]], ",") + (
        written.rstrip("\r\n") + "," + tail
    )
    assert list(csv.reader(io.StringIO(text)))[1] == [*cells, *decoder.cells(cells[2], cells[3])]


@pytest.mark.parametrize(
    "written",
    [
        '1,A,"=HYPERLINK(""x"")",1970\n',
        '2,"+84 123",B3,1970\n',
        "3,A,B3,@now\n",
        '4,"x,-y",B3,\n',  # looks like a field starting with "-": read again, nothing to do
        "=5,A,B3,1970\n",  # the first field: no delimiter before it
        '"=6",A,B3,1970\n',
        '"@7, a",A,B3,1970\n',
    ],
)
def test_a_row_that_may_hold_a_formula_is_written_anew_neutralised(
    sample_context: Context, tmp_path: Path, written: str
) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("STT,Họ và tên,Đơn vị,Ngày hy sinh\n" + written, "utf-8")
    decode_table(sample_context, source, out)
    [row] = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))[1:]
    [original] = list(csv.reader(io.StringIO(written)))
    assert row[:4] == [neutralize(c) for c in original]
    assert all(not c or c[0] not in "=+-@" for c in row[:4])


CSV_BLOCKS = _jsonl("csv_blocks.jsonl")


def _blocks_read(
    source: CsvSource, size: int | None
) -> tuple[list[list[str]], list[str], str | None]:
    """Every row and line of `source` in blocks of `size` characters (None: row by row)."""
    rows: list[list[str]] = []
    lines: list[str] = []
    blocks = source.row_blocks(size=size) if size else source._row_by_row(0, None)
    try:
        for block in blocks:
            rows.extend(block.rows)
            lines.extend(block.lines)
            if block.raws is not None:  # a UTF-8 file's lines as read, for the output to copy
                assert source.encoding.startswith("utf-8")
                assert block.raws == [line.encode() for line in block.lines]
    except TableUnreadable as exc:
        return rows, lines, exc.detail
    return rows, lines, None


@pytest.mark.parametrize("case", CSV_BLOCKS, ids=[c["id"] for c in CSV_BLOCKS])
@pytest.mark.parametrize("size", [7, 64, 333, 1 << 20])
def test_rows_read_in_blocks_are_the_csv_modules(
    tmp_path: Path, case: dict[str, Any], size: int
) -> None:
    # Whole lines are split and read in blocks; from the first block that is not one row a
    # line, the rest is read row by row. Either way: the rows the csv module reads of the
    # whole file, each with its own text, and its errors with the line they name.
    encoding = case.get("encoding", "utf-8")
    content = case["text"].encode(encoding)
    if "bad_bytes" in case:
        content = content.replace(case["bad_bytes"].encode(), b"\xff\xfe\xfd")
    path = tmp_path / "list.csv"
    path.write_bytes(content)
    # Bytes that do not decode would make the sniffer take the file for Windows-1258.
    source = CsvSource(path, encoding) if "bad_bytes" in case else CsvSource.open(path)
    rows, lines, error = _blocks_read(source, size)
    # The oracle: the csv module over the whole file, and the row-by-row reading it had.
    whole = _blocks_read(source, len(content) + 1)
    one_by_one = _blocks_read(source, None)
    if "bad_bytes" in case:  # refused, naming the very line (read by rows: a line near it)
        line = content[: content.index(b"\xff")].count(b"\n") + 1
        assert error == whole[2] == f"Line {line} is not valid utf-8 text."
        assert one_by_one[2] is not None
        assert "is not valid utf-8 text" in one_by_one[2]
        return
    if "error" in case:  # the same error, naming the same line (rows before it may differ)
        assert error is not None
        assert case["error"] in error
        assert error == one_by_one[2] == whole[2]
        return
    assert (rows, lines, error) == one_by_one == whole
    assert error is None
    with path.open(encoding=source.encoding, newline="") as handle:
        assert rows == list(csv.reader(handle, delimiter=source.delimiter, strict=True))
    for row, text in zip(rows, lines, strict=True):
        assert list(csv.reader(io.StringIO(text), delimiter=source.delimiter)) == (
            [row] if row else []
        )


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_blocks_formula_scan_finds_the_rows_a_row_by_row_check_finds(delimiter: str) -> None:
    # The parent scans a block of lines at once for what Excel would run; it must flag
    # exactly the rows that checking each line on its own flags.
    shapes = [
        "1{d}A{d}B3{d}1970",
        "=2{d}A{d}B3{d}1970",
        '"=3"{d}A{d}B3{d}1970',
        "4{d}-A{d}B3{d}",
        '5{d}"+84"{d}B3{d}',
        "6{d}a-b{d}c3 - d4{d}1970",
        '7{d}"dòng\n=mới"{d}B3{d}',  # a line break in a quoted cell, then "="
        "@8{d}{d}{d}",
        "",
        '"',
        "9{d}x{d}@{d}",
    ]
    lines = [shape.format(d=delimiter) for shape in shapes]
    for start in range(len(lines)):
        block = lines[start:] + lines[:start]
        expected = {i for i, line in enumerate(block) if not _kept_as_written(line, delimiter)}
        assert _formula_rows(block, delimiter) == expected
        assert expected  # the shapes hold some
