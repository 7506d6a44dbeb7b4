"""Migration 0003_search on a database that already holds a codebook, on SQLite and PostgreSQL:
the search text is filled for the rows already there, each engine's index finds them, and new
rows are indexed as they are written."""

from __future__ import annotations

import datetime as dt

from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, inspect, select, text

from app.context import Context
from app.db import migrate
from app.db.engine import make_engine
from app.editions.service import resolve_edition
from app.research import service
from app.settings import Settings

SEARCH = "0003_search"


def _before_search(url: str) -> str:
    engine = make_engine(url)
    try:
        scripts = ScriptDirectory.from_config(migrate.alembic_config(engine))
        down = scripts.get_revision(SEARCH).down_revision
    finally:
        engine.dispose()
    assert isinstance(down, str)
    return down


def _fts_count(conn: object, table: str) -> int:
    # Contentless FTS5 keeps no rows to count; count the index's documents instead.
    return int(conn.execute(text(f"SELECT count(*) FROM fts_{table}_docsize")).scalar_one())  # type: ignore[attr-defined]


def test_upgrade_fills_and_indexes_existing_rows(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, _before_search(empty_db_url))
    meta = MetaData()
    tables = {
        n: Table(n, meta, autoload_with=engine)
        for n in ("edition", "source", "unit", "unit_revision", "assignment", "area")
    }
    common = {"source_id": "S-t", "verification": "unverified", "note": "", "first_edition": 1}
    with engine.begin() as conn:
        conn.execute(
            tables["edition"].insert(),
            {
                "seq": 1,
                "label": "old-1",
                "status": "published",
                "note": "",
                "published_on": dt.date(2026, 1, 1),
                "checksum": "0" * 64,
            },
        )
        conn.execute(
            tables["source"].insert(),
            {
                "id": "S-t",
                "kind": "publication",
                "citation": "test",
                "reliability": "weak",
                "note": "",
                "first_edition": 1,
            },
        )
        conn.execute(tables["unit"].insert(), {"id": "u-320", "first_edition": 1})
        conn.execute(
            tables["unit_revision"].insert(),
            {"unit_id": "u-320", "echelon": "division", "name": "Sư đoàn 320", **common},
        )
        conn.execute(
            tables["assignment"].insert(),
            {
                "unit_id": "u-320",
                "kind": "honorific",
                "code": "Đại đoàn Đồng Bằng",
                "match_key": "x",
                **common,
            },
        )
        conn.execute(tables["area"].insert(), {"unit_id": "u-320", "area": "Tây Nguyên", **common})
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT search FROM unit_revision")).scalar_one() == "su doan 320"
        assert (
            conn.execute(text("SELECT search FROM assignment")).scalar_one() == "dai doan dong bang"
        )
        assert conn.execute(text("SELECT search FROM area")).scalar_one() == "tay nguyen"
        if engine.dialect.name == "sqlite":
            for table in ("unit_revision", "assignment", "area"):
                assert _fts_count(conn, table) == 1
    engine.dispose()

    context = Context.from_settings(Settings(database_url=empty_db_url, auto_init=False))
    try:
        with context.session() as session:
            edition = resolve_edition(session, "old-1")
            found = service.search_units(session, edition, "dong bang")
            assert [(r["id"], r["match"]["kind"]) for r in found.rows] == [("u-320", "prefix")]
            typo = service.search_units(session, edition, "dong bagn")
            assert [(r["id"], r["match"]["kind"]) for r in typo.rows] == [("u-320", "fuzzy")]
    finally:
        context.close()


def test_new_rows_are_indexed(fresh_context: Context) -> None:
    """The sample edition is written after the migration: columns and indexes are kept up."""
    engine = fresh_context.engine
    with engine.connect() as conn:
        missing = conn.execute(
            text("SELECT count(*) FROM assignment WHERE search IS NULL OR search = ''")
        ).scalar_one()
        assert missing == 0
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT count(*) FROM assignment")).scalar_one()
            assert _fts_count(conn, "assignment") == rows
            triggers = set(
                conn.execute(
                    select(text("name"))
                    .select_from(text("sqlite_master"))
                    .where(text("type = 'trigger' AND name LIKE 'fts_%'"))
                ).scalars()
            )
            # A later SQLite batch rebuild of these tables would drop the triggers: this fails then.
            assert triggers == {
                f"fts_{t}_{op}"
                for t in ("unit_revision", "assignment", "area")
                for op in ("insert", "delete", "update")
            }
        else:
            indexes = {i["name"]: i for i in inspect(engine).get_indexes("assignment")}
            assert "ix_assignment_search" in indexes
            kind = conn.execute(
                text(
                    "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
                    "WHERE c.relname = 'ix_assignment_search'"
                )
            ).scalar_one()
            assert kind == "gin"


def test_downgrade_removes_search_and_upgrade_restores(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        migrate.upgrade(engine)
        migrate.downgrade(engine, _before_search(empty_db_url))
        columns = {c["name"] for c in inspect(engine).get_columns("assignment")}
        assert "search" not in columns
        assert not [t for t in inspect(engine).get_table_names() if t.startswith("fts_")]
        migrate.upgrade(engine)
        columns = {c["name"] for c in inspect(engine).get_columns("assignment")}
        assert "search" in columns
    finally:
        engine.dispose()
