"""distinct code search: each folded code once, for search (PostgreSQL)

Revision ID: 0008_distinct_code_search
Revises: 0007_unit_search_gist
Create Date: 2026-12-03 13:00:00

Codes repeat across units: the national codebook has 100,000 designations but
1,476 distinct folded ones ("dai doi 3" alone about 4,700 times). Fuzzy
search (pg_trgm `%`) over the trigram index of all assignments read every row
sharing enough trigrams with the query: "Su doan 91007" rechecked 6,278 rows
one by one (24 ms) to keep 352. `assignment_search` holds every folded code
once, with its own trigram index: the same search rechecks 1,468 distinct
codes and finds the assignments holding the matching ones by equality
(app.research.sql.search_hits), so the same rows match as before.

Kept by triggers, whatever writes the assignments (ORM, COPY): a statement
trigger adds the codes of inserted rows, a row trigger those of a changed
`search`. Rows are never deleted (editions keep superseded rows); a code no
row holds any more would stay, and match nothing once joined back. Made by
raw SQL and named in migrations/env.py, which leaves it out of `alembic
check` (the models cannot declare a table for one engine only). SQLite's
search uses FTS5 (0003_search): nothing to do there.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008_distinct_code_search"
down_revision: str | None = "0007_unit_search_gist"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "assignment_search"  # app.research.sql.CODES, migrations/env.py
LIMIT_KB = 256  # a short GIN pending list, as 0005_search_pending_list says why


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE TABLE {TABLE} (search text NOT NULL, CONSTRAINT pk_{TABLE} PRIMARY KEY (search))"
    )
    # In order: codes alike ("su doan 9…") share pages, so a search reads fewer of them.
    op.execute(
        f"INSERT INTO {TABLE} (search) SELECT DISTINCT search FROM assignment ORDER BY search"
    )
    op.execute(
        f"CREATE INDEX ix_{TABLE}_trigram ON {TABLE} USING gin (search gin_trgm_ops) "
        f"WITH (gin_pending_list_limit = {LIMIT_KB})"
    )
    op.execute(
        f"CREATE FUNCTION {TABLE}_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO {TABLE} (search) SELECT DISTINCT search FROM inserted "
        "ON CONFLICT DO NOTHING; RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE FUNCTION {TABLE}_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO {TABLE} (search) VALUES (NEW.search) ON CONFLICT DO NOTHING; "
        "RETURN NULL; END $$"
    )
    # Once per statement: a COPY or a many-row INSERT adds its codes in one statement.
    op.execute(
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON assignment "
        f"REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_insert()"
    )
    # Per row, only when the code changes: updates of other columns (superseded_in) cost nothing.
    op.execute(
        f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF search ON assignment FOR EACH ROW "
        f"WHEN (OLD.search IS DISTINCT FROM NEW.search) EXECUTE FUNCTION {TABLE}_update()"
    )
    op.execute(f"ANALYZE {TABLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in ("insert", "update"):
        op.execute(f"DROP TRIGGER {TABLE}_{name} ON assignment")
        op.execute(f"DROP FUNCTION {TABLE}_{name}()")
    op.execute(f"DROP TABLE {TABLE}")
