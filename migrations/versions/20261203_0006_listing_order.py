"""listing order: indexes in the listings' own order (PostgreSQL)

Revision ID: 0006_listing_order
Revises: 0005_search_pending_list
Create Date: 2026-12-03 11:00:00

Listings sort text by code point on both engines (`COLLATE "C"` on
PostgreSQL, SQLite's default), so that a page and its `_next` key mean the
same everywhere. A PostgreSQL index serves an ORDER BY only in its own
collation: these indexes, in "C", let a page of units by id and a page of
designations by code walk an index and stop after a page instead of sorting
the whole listing (100,000 units, 1,000,000 codes). SQLite's plain indexes
already are in that order. Made by raw SQL and named `*_collate_c`, which
migrations/env.py leaves out of `alembic check` (the models cannot declare an
index for one engine only).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_listing_order"
down_revision: str | None = "0005_search_pending_list"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_unit_revision_unit_id_collate_c": 'unit_revision (unit_id COLLATE "C")',
    "ix_assignment_code_order_collate_c": (
        'assignment (search COLLATE "C", unit_id COLLATE "C", id)'
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, on in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {on}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
