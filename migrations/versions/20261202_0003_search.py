"""search: folded search columns, and each engine's index for them

Revision ID: 0003_search
Revises: 0002_curation
Create Date: 2026-11-28 16:00:00

Adds `search` (app.research.text.search_text of the name, code or area) to
unit_revision, assignment and area, fills it for the rows already there, and
indexes it: pg_trgm GIN indexes on PostgreSQL (substring, prefix, equality
and similarity all use them); on SQLite a plain index (equality) plus one
contentless FTS5 trigram table per column, kept by triggers, over the text
laid out as app.research.text.padded does. The FTS5 tables are named
`fts_*`; migrations/env.py leaves them out of `alembic check`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.research.text import search_text

revision: str = "0003_search"
down_revision: str | None = "0002_curation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> the column its search text is made from
SEARCHED = {"unit_revision": "name", "assignment": "code", "area": "area"}
# app.research.text.padded, in SQL: each word as "  word ".
PADDED = "'  ' || replace({row}.search, ' ', '   ') || ' '"


def _fill(table: str, source: str) -> None:
    """Compute the search text of the rows already there (in Python: it is app code's fold)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {source} FROM {table}")).all()
    update = sa.text(f"UPDATE {table} SET search = :search WHERE id = :id")
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        bind.execute(update, [{"id": row[0], "search": search_text(row[1])} for row in chunk])


def _sqlite_fts(table: str) -> None:
    fts = f"fts_{table}"
    op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5(text, tokenize='trigram', content='')")
    op.execute(f"INSERT INTO {fts}(rowid, text) SELECT id, {PADDED.format(row=table)} FROM {table}")
    op.execute(
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, text) VALUES (new.id, {PADDED.format(row='new')}); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, text) "
        f"VALUES ('delete', old.id, {PADDED.format(row='old')}); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF search ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, text) "
        f"VALUES ('delete', old.id, {PADDED.format(row='old')}); "
        f"INSERT INTO {fts}(rowid, text) VALUES (new.id, {PADDED.format(row='new')}); END"
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        # Trusted since PostgreSQL 13: the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, source in SEARCHED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("search", sa.Text(), nullable=True))
        _fill(table, source)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("search", existing_type=sa.Text(), nullable=False)
            batch_op.create_index(
                f"ix_{table}_search",
                ["search"],
                unique=False,
                postgresql_using="gin",
                postgresql_ops={"search": "gin_trgm_ops"},
            )
        if sqlite:
            _sqlite_fts(table)  # after the batch rebuilds above, which would drop its triggers
    # Theatre codes are few among a million codes: finding them must not read them all.
    op.create_index("ix_assignment_kind_unit", "assignment", ["kind", "unit_id"], unique=False)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("ix_assignment_kind_unit", table_name="assignment")
    for table in SEARCHED:
        if sqlite:
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS fts_{table}_{trigger}")
            op.execute(f"DROP TABLE IF EXISTS fts_{table}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_search")
            batch_op.drop_column("search")
    # pg_trgm stays: other objects may use it, and upgrade creates it only if missing.
