"""research indexes: units by echelon

Revision ID: 0004_research_indexes
Revises: 0003_search
Create Date: 2026-12-03 09:00:00

Researchers list units by echelon ("the regiments standing in 1968"), and the
theatres without a code are the units of echelon `theater`: without an index
each such listing, its count and every facet read all 100,000 unit revisions
of a national codebook; with it, the 1,200 regiments. A plain index, the same
on SQLite and PostgreSQL (no table rebuild, so the FTS5 triggers of
0003_search stay).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_research_indexes"
down_revision: str | None = "0003_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_unit_revision_echelon", "unit_revision", ["echelon"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_unit_revision_echelon", table_name="unit_revision")
