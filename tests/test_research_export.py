"""`phienhieu export sqlite EDITION PATH` from SQLite and PostgreSQL: a standalone file holding
the whole edition, with full-text search that Datasette finds, written whole or not at all."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.context import Context

SAMPLE_LABEL = "sample-2026.1"
# What Datasette runs to find a table's full-text index (datasette.utils.detect_fts).
DETECT_FTS = """
select name from sqlite_master where rootpage = 0 and (
    sql like '%VIRTUAL TABLE%USING FTS%content="{table}"%'
    or sql like '%VIRTUAL TABLE%USING FTS%content=[{table}]%'
    or (tbl_name = "{table}" and sql like '%VIRTUAL TABLE%USING FTS%'))
"""


def _export(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["export", "sqlite", *args], env={"PHIENHIEU_DATABASE_URL": url}
    )
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_export_sqlite(sample_context: Context, tmp_path: Path) -> None:
    url = sample_context.settings.database_url
    path = tmp_path / "sample.sqlite3"
    code, output = _export(url, SAMPLE_LABEL, str(path))
    assert code == 0, output
    assert "48 units, 72 designations, 21 parent links, 19 areas, 28 sources" in output
    db = sqlite3.connect(path)
    try:
        label, cite = db.execute("SELECT label, cite FROM edition").fetchone()
        assert label == SAMPLE_LABEL
        assert f'"{SAMPLE_LABEL}"' in cite
        counts = {
            t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("units", "designations", "parent_links", "areas", "sources")
        }
        assert counts == {
            "units": 48,
            "designations": 72,
            "parent_links": 21,
            "areas": 19,
            "sources": 28,
        }
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert {r[2] for r in db.execute("PRAGMA foreign_key_list(designations)")} == {
            "units",
            "sources",
        }
        for table in ("units", "designations"):
            found = db.execute(DETECT_FTS.format(table=table)).fetchall()
            assert found == [(f"{table}_fts",)]

        def search(text: str) -> list[str]:
            rows = db.execute(
                "SELECT u.id FROM units_fts JOIN units u ON u.rowid = units_fts.rowid "
                "WHERE units_fts MATCH ? ORDER BY u.id",
                (text,),
            )
            return [r[0] for r in rows]

        assert search('"dong bang"') == ["su-doan-320"]  # the folded column: đ read as d
        assert search('"Đồng Bằng"') == ["su-doan-320"]
        assert search("Q761") == ["trung-doan-1-su-doan-9"]  # a unit's codes are searched
        assert db.execute(
            "SELECT parent_name FROM unit_parents WHERE unit = 'trung-doan-1-su-doan-9'"
        ).fetchall() == [("Sư đoàn 9",)]
    finally:
        db.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample.sqlite3"]


def test_export_sqlite_refuses_and_leaves_nothing(sample_context: Context, tmp_path: Path) -> None:
    url = sample_context.settings.database_url
    path = tmp_path / "out.sqlite3"
    code, output = _export(url, "no-such-edition", str(path))
    assert code == 1
    assert "Không có ấn bản" in output
    assert list(tmp_path.iterdir()) == []
    path.write_text("keep me")
    code, output = _export(url, SAMPLE_LABEL, str(path))
    assert code == 1
    assert "--force" in output
    assert path.read_text() == "keep me"
    code, output = _export(url, SAMPLE_LABEL, str(path), "--force")
    assert code == 0, output
    assert sqlite3.connect(path).execute("SELECT count(*) FROM units").fetchone() == (48,)


@pytest.mark.parametrize("where", ["no-such-folder/out.sqlite3"])
def test_export_sqlite_needs_a_folder(sample_context: Context, tmp_path: Path, where: str) -> None:
    code, output = _export(
        sample_context.settings.database_url, SAMPLE_LABEL, str(tmp_path / where)
    )
    assert code == 1
    assert "no such folder" in output
