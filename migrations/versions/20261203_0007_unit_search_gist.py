"""unit search by GiST: unit names indexed by a GiST trigram index (PostgreSQL)

Revision ID: 0007_unit_search_gist
Revises: 0006_listing_order
Create Date: 2026-12-03 12:00:00

Fuzzy search (pg_trgm `%`) over unit names with the GIN index of
0003_search read every name sharing a third of the query's trigrams: "Su
doan 91007" rechecked the 6,000 "Sư đoàn …" names one by one (20 ms), and
"dai doi 3" 270 ms. A GiST index with 256-byte signatures keeps the names'
trigrams in its leaves and answers the same in 1 to 20 ms; substring
searches are as fast or faster than by GIN on the 100,000 names measured.
The codes (a million, shorter) stay on GIN, where GiST was slower. SQLite's
search uses FTS5: nothing to do there.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_unit_search_gist"
down_revision: str | None = "0006_listing_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_unit_revision_search"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX {INDEX}")
    op.execute(
        f"CREATE INDEX {INDEX} ON unit_revision USING gist (search gist_trgm_ops(siglen=256))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX {INDEX}")
    op.execute(
        f"CREATE INDEX {INDEX} ON unit_revision USING gin (search gin_trgm_ops) "
        "WITH (gin_pending_list_limit = 256)"
    )
