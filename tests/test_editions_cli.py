"""The edition, export and key commands of the CLI, in process, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from conftest import DatabaseFactory  # type: ignore[import-not-found]  # pytest puts tests/ on the path
from test_editions import CHANGES, _dump  # type: ignore[import-not-found]

from app.cli import main as cli
from app.context import Context
from codebook.bundle import FILES, META, SAMPLE_BUNDLE, read_bundle

SAMPLE = "sample-2026.1"


def _run(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"PHIENHIEU_DATABASE_URL": url})


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.stdout


def _fails(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output


def _edit(folder: Path) -> None:
    for edit in CHANGES["edits"]:
        path = folder / edit["file"]
        body = path.read_text("utf-8")
        if "append" in edit:
            body += edit["append"] + "\n"
        else:
            body = body.replace(*edit["replace"])
        path.write_bytes(body.encode("utf-8"))


def test_curator_commands(fresh_context: Context, tmp_path: Path) -> None:
    url = fresh_context.settings.database_url
    listed = json.loads(_ok(_run(url, "editions", "list", "--json")))
    assert [e["label"] for e in listed["editions"]] == [SAMPLE]

    assert "cli-2" in _ok(_run(url, "editions", "open", "cli-2", "--note", "synthetic test"))
    refused = _fails(_run(url, "editions", "open", "cli-3"))
    assert "Bản nháp 'cli-2' đang mở" in refused
    assert "Draft 'cli-2' is already open" in refused

    folder = tmp_path / "bundle"
    assert "→" in _ok(_run(url, "codebook", "export", SAMPLE, str(folder)))
    assert sorted(p.name for p in folder.iterdir()) == sorted([META, *dict(FILES)])
    assert "--force" in _fails(_run(url, "codebook", "export", SAMPLE, str(folder)))
    _ok(_run(url, "codebook", "export", SAMPLE, str(folder), "--force"))
    _edit(folder)
    assert "+" in _ok(_run(url, "codebook", "import", str(folder), "--into", "cli-2"))
    assert "unchanged" in _ok(_run(url, "codebook", "import", str(folder), "--into", "cli-2"))

    people = _ok(_run(url, "editions", "diff", SAMPLE, "cli-2"))
    assert "assignments   +2 added, -1 removed, ~0 changed" in people
    diff = json.loads(_ok(_run(url, "editions", "diff", SAMPLE, "cli-2", "--json")))
    assert diff["summary"] == CHANGES["summary"]
    rows = list(csv.DictReader(io.StringIO(_ok(_run(url, "editions", "diff", "1", "2", "--csv")))))
    assert {r["table"] for r in rows} == {
        "sources",
        "units",
        "assignments",
        "parent_links",
        "areas",
    }

    items = tmp_path / "list.csv"
    items.write_text("id,text,date\n1,Công trường 9,1968\n2,B3,1970\n", "utf-8")
    impact = _ok(_run(url, "editions", "impact", SAMPLE, "cli-2", str(items)))
    assert "1 / 2" in impact
    assert "Sư đoàn 7" in impact
    whole: dict[str, Any] = json.loads(
        _ok(_run(url, "editions", "impact", SAMPLE, "cli-2", str(items), "--json"))
    )
    assert [i["changed"] for i in whole["items"]] == [True, False]

    assert "checksum" in _ok(_run(url, "editions", "publish", "cli-2"))
    assert "không" in _fails(_run(url, "editions", "publish", "cli-2"))  # not a draft any more
    assert "retired" in _ok(_run(url, "editions", "retire", "cli-2"))
    assert "2026" not in _fails(_run(url, "editions", "retire", "no-such-edition"))

    # The CLI's writes are in the audit log, by the local operator.
    admin = _ok(_run(url, "keys", "create", "--role", "admin", "--name", "Synthetic")).strip()
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app(fresh_context.settings, context=fresh_context)) as client:
        events = client.get("/v1/audit", headers={"X-API-Key": admin}).json()["events"]
    mine = [(e["action"], e["actor"]["name"].split(":")[0]) for e in events[1:]]
    assert mine == [
        ("edition.open", "cli"),
        ("edition.import", "cli"),
        ("edition.publish", "cli"),
        ("edition.retire", "cli"),
        ("key.create", "cli"),
    ]


def test_cli_export_import_export_is_identical(
    fresh_context: Context, databases: DatabaseFactory, tmp_path: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _ok(_run(fresh_context.settings.database_url, "codebook", "export", SAMPLE, str(first)))
    empty = databases.new()
    _ok(_run(empty, "db", "upgrade"))
    _ok(_run(empty, "codebook", "import", str(first)))
    _ok(_run(empty, "codebook", "export", SAMPLE, str(second)))
    for name in (META, *dict(FILES)):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert read_bundle(second).checksum == read_bundle(SAMPLE_BUNDLE).checksum


def test_cli_failed_import_writes_nothing(fresh_context: Context, tmp_path: Path) -> None:
    url = fresh_context.settings.database_url
    folder = tmp_path / "bundle"
    _ok(_run(url, "codebook", "export", SAMPLE, str(folder)))
    _ok(_run(url, "editions", "open", "bad-2"))
    with (folder / "assignments.csv").open("a", encoding="utf-8") as out:
        out.write("no-such-unit,designation,Sư đoàn 999,,,S-bktt,unverified,\n")
    line = len((folder / "assignments.csv").read_text("utf-8").splitlines())
    before = _dump(fresh_context.engine)
    output = _fails(_run(url, "codebook", "import", str(folder), "--into", "bad-2"))
    assert f"assignments.csv:{line} [unit]: unknown unit 'no-such-unit'" in output
    assert "không có gì được nhập" in output
    assert _dump(fresh_context.engine) == before
