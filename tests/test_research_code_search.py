"""Migration 0008_distinct_code_search: PostgreSQL's search reads each distinct code once, from a
table that triggers keep equal to the assignments' codes; search finds the same units either
way, on SQLite (which has no such table) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from app.context import Context
from app.db import migrate
from app.editions.service import resolve_edition
from app.research import service
from app.research.text import search_text

REVISION = "0008_distinct_code_search"
CODE = "Hòm thư Zulu 4711 KX"  # in no sample record
MISSPELT = "hom thu zulu 4771 kx"  # similarity 0.75: a fuzzy match of CODE only


def _codes(engine: Engine) -> tuple[list[str], set[str]]:
    """(the side table's codes, the distinct codes of the assignments)."""
    with engine.connect() as conn:
        kept = list(conn.execute(text("SELECT search FROM assignment_search")).scalars())
        held = set(conn.execute(text("SELECT DISTINCT search FROM assignment")).scalars())
    return kept, held


def _add_code(engine: Engine, code: str) -> int:
    """A new assignment of `code` to a unit of the sample edition; its id."""
    with engine.begin() as conn:
        unit, source, seq = conn.execute(
            text(
                "SELECT unit_id, source_id, first_edition FROM unit_revision "
                "ORDER BY unit_id LIMIT 1"
            )
        ).one()
        conn.execute(
            text(
                "INSERT INTO assignment (unit_id, kind, code, match_key, search, source_id, "
                "verification, note, first_edition) VALUES (:unit, 'mailbox', :code, :key, "
                ":search, :source, 'unverified', '', :seq)"
            ),
            {
                "unit": unit,
                "code": code,
                "key": f"test:{code}",
                "search": search_text(code),
                "source": source,
                "seq": seq,
            },
        )
        found: int = conn.execute(
            text("SELECT id FROM assignment WHERE code = :code"), {"code": code}
        ).scalar_one()
    return found


def _found(context: Context, q: str) -> list[tuple[Any, ...]]:
    with context.session() as session:
        edition = resolve_edition(session, None)
        page = service.search_units(session, edition, q, size=50)
    return [(r["id"], r["match"]["kind"], r["match"]["text"]) for r in page.rows]


def test_codes_follow_inserts_and_updates(fresh_context: Context) -> None:
    """New and changed codes are searchable at once, exactly and fuzzily, on both engines."""
    engine = fresh_context.engine
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        kept, held = _codes(engine)
        assert len(kept) == len(set(kept))  # each code once
        assert set(kept) == held  # the sample edition, written after the migration
    assert _found(fresh_context, MISSPELT) == []
    row = _add_code(engine, CODE)
    [(unit, kind, matched)] = _found(fresh_context, MISSPELT)
    assert (kind, matched) == ("fuzzy", CODE)
    assert _found(fresh_context, "zulu 4711") == [(unit, "prefix", CODE)]

    renamed = "Hòm thư Yankee 815 KX"
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE assignment SET code = :code, search = :search WHERE id = :id"),
            {"code": renamed, "search": search_text(renamed), "id": row},
        )
    assert _found(fresh_context, "yankee 815") == [(unit, "prefix", renamed)]
    assert _found(fresh_context, "zulu 4711") == []  # the old code matches no row any more
    if postgres:
        kept, held = _codes(engine)
        assert set(kept) == held | {search_text(CODE)}  # kept, harmlessly: it joins no row


def _before(engine: Engine) -> str:
    scripts = ScriptDirectory.from_config(migrate.alembic_config(engine))
    down = scripts.get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


def test_upgrade_fills_and_downgrade_removes(fresh_context: Context) -> None:
    """Upgraded over a codebook, the table holds its codes; downgraded, nothing of it is left."""
    engine = fresh_context.engine
    postgres = engine.dialect.name == "postgresql"
    before = _found(fresh_context, "doan")
    migrate.downgrade(engine, _before(engine))
    assert "assignment_search" not in inspect(engine).get_table_names()
    if postgres:
        with engine.connect() as conn:
            leftovers = conn.execute(
                text(
                    "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'assignment_search%' "
                    "UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'assignment_search%'"
                )
            ).all()
        assert leftovers == []
    migrate.upgrade(engine)
    if postgres:
        kept, held = _codes(engine)
        assert sorted(kept) == sorted(held)
        assert len(held) > 10
    else:  # SQLite's search narrows by FTS5: nothing to keep there
        assert "assignment_search" not in inspect(engine).get_table_names()
    assert _found(fresh_context, "doan") == before


def test_search_is_planned_with_its_values(sample_context: Context) -> None:
    """PostgreSQL: a search's statements get plans for their own values, never a generic plan of
    a prepared statement (which joined back every assignment: 290 ms instead of 12)."""
    with sample_context.session() as session:
        edition = resolve_edition(session, None)
        service.search_units(session, edition, "su doan 9")
        if session.get_bind().dialect.name != "postgresql":
            return
        mode = session.execute(text("SELECT current_setting('plan_cache_mode')")).scalar_one()
    assert mode == "force_custom_plan"
