"""`phienhieu batch` as a user runs it: a real process on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from app.batch.rows import DECODE_COLUMNS
from app.context import Context

DATA = Path(__file__).parent / "data"
GOLDEN = [
    json.loads(line)
    for line in (DATA / "decode_golden.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


def _script() -> str:
    beside = Path(sys.executable).with_name("phienhieu")
    found = str(beside) if beside.exists() else shutil.which("phienhieu")
    assert found, "the phienhieu console script is not installed (pip install -e .)"
    return found


def _run(context: Context, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIENHIEU_")}
    env["HOME"] = str(home)
    env["PHIENHIEU_DATABASE_URL"] = context.settings.database_url
    return subprocess.run(
        [_script(), "batch", *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


@pytest.fixture
def listing(tmp_path: Path) -> Path:
    path = tmp_path / "danh-sach.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["DANH SÁCH LIỆT SĨ (mẫu)"])
        writer.writerow(["STT", "Họ và tên", "Đơn vị khi hy sinh", "Ngày hy sinh"])
        for i, case in enumerate(GOLDEN, 1):
            writer.writerow([i, f"Liệt sĩ mẫu {i}", case["text"], case["date"] or ""])
        for i in range(3):
            writer.writerow([100 + i, "Liệt sĩ mẫu", "KBM", "1968"])
    return path


def test_batch_writes_the_list_and_sums_it_up(
    sample_context: Context, listing: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ket-qua.csv"
    result = _run(sample_context, tmp_path, str(listing), "-o", str(out), "--progress")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "dòng/s" in result.stderr  # the progress line: rows/s and ETA
    assert "ETA" in result.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["DANH SÁCH LIỆT SĨ (mẫu)"]
    assert rows[1] == ["STT", "Họ và tên", "Đơn vị khi hy sinh", "Ngày hy sinh", *DECODE_COLUMNS]
    assert [r[4] for r in rows[2 : 2 + len(GOLDEN)]] == [c["status"] for c in GOLDEN]
    total = len(GOLDEN) + 3
    assert f"{total:,} dòng / rows" in result.stdout
    resolved = sum(1 for c in GOLDEN if c["status"] == "resolved")
    assert any(
        line.split()[-2].replace(",", "") == str(resolved)
        for line in result.stdout.splitlines()
        if "resolved" in line
    ), result.stdout
    todo = result.stdout.split("curators' to-do list):", 1)[1].splitlines()
    assert todo[1].split() == ["3", "KBM"]


def test_batch_xlsx_in_xlsx_out(sample_context: Context, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Họ tên", "Phiên hiệu", "Năm hy sinh"])
    sheet.append(["Liệt sĩ mẫu", "Công trường 9", 1968])
    source, out = tmp_path / "ds.xlsx", tmp_path / "ds.giai-ma.xlsx"
    book.save(source)
    result = _run(sample_context, tmp_path, str(source), "-o", str(out), "--workers", "1")
    assert result.returncode == 0, result.stderr
    decoded = load_workbook(out, read_only=True)
    active = decoded.active
    assert active is not None
    rows = [list(r) for r in active.iter_rows(values_only=True)]
    decoded.close()
    assert rows[1][:4] == ["Liệt sĩ mẫu", "Công trường 9", 1968, "resolved"]


@pytest.mark.parametrize(
    ("content", "args", "words"),
    [
        ("Họ tên,Quê\nA,B\n", [], ["cột đơn vị", "designation column"]),
        ("Đơn vị\nB3\n", ["--edition", "no-such"], ["Không có ấn bản", "There is no edition"]),
        ('Đơn vị,Ngày\n"B3,1970\n', [], ["không đúng định dạng CSV", "not valid CSV"]),
        ("", [], ["Tệp trống", "The file is empty"]),
    ],
    ids=["no column", "unknown edition", "malformed", "empty"],
)
def test_batch_problems_are_plain_messages_and_write_nothing(
    sample_context: Context, tmp_path: Path, content: str, args: list[str], words: list[str]
) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(content, "utf-8")
    result = _run(sample_context, tmp_path, str(source), "-o", str(out), *args)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_output_keeps_the_input_kind(
    sample_context: Context, listing: Path, tmp_path: Path
) -> None:
    result = _run(sample_context, tmp_path, str(listing), "-o", str(tmp_path / "out.xlsx"))
    assert result.returncode == 2
    assert "*.csv" in result.stderr
