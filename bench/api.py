"""The HTTP API under load, against a bare FastAPI echo under the same server settings.

In one run: starts `phienhieu serve` (as the README deploys it) on the synthetic
codebook and bench/echo.py beside it, drives both from another process on loopback
(wrk if installed, else bench/load.py) and prints requests/s and p50/p99 latency of
POST /v1/decode and of the echo; the time of one 10,000-item POST /v1/decode/batch (its
default summary view, then the full view on another 10,000 items);
and the latency of a single decode with a cold reader on the sample codebook and on
the national-scale synthetic codebook. Targets (issue 5): decode >= 70 % of the echo's
requests/s, p99 <= 50 ms at 32 connections, the 10,000-item batch <= 1.5 s, national /
sample single-decode latency <= 1.5.

    python3 bench/api.py --database-url postgresql+psycopg://postgres@127.0.0.1/phienhieu_bench
    python3 bench/api.py --units 2000 --rows 20000 --seconds 2   # a smoke run (SQLite)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import batch
import httpx
import measure

HERE = Path(__file__).resolve().parent
JSON = {"content-type": "application/json"}
WRK_SCRIPT = """
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def _server(command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in `finally`, after the server stops
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                log.seek(0)
                sys.exit(f"server did not start: {log.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def drive(url: str, bodies: Path, connections: int, seconds: float) -> dict[str, Any]:
    """Requests/s and latency percentiles from a load generator in another process."""
    wrk = shutil.which("wrk")
    if wrk:
        script = bodies.with_suffix(".lua")
        script.write_text(WRK_SCRIPT, "utf-8")
        threads = str(min(2, connections))
        latency = ["--latency", "-s", str(script)]
        out = subprocess.run(
            [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(int(seconds), 1)}s", *latency, url],
            env={**os.environ, "BENCH_BODIES": str(bodies)},
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
        p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
        non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        return {
            "tool": "wrk",
            "rps": rps,
            "p50_ms": p50,
            "p99_ms": p99,
            "errors": int(non2xx.group(1)) if non2xx else 0,
        }
    limits = ["--connections", str(connections), "--seconds", str(seconds)]
    out = subprocess.run(
        [sys.executable, str(HERE / "load.py"), url, "--bodies", str(bodies), *limits],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=True,
    ).stdout
    return {"tool": "bench/load.py", **json.loads(out)}


def _items(listing: Path, count: int, seed: int, skip: int = 0) -> list[dict[str, Any]]:
    """`count` rows of the list as batch items, drawn evenly from a seeded shuffle."""
    with listing.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    random.Random(seed).shuffle(rows)
    chosen = rows[skip : skip + count]
    return [{"id": r[1], "text": r[5], "date": r[6] or None} for r in chosen]


def single_latency(url: str, cases: list[tuple[str, str | None]]) -> tuple[float, float]:
    """Median ms of one decode with a reader that has read nothing yet, then with a warm one."""
    from app.context import Context
    from app.decode.repository import EditionReader
    from app.decode.resolver import resolve
    from app.decode.service import chosen_edition
    from app.parsing import parse
    from app.parsing.dates import parse_date
    from app.settings import Settings

    context = Context.from_settings(Settings(database_url=url, auto_init=False))
    edition = chosen_edition(context, None)
    parsed = [(parse(t), parse_date(d)) for t, d in cases]
    cold = []
    for p, when in parsed:
        reader = EditionReader(context.session_factory, edition.seq)
        started = time.perf_counter()
        resolve(p, when, reader).candidates[0:1]
        cold.append(time.perf_counter() - started)
    reader = EditionReader(context.session_factory, edition.seq)
    for p, when in parsed:
        resolve(p, when, reader)
    warm = []
    for p, when in parsed:
        started = time.perf_counter()
        resolve(p, when, reader)
        warm.append(time.perf_counter() - started)
    context.close()
    return 1000 * statistics.median(cold), 1000 * statistics.median(warm)


def _sample_url(url: str, work: Path) -> str:
    """A database holding the sample edition, on the same backend as `url`."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from app.context import Context
    from app.settings import Settings

    if url.startswith("sqlite"):
        sample = f"sqlite:///{work / 'sample.sqlite3'}"
    else:
        name = "phienhieu_bench_sample"
        admin = make_url(url).set(database="postgres")
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if (
                conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).first()
                is None
            ):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        sample = make_url(url).set(database=name).render_as_string(hide_password=False)
    context = Context.from_settings(Settings(database_url=sample, auto_init=True))
    context.initialise()
    context.close()
    return sample


SAMPLE_CASES = [
    (text, date)
    for text in ("Sư đoàn 9", "F9", "Công trường 9", "Su doan 9")
    for date in ("1966", "27/1/1968", "1972", None)
]


def national_cases(listing: Path, count: int) -> list[tuple[str, str | None]]:
    """The sample's shapes on the synthetic codebook: a division by word, letter, cover name."""
    numbers: list[str] = []
    with listing.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            found = re.fullmatch(r"(?:F|Sư đoàn )(\d+)", row[5])
            if found and found.group(1) not in numbers:
                numbers.append(found.group(1))
            if len(numbers) * 4 >= count:
                break
    return [
        (text, date)
        for n in numbers
        for text in (f"Sư đoàn {n}", f"F{n}", f"Công trường {n}", f"Su doan {n}")
        for date in ("1966", "27/1/1968", "1972", None)
    ][:count]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_150_000)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--assignments", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="default: SQLite in --work")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "phienhieu-bench"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--bodies", type=int, default=2000, help="distinct request bodies")
    parser.add_argument("--batch-items", type=int, default=10_000, help="items in the batch")
    args = parser.parse_args(argv)
    args.assignments = args.assignments or 10 * args.units
    args.workers = 0
    listing, url = batch.prepare(args)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIENHIEU_")}
    env.update(PHIENHIEU_DATABASE_URL=url, PHIENHIEU_AUTO_INIT="false")

    items = _items(listing, args.bodies, args.seed)
    bodies = args.work / "decode-bodies.jsonl"
    bodies.write_text(
        "\n".join(
            json.dumps({"text": i["text"], "date": i["date"]}, ensure_ascii=False) for i in items
        ),
        "utf-8",
    )
    batch_items = _items(listing, args.batch_items, args.seed, skip=args.bodies)
    full_items = _items(listing, args.batch_items, args.seed, skip=args.bodies + args.batch_items)
    print(f"codebook: {args.units:,} units; database {url}")
    print(measure.load_average())

    decode_port, echo_port = _free_port(), _free_port()
    serve = [batch._phienhieu(), "serve", "--port", str(decode_port)]
    echo = [sys.executable, str(HERE / "echo.py"), "--port", str(echo_port)]
    results: dict[str, dict[str, Any]] = {}
    with _server(serve, env, decode_port) as api, _server(echo, env, echo_port) as bare:
        # Cold: the first requests for bodies the service has not seen (after one request that
        # readies the process: grammar, connections).
        httpx.post(f"{api}/v1/decode", json={"text": "Công trường 1"}, timeout=60)
        results["decode, first sight"] = drive(
            f"{api}/v1/decode", bodies, args.connections, min(2.0, args.seconds)
        )
        with httpx.Client(timeout=600) as client:  # then every body once: the steady state
            # In both views: the full one remembers what /v1/decode answers, the summary
            # one readies the batch workers, as earlier batches would have.
            for view in ("full", "summary"):
                warm = json.dumps({"items": items, "view": view}).encode()
                response = client.post(f"{api}/v1/decode/batch", content=warm, headers=JSON)
                response.raise_for_status()
        for name, target in (("echo", f"{bare}/echo"), ("decode", f"{api}/v1/decode")):
            drive(target, bodies, args.connections, min(2.0, args.seconds))  # warm up
            results[name] = drive(target, bodies, args.connections, args.seconds)
        # Each view first on items the service has not seen (a batch of its own each), then
        # the same request again.
        timings: dict[str, tuple[float, float, int]] = {}
        with httpx.Client(timeout=120) as client:
            for view, its in (("summary", batch_items), ("full", full_items)):
                payload = json.dumps({"items": its, "view": view}).encode()
                took = []
                for _ in range(2):
                    started = time.perf_counter()
                    response = client.post(f"{api}/v1/decode/batch", content=payload, headers=JSON)
                    took.append(time.perf_counter() - started)
                    response.raise_for_status()
                    assert len(response.json()["results"]) == len(its)
                timings[view] = (took[0], took[1], len(response.content))

    sample = _sample_url(url, args.work)
    sample_cold, sample_warm = single_latency(sample, SAMPLE_CASES * 10)
    national_cold, national_warm = single_latency(url, national_cases(listing, 160))
    mixed_cold, mixed_warm = single_latency(url, [(i["text"], i["date"]) for i in items[:200]])

    echo_r, decode_r = results["echo"], results["decode"]
    print(
        f"load: {echo_r['tool']}, {args.connections} connections, {args.seconds:g} s each, "
        f"{len(items):,} distinct bodies from the synthetic list"
    )
    print(f"{'':<22}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    rows = (
        ("echo (bare FastAPI)", echo_r),
        ("POST /v1/decode", decode_r),
        ("  (first sight, 2 s)", results["decode, first sight"]),
    )
    for name, r in rows:
        print(f"{name:<22}{r['rps']:>12,.0f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['errors']:>8}")
    share = decode_r["rps"] / echo_r["rps"] if echo_r["rps"] else 0.0
    print(f"decode / echo throughput: {share:.0%} (target >= 70 %); p99 target <= 50 ms")
    for view, (first, again, size) in timings.items():
        print(
            f"{len(batch_items):,}-item batch, {view} view ({size / 2**20:,.1f} MiB): "
            f"{first:.2f} s first time, {again:.2f} s again (target for 10,000 items: <= 1.5 s)"
        )
    ratio = national_cold / sample_cold if sample_cold else 0.0
    print("single decode (division by number, letter, cover name; same shapes on both codebooks):")
    print(
        f"  cold reader: sample {sample_cold:.1f} ms, national {national_cold:.1f} ms "
        f"(ratio {ratio:.2f}, target <= 1.5); warm reader: sample {sample_warm:.2f} ms, "
        f"national {national_warm:.2f} ms"
    )
    print(
        f"  the list's own mix on the synthetic codebook: cold {mixed_cold:.1f} ms, "
        f"warm {mixed_warm:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
