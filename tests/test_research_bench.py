"""A smoke run of bench/query.py on a small synthetic codebook: it loads, runs every scenario
through the service and as bare SQL, and prints its figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "query.py"
ROW = re.compile(r"^(?P<name>.+?)\s+(?:[0-9]+\.[0-9]{2}\s+){4}[0-9]+\.[0-9]{2}\s+(yes|NO)$")


def test_bench_query_smoke(postgres_admin_url: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--admin-url",
            postgres_admin_url,
            "--units",
            "2000",
            "--assignments",
            "10000",
            "--repeat",
            "3",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stderr
    rows = [m["name"] for line in result.stdout.splitlines() if (m := ROW.match(line))]
    assert [r.split(" (")[0].split(" of ")[0] for r in rows] == [
        "search exact",
        "search prefix",
        "search fuzzy",
        "faceted listing",
        "faceted listing + theatre facet",
        "tree",
    ]
