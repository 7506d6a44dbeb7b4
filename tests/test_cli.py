"""The `phienhieu` console script, run as a user runs it: a real process, a real database.

Each run costs about a second, so read-only tests share one database prepared by the
first command ever run on it (a copy per test), and only set-up tests start from nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, inspect, select, table

from app.parsing import MAX_INPUT_CHARS
from app.schemas import DecodeOut, ParseOut
from codebook.bundle import SAMPLE_BUNDLE

SAMPLE_LABEL = "sample-2026.1"
DECODE_KEYS = {"input", "date", "edition", "status", "parse", "candidates", "warnings"}


def _script() -> str:
    """The installed console script beside this interpreter (not a shim that may pick another)."""
    beside = Path(sys.executable).with_name("phienhieu")
    found = str(beside) if beside.exists() else shutil.which("phienhieu")
    assert found, "the phienhieu console script is not installed (pip install -e .)"
    return found


SCRIPT = _script()


def _env(database_url: str, home: Path, **settings: str) -> dict[str, str]:
    """The caller's environment with only our PHIENHIEU_* settings, and a HOME of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHIENHIEU_")}
    env["HOME"] = str(home)  # the embedded default database lives under HOME: keep it apart
    env["PHIENHIEU_DATABASE_URL"] = database_url
    env.update({f"PHIENHIEU_{name.upper()}": value for name, value in settings.items()})
    return env


def _run(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCRIPT, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def _json_lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _ok(result).splitlines()]


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _row_counts(database_url: str) -> dict[str, int]:
    """Rows in every table: what a write of any kind would change."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            names = inspect(conn).get_table_names()
            return {
                n: conn.execute(select(func.count()).select_from(table(n))).scalar_one()
                for n in names
            }
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Prepared:
    database: Path
    home: Path
    first_run: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    """A SQLite file made by the first command ever run on it, with no set-up step."""
    folder = tmp_path_factory.mktemp("cli")
    database, home = folder / "phienhieu.sqlite3", folder / "home"
    home.mkdir()
    first = _run(_env(_sqlite_url(database), home), "decode", "C11.D3.E1.F2.QK5", "--json")
    return Prepared(database, home, first)


@pytest.fixture
def env(prepared: Prepared, tmp_path: Path) -> dict[str, str]:
    """An environment on a private copy of the prepared database."""
    assert prepared.database.exists(), prepared.first_run.stderr
    database, home = tmp_path / "phienhieu.sqlite3", tmp_path / "home"
    shutil.copyfile(prepared.database, database)
    home.mkdir()
    return _env(_sqlite_url(database), home)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "home"
    path.mkdir()
    yield path
    assert not (path / ".local").exists(), "the embedded default database was touched"


# --- decode and parse -------------------------------------------------------------------


def test_first_command_on_a_new_database_prepares_it(prepared: Prepared) -> None:
    [answer] = _json_lines(prepared.first_run)
    DecodeOut.model_validate(answer)
    assert set(answer) == DECODE_KEYS
    assert answer["input"] == "C11.D3.E1.F2.QK5"
    assert answer["date"] is None
    assert answer["edition"]["label"] == SAMPLE_LABEL
    assert answer["status"] == "partial"
    assert [e["text"] for e in answer["parse"]["elements"]] == ["C11", "D3", "E1", "F2", "QK5"]
    assert answer["candidates"][0]["chain"][0]["id"] == "quan-khu-5"
    assert not (prepared.home / ".local").exists(), "the embedded default database was touched"


def test_decode_json_cites_its_source(env: dict[str, str]) -> None:
    [answer] = _json_lines(_run(env, "decode", "Công trường 9", "--date", "1968", "--json"))
    DecodeOut.model_validate(answer)
    assert answer["status"] == "resolved"
    assert answer["date"]["text"] == "1968"
    link = answer["candidates"][0]["chain"][0]
    assert link["id"] == "su-doan-9"
    [match] = link["matched"]
    assert match["code"] == "Công trường 9"
    assert match["source"]["id"] == "S-viwiki-su-doan-9"
    assert "Sư đoàn 9" in match["source"]["citation"]


def test_decode_for_people(env: dict[str, str]) -> None:
    result = _run(env, "decode", "Công trường 9", "--date", "1968")
    out = _ok(result)
    assert result.stderr == ""
    first, *rest = out.splitlines()
    assert first.startswith("Công trường 9 (1968): đã giải mã / resolved")
    assert SAMPLE_LABEL in first
    assert "Sư đoàn 9" in "\n".join(rest)
    assert "vi.wikipedia" in out  # the citation of the match


def test_parse_json(env: dict[str, str]) -> None:
    text = "Trung đoàn BB 1 ( Q761 ), Quân khu 5"
    [parsed] = _json_lines(_run(env, "parse", text, "--json"))
    ParseOut.model_validate(parsed)
    assert parsed["input"] == text
    assert [(e["kind"], e["text"]) for e in parsed["elements"]] == [
        ("unit", "Trung đoàn BB 1"),
        ("cover_code", "Q761"),
        ("unit", "Quân khu 5"),
    ]
    for element in parsed["elements"]:
        start, end = element["span"]
        assert text[start:end] == element["text"]


def test_stdin_gives_one_json_line_per_designation(env: dict[str, str]) -> None:
    answers = _json_lines(
        _run(env, "decode", "-", "--date", "1965", "--json", stdin="B3\nĐoàn 125\n")
    )
    assert [a["input"] for a in answers] == ["B3", "Đoàn 125"]
    for answer in answers:
        DecodeOut.model_validate(answer)
        assert answer["status"] == "resolved"
    assert [a["candidates"][0]["chain"][0]["id"] for a in answers] == [
        "mat-tran-tay-nguyen",
        "doan-759-125",
    ]


def test_stdin_bad_line_is_reported_in_place(env: dict[str, str]) -> None:
    too_long = "x" * (MAX_INPUT_CHARS + 1)
    stdin = f"B3\r\n\n{too_long}\n  \nĐoàn 125"  # CRLF, blank lines, no final newline
    answers = _json_lines(_run(env, "decode", "-", "--date", "1965", "--json", stdin=stdin))
    assert [a["input"] for a in answers] == ["B3", too_long, "Đoàn 125"]
    good_1, bad, good_2 = answers
    DecodeOut.model_validate(good_1)
    DecodeOut.model_validate(good_2)
    assert set(bad) == {"input", "error", "error_vi"}
    assert str(MAX_INPUT_CHARS) in bad["error"]
    assert "ký tự" in bad["error_vi"]


@pytest.mark.parametrize(
    ("args", "vietnamese", "english"),
    [
        (("decode", "B3", "--date", "31/2/1968"), "Không hiểu ngày '31/2/1968'", "not understood"),
        (("decode", "x" * (MAX_INPUT_CHARS + 1)), "tối đa", "at most"),
        (("decode", "B3", "--edition", "2099.9"), "Không có ấn bản", "no edition"),
    ],
    ids=["bad-date", "too-long", "unknown-edition"],
)
def test_errors_are_plain_bilingual_messages(
    env: dict[str, str], args: tuple[str, ...], vietnamese: str, english: str
) -> None:
    result = _run(env, *args)
    assert result.returncode != 0
    assert result.stdout == ""
    assert vietnamese in result.stderr
    assert english in result.stderr
    assert "Traceback" not in result.stderr


# --- database and codebook --------------------------------------------------------------


def test_db_upgrade_on_a_new_file(tmp_path: Path, home: Path) -> None:
    url = _sqlite_url(tmp_path / "new.sqlite3")
    out = _ok(_run(_env(url, home), "db", "upgrade"))
    assert "database is up to date" in out
    counts = _row_counts(url)
    assert counts["edition"] == 0  # migrated, nothing loaded
    assert counts["alembic_version"] == 1


def test_import_sample_again_changes_nothing(env: dict[str, str]) -> None:
    before = _row_counts(env["PHIENHIEU_DATABASE_URL"])
    out = _ok(_run(env, "codebook", "import", "--sample"))
    assert "unchanged" in out
    assert SAMPLE_LABEL in out
    assert _row_counts(env["PHIENHIEU_DATABASE_URL"]) == before
    assert before["edition"] == 1


def _break(csv_file: Path, old_start: str, new_start: str) -> int:
    """Rewrite the one line starting with `old_start`; return its line number (header = 1)."""
    lines = csv_file.read_text("utf-8").splitlines(keepends=True)
    [index] = [i for i, line in enumerate(lines) if line.startswith(old_start)]
    lines[index] = new_start + lines[index].removeprefix(old_start)
    csv_file.write_text("".join(lines), "utf-8")
    return index + 1


def test_broken_bundle_names_every_problem_and_writes_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(SAMPLE_BUNDLE, bundle)
    link_line = _break(
        bundle / "parent_links.csv", "theater-b4,theater-b,", "no-such-unit,theater-b,"
    )
    date_line = _break(
        bundle / "assignments.csv",
        "theater-b4,theater_code,B4,1966,",
        "theater-b4,theater_code,B4,1966-13-45,",
    )
    url = env["PHIENHIEU_DATABASE_URL"]
    before = _row_counts(url)
    # A new label, so that a bundle that passed would have added an edition.
    result = _run(env, "codebook", "import", str(bundle), "--label", "broken-2026.2")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "nothing was imported" in result.stderr
    assert "không có gì được nhập" in result.stderr
    assert f"parent_links.csv:{link_line} [unit]: unknown unit 'no-such-unit'" in result.stderr
    assert f"assignments.csv:{date_line} [valid_from]: '1966-13-45'" in result.stderr
    assert _row_counts(url) == before


HELP_COMMANDS = ["", "serve", "parse", "decode", "db", "db upgrade", "codebook", "codebook import"]


@pytest.fixture(scope="module")
def help_pages(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every --help page, run side by side: each run is almost all start-up time."""
    folder = tmp_path_factory.mktemp("help")
    env = _env(_sqlite_url(folder / "unused.sqlite3"), folder)
    running = {
        command: subprocess.Popen(
            [SCRIPT, *command.split(), "--help"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        for command in HELP_COMMANDS
    }
    pages = {}
    for command, process in running.items():
        out, err = process.communicate(timeout=120)
        pages[command] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    assert not (folder / ".local").exists(), "the embedded default database was touched"
    return pages


def test_help_lists_every_command(
    help_pages: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    out = _ok(help_pages[""])
    assert out.startswith("Usage: phienhieu ")
    assert "PHIENHIEU_DATABASE_URL" in out
    for command in ("serve", "parse", "decode", "db", "codebook"):
        assert f"  {command} " in out


@pytest.mark.parametrize("command", [c for c in HELP_COMMANDS if c])
def test_subcommand_help(
    help_pages: dict[str, subprocess.CompletedProcess[str]], command: str
) -> None:
    out = _ok(help_pages[command])
    assert out.startswith(f"Usage: phienhieu {command} ")


# --- both backends ----------------------------------------------------------------------


def test_first_use_with_auto_init(empty_db_url: str, home: Path) -> None:
    env = _env(empty_db_url, home, auto_init="true")
    [answer] = _json_lines(_run(env, "decode", "Công trường 9", "--date", "1968", "--json"))
    DecodeOut.model_validate(answer)
    assert answer["status"] == "resolved"
    assert answer["candidates"][0]["chain"][0]["id"] == "su-doan-9"
    assert answer["edition"]["label"] == SAMPLE_LABEL


def test_production_set_up(empty_db_url: str, home: Path) -> None:
    """The README's PostgreSQL steps: upgrade, import the sample, decode (no auto-init)."""
    env = _env(empty_db_url, home, auto_init="false")
    _ok(_run(env, "db", "upgrade"))
    assert _row_counts(empty_db_url)["edition"] == 0
    out = _ok(_run(env, "codebook", "import", "--sample"))
    assert f"{SAMPLE_LABEL} (#1, published)" in out
    if empty_db_url.startswith("postgresql"):
        # The import leaves planner statistics and a vacuumed table behind (committed), so
        # match keys are found by index from the first batch on, not by scanning every
        # assignment, and counted from the index alone.
        engine = create_engine(empty_db_url)
        try:
            with engine.connect() as conn:
                analysed = conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stats WHERE tablename = 'assignment' "
                    "AND attname = 'match_key'"
                ).scalar_one()
                visible_pages, pages = conn.exec_driver_sql(
                    "SELECT relallvisible, relpages FROM pg_class WHERE relname = 'assignment'"
                ).one()
        finally:
            engine.dispose()
        assert analysed == 1
        assert pages > 0
        assert visible_pages == pages
    [answer] = _json_lines(_run(env, "decode", "B3", "--date", "1970", "--json"))
    assert answer["status"] == "resolved"
    assert answer["edition"]["label"] == SAMPLE_LABEL


def test_decode_before_set_up_is_a_plain_message(empty_db_url: str, home: Path) -> None:
    result = _run(_env(empty_db_url, home, auto_init="false"), "decode", "B3")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "phienhieu db upgrade" in result.stderr
