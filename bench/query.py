"""How fast researchers' queries answer at national scale, beside their own SQL run bare.

    python3 bench/query.py                       # 100,000 units, 1,000,000 assignments
    python3 bench/query.py --units 2000 --assignments 10000 --repeat 5   # a smoke run

On PostgreSQL (PHIENHIEU_TEST_POSTGRES_URL, default the local server): a new
database is made, the synthetic codebook of bench/synth.py (every row labelled
synthetic) is written and bulk-loaded into it, and each scenario runs
`--repeat` times through the service (a session per call, as a request has;
JSON built, no HTTP) and, in the same run and alternating with it, as bare SQL
through the driver: the very statements the service sent, recorded from its
first call and replayed on a raw psycopg connection in one transaction each.
The database is dropped at the end unless --keep.

Scenarios: search (an exact name, a mailbox number's beginning, a misspelling
that only fuzzy matching finds), a faceted listing (regiments standing on a
date, facets echelon, verification and decade, with the total), the same
with the theatre facet, and the order of battle of a division at a date.

Target of issue 7: p99 ≤ 50 ms, and within 3x of the bare SQL.
Exit status 0 unless --check is given and a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import synth  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.context import Context  # noqa: E402
from app.db import migrate  # noqa: E402
from app.editions.service import resolve_edition  # noqa: E402
from app.research import params, service, tree  # noqa: E402
from app.settings import Settings  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_P99_MS = 50.0
TARGET_RATIO = 3.0


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    call: Callable[[Any], Any]  # (session) -> answer


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _scenarios(context: Context, units: int) -> list[Scenario]:
    with context.session() as session:
        edition = resolve_edition(session, None)
        division = session.execute(
            text(
                "SELECT unit_id, name FROM unit_revision WHERE echelon = 'division' "
                "ORDER BY unit_id LIMIT 1 OFFSET :n"
            ),
            {"n": max(0, min(units // 1000, 200) - 1)},
        ).one()
        mailbox = session.execute(
            text("SELECT code FROM assignment WHERE kind = 'mailbox' ORDER BY id LIMIT 1 OFFSET 7")
        ).scalar_one()
    request = service.Request("http://bench", "/v1/units")
    name = str(division.name).replace(" (tổng hợp)", "")  # "Sư đoàn 9012"
    number = mailbox.split()[2][:4]  # "Hòm thư 12345 XY" → "1234"
    misspelt = name.replace("đoàn", "doan").replace("Sư", "Su") + "7"  # no exact match

    def listing(**given: Any) -> Callable[[Any], Any]:
        query = params.unit_query(**given)
        return lambda session: service.list_units(session, edition, query, request)

    when = params.date("date", "1968-06-01")
    assert when is not None
    return [
        Scenario(f"search exact ({name})", listing(q=name, page_size="20")),
        Scenario(
            f"search prefix (hòm thư {number})", listing(q=f"hòm thư {number}", page_size="20")
        ),
        Scenario(f"search fuzzy ({misspelt})", listing(q=misspelt, page_size="20")),
        Scenario(
            "faceted listing (regiments on 1968-06-01; echelon, verification, decade)",
            listing(
                echelon=["regiment"],
                active_on="1968-06-01",
                facets=["echelon", "verification", "decade"],
                page_size="100",
            ),
        ),
        Scenario(
            "faceted listing + theatre facet",
            listing(
                echelon=["regiment"],
                active_on="1968-06-01",
                facets=["echelon", "verification", "decade", "theater"],
                page_size="100",
            ),
        ),
        Scenario(
            f"tree of {division.unit_id} on 1968-06-01",
            lambda session: tree.unit_tree(
                session, edition, division.unit_id, when, base="http://bench"
            ),
        ),
    ]


def _record(context: Context, scenario: Scenario) -> list[tuple[str, Any]]:
    """The statements (as sent to the driver) of one call of the scenario."""
    sent: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(context.engine, "before_cursor_execute", remember)
    try:
        with context.session() as session:
            scenario.call(session)
    finally:
        event.remove(context.engine, "before_cursor_execute", remember)
    return sent


def _bare(raw: Any, statements: list[tuple[str, Any]]) -> None:
    with raw.transaction(), raw.cursor() as cursor:
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()


def measure(context: Context, scenario: Scenario, repeat: int) -> dict[str, Any]:
    statements = _record(context, scenario)
    raw_engine = create_engine(context.settings.database_url)
    with raw_engine.connect() as conn:
        raw = conn.connection.driver_connection
        raw.autocommit = True
        for _ in range(3):  # warm caches and plans on both paths
            with context.session() as session:
                scenario.call(session)
            _bare(raw, statements)
        served: list[float] = []
        bare: list[float] = []
        for _ in range(repeat):
            start = time.perf_counter()
            with context.session() as session:
                scenario.call(session)
            served.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            _bare(raw, statements)
            bare.append((time.perf_counter() - start) * 1000)
    raw_engine.dispose()
    result = {
        "scenario": scenario.name,
        "statements": len(statements),
        "p50_ms": statistics.median(served),
        "p99_ms": _percentile(served, 0.99),
        "bare_p50_ms": statistics.median(bare),
        "bare_p99_ms": _percentile(bare, 0.99),
    }
    result["ratio_p50"] = result["p50_ms"] / max(result["bare_p50_ms"], 1e-6)
    result["ok"] = result["p99_ms"] <= TARGET_P99_MS and result["ratio_p50"] <= TARGET_RATIO
    return result


def _generate(args: argparse.Namespace, folder: str, url: str) -> None:
    """Write the synthetic bundle and bulk-load it as a published edition."""
    began = time.perf_counter()
    synth.main(
        [
            "codebook",
            folder,
            "--units",
            str(args.units),
            "--assignments",
            str(args.assignments),
            "--seed",
            str(args.seed),
        ]
    )
    synth.load(Path(folder), url)
    print(
        f"synthetic codebook: {args.units} units, {args.assignments} assignments, "
        f"written and loaded in {time.perf_counter() - began:.1f} s",
        flush=True,
    )


def _database(admin_url: str) -> tuple[str, Callable[[], None]]:
    name = f"phienhieu_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default=None, help="PostgreSQL server (a database is made)")
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--assignments", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is shown)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="measure a database already loaded (by --keep), migrated to the newest first",
    )
    parser.add_argument("--only", default=None, help="only scenarios whose name has this text")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    admin_url = args.admin_url or os.environ.get("PHIENHIEU_TEST_POSTGRES_URL", DEFAULT_PG)
    if args.database_url:
        url, drop = args.database_url, lambda: None
    else:
        url, drop = _database(admin_url)
    try:
        if not args.database_url:
            with tempfile.TemporaryDirectory() as folder:
                _generate(args, folder, url)
        context = Context.from_settings(Settings(database_url=url, auto_init=False))
        if args.database_url:  # kept from an earlier run: as a fresh load would leave it
            migrate.upgrade(context.engine)
            context.refresh_statistics()
        try:
            chosen = [
                s for s in _scenarios(context, args.units) if not args.only or args.only in s.name
            ]
            results = [measure(context, s, args.repeat) for s in chosen]
        finally:
            context.close()
    finally:
        if args.keep:
            print(f"database kept: {url}")
        else:
            drop()

    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"\nPostgreSQL, {args.repeat} calls each (ms); target p99 ≤ {TARGET_P99_MS:.0f} ms, "
        f"≤ {TARGET_RATIO:.0f}x bare SQL; load average {load} (1/5/15 min, {os.cpu_count()} cores)"
    )
    print(f"{'scenario':<72} {'p50':>7} {'p99':>7} {'bare p50':>9} {'bare p99':>9} {'x':>5}  ok")
    for r in results:
        print(
            f"{r['scenario'][:72]:<72} {r['p50_ms']:7.2f} {r['p99_ms']:7.2f} "
            f"{r['bare_p50_ms']:9.2f} {r['bare_p99_ms']:9.2f} {r['ratio_p50']:5.2f}  "
            f"{'yes' if r['ok'] else 'NO'}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    missed = [r for r in results if not r["ok"]]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
