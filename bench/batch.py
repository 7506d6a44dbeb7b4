"""Batch decoding of a national-scale martyr list through the CLI, and the floor beside it.

Prints, in one run: wall time, CPU time and peak memory of
`phienhieu batch LIST.csv -o OUT.csv` on the synthetic list (bench/synth.py) against the
synthetic national codebook, and the same for the floor: reading and writing the same CSV
with the csv module and no decoding. Targets (issue 5): <= 30 s wall on 2 cores and peak
RSS <= 1 GiB for 1,150,000 rows.

    python3 bench/batch.py                       # 1,150,000 rows, 100,000 units (minutes)
    python3 bench/batch.py --rows 20000 --units 2000
    python3 bench/batch.py --database-url postgresql+psycopg://postgres@127.0.0.1/phienhieu_bench

Generated files and the SQLite database are kept in --work (default: a folder in the
temporary directory) and reused by the next run with the same sizes and seed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import measure
import synth

PURE = "PHIENHIEU_PURE_PYTHON"
FLOOR = """
import csv, sys
with open(sys.argv[1], encoding="utf-8", newline="") as src, open(
    sys.argv[2], "w", encoding="utf-8-sig", newline=""
) as dst:
    writer = csv.writer(dst, lineterminator="\\r\\n")
    for row in csv.reader(src):
        writer.writerow(row)
"""


def _checksum(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in sorted(p.name for p in folder.glob("*.csv")):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def prepare(args: argparse.Namespace) -> tuple[Path, str]:
    """The list and a database holding the codebook as its latest published edition."""
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    tag = f"v{synth.VERSION}-u{args.units}-a{args.assignments}-s{args.seed}"
    codebook = work / f"codebook-{tag}"
    listing = work / f"list-{tag}-r{args.rows}.csv"
    if not (codebook / "bundle.toml").exists() or not listing.exists():
        started = time.perf_counter()
        bundle, units, mailboxes = synth.build_bundle(args.units, args.assignments, args.seed)
        if not (codebook / "bundle.toml").exists():
            synth.write_bundle(bundle, codebook)
        synth.write_list(listing, units, mailboxes, args.rows, args.seed)
        print(f"generated codebook and list in {time.perf_counter() - started:.1f} s")
    url = args.database_url or f"sqlite:///{work / f'{tag}.sqlite3'}"
    if _holds(url, _checksum(codebook)):
        _upgrade(url)  # the schema may have moved on since the codebook was loaded
    else:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        started = time.perf_counter()
        seq = synth.load(codebook, url)
        print(f"loaded the codebook as edition #{seq} in {time.perf_counter() - started:.1f} s")
    return listing, url


def _upgrade(url: str) -> None:
    from app.db import migrate
    from app.db.engine import make_engine

    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def _holds(url: str, checksum: str) -> bool:
    """True when the database's latest published edition is this codebook."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT checksum FROM edition WHERE status = 'published' "
                    "ORDER BY seq DESC LIMIT 1"
                )
            ).scalar()
    except Exception:  # no such database or table yet: it has to be loaded
        return False
    finally:
        engine.dispose()
    return found == checksum


def _phienhieu() -> str:
    beside = Path(sys.executable).with_name("phienhieu")
    found = str(beside) if beside.exists() else shutil.which("phienhieu")
    if not found:
        sys.exit("the phienhieu command is not installed (pip install -e .)")
    return found


def distinct(listing: Path) -> tuple[int, int, int]:
    rows, texts, dates = 0, set(), set()
    with listing.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        d, t = header.index("Đơn vị khi hy sinh"), header.index("Ngày hy sinh")
        for row in reader:
            rows += 1
            texts.add(row[d])
            dates.add(row[t])
    return rows, len(texts), len(dates)


def _build(env: dict[str, str]) -> str:
    """Whether the decoder's hot modules run compiled (setup.py) in the measured command."""
    probe = "import app; print(app.NATIVE.reason, ', '.join(app.NATIVE.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_150_000)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--assignments", type=int, default=None, help="default: 10 per unit")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="phienhieu batch --workers")
    parser.add_argument("--database-url", default=None, help="default: SQLite in --work")
    parser.add_argument(
        "--pure",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the list on the pure-Python modules (with a compiled build)",
    )
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "phienhieu-bench"
    )
    args = parser.parse_args(argv)
    args.assignments = args.assignments or 10 * args.units
    listing, url = prepare(args)
    rows, texts, dates = distinct(listing)
    out = args.work / f"{listing.stem}.giai-ma.csv"
    floor_out = args.work / f"{listing.stem}.floor.csv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIENHIEU_")}
    env.update(PHIENHIEU_DATABASE_URL=url, PHIENHIEU_AUTO_INIT="false")

    print(f"list: {rows:,} rows, {texts:,} distinct designations, {dates:,} distinct dates")
    print(f"codebook: {args.units:,} units, {args.assignments:,} assignments; database {url}")
    build = _build(env)
    print(f"build: {build}")
    print(measure.load_average())
    floor = measure.run([sys.executable, "-c", FLOOR, str(listing), str(floor_out)])
    if floor.returncode != 0:
        sys.exit(floor.stderr)

    def batch(into: Path, env: dict[str, str]) -> measure.Run:
        command = [_phienhieu(), "batch", str(listing), "-o", str(into), "--no-progress"]
        result = measure.run([*command, "--workers", str(args.workers)], env=env)
        if result.returncode != 0:
            sys.exit(result.stderr)
        return result

    decoded = batch(out, env)
    print(decoded.stdout.rstrip())
    runs = [("floor (csv read + write)", floor), ("phienhieu batch", decoded)]
    if args.pure and "compiled" in build:
        # The same command on the same sources, interpreted: what the compiled build gains.
        pure_out = out.with_suffix(".pure.csv")
        pure = batch(pure_out, {**env, PURE: "1"})
        same = pure_out.read_bytes() == out.read_bytes()
        pure_out.unlink()
        runs.append(("phienhieu batch, pure Python", pure))
        print(f"pure-Python output {'identical' if same else 'DIFFERENT'} to the compiled one")
        if not same:
            sys.exit("the compiled and the pure-Python decoders disagree")
    print()
    print(
        f"{'':<34}{'wall s':>9}{'CPU s':>9}{'rows/s':>11}{'peak RSS MiB':>14}{'peak PSS MiB':>14}"
    )
    for name, result in runs:
        print(
            f"{name:<34}{result.wall:>9.2f}{result.cpu:>9.2f}{rows / result.wall:>11,.0f}"
            f"{result.peak_rss_mib:>14,.0f}{result.peak_pss_mib:>14,.0f}"
        )
    print(
        f"largest single process: {decoded.max_process_rss_mib:,.0f} MiB RSS. "
        f"Targets for 1,150,000 rows: <= 30 s wall, <= 1,024 MiB."
    )
    floor_out.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
