"""A smoke run of bench/parse.py: it runs on a few inputs and prints both figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "parse.py"


def test_bench_prints_the_parser_and_the_floor() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--limit", "5", "--rounds", "1", "--min-time", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    parser = re.search(r"^parser .*:\s+([\d,]+) designations/s$", run.stdout, re.MULTILINE)
    floor = re.search(r"^floor .*:\s+([\d,]+) designations/s$", run.stdout, re.MULTILINE)
    assert parser is not None, run.stdout
    assert floor is not None, run.stdout
    assert int(parser[1].replace(",", "")) > 0
    assert int(floor[1].replace(",", "")) > 0
    assert re.search(r"^parser / floor: [\d.]+x", run.stdout, re.MULTILINE), run.stdout
    assert "inputs: 5 golden designations" in run.stdout
