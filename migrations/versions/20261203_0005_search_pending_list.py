"""search: a short GIN pending list for the trigram indexes (PostgreSQL)

Revision ID: 0005_search_pending_list
Revises: 0004_research_indexes
Create Date: 2026-12-03 10:00:00

A GIN index first writes new rows into a "pending list" that every search
then reads through, row by row, until a vacuum merges it; by default it may
grow to 4 MB. After a codebook import it held 300 pages of the 100,000 unit
names, and a search that needs 2 ms took 10 (and more on a busy machine). A
limit of 256 kB keeps what a search reads at most 32 pages while bulk loads
still merge in batches. The pending lists there now are merged at once.
SQLite's search uses FTS5 (0003_search): nothing to do there.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_search_pending_list"
down_revision: str | None = "0004_research_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = ("ix_unit_revision_search", "ix_assignment_search", "ix_area_search")
LIMIT_KB = 256  # app.db.models._search_index says the same


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} SET (gin_pending_list_limit = {LIMIT_KB})")
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (gin_pending_list_limit)")
