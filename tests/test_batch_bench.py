"""Small runs of the benchmarks: they run end to end and print their figures.

The full-size runs take minutes and are not part of the test run (scripts/bench).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _bench(script: str, *args: str, work: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIENHIEU_")}
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--work", str(work)],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench")


def test_batch_bench_prints_its_figures(work: Path) -> None:
    out = _bench("batch.py", "--rows", "3000", "--units", "500", work=work)
    assert "list: 3,000 rows" in out
    floor = next(line for line in out.splitlines() if line.startswith("floor"))
    decoded = next(line for line in out.splitlines() if line.startswith("phienhieu batch "))
    lines = [floor, decoded]
    build = next(line for line in out.splitlines() if line.startswith("build: "))
    if "compiled" in build:  # the same list interpreted, beside it; both wrote the same bytes
        lines.append(next(line for line in out.splitlines() if line.startswith("phienhieu batch,")))
        assert "pure-Python output identical to the compiled one" in out
    for line in lines:
        figures = [float(f.replace(",", "")) for f in line.split()[-5:]]
        assert all(f > 0 for f in figures), line  # wall, CPU, rows/s, peak RSS, peak PSS
    assert "3,000 dòng / rows" in out  # the CLI's own summary


def test_api_bench_prints_its_figures(work: Path) -> None:
    out = _bench(
        "api.py",
        *("--rows", "3000", "--units", "500", "--seconds", "1", "--connections", "4"),
        *("--bodies", "100", "--batch-items", "200"),
        work=work,
    )
    for words in ("echo (bare FastAPI)", "POST /v1/decode", "decode / echo throughput"):
        assert words in out, out
    assert "200-item batch, summary view" in out
    assert "200-item batch, full view" in out
    assert "single decode" in out
    assert "cold reader: sample" in out
    assert "national" in out
