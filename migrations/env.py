"""Alembic environment: the URL comes from the caller (app.db.migrate) or from the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from app.db.engine import make_engine
from app.db.models import Base
from app.settings import Settings

config = context.config
target_metadata = Base.metadata


# PostgreSQL's table of distinct codes for search (raw SQL in 0008_distinct_code_search).
POSTGRESQL_ONLY_TABLES = frozenset({"assignment_search"})


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave out of `alembic check` what the models cannot declare: SQLite's FTS5 search tables
    (raw SQL in 0003_search), PostgreSQL's indexes in collation "C" (0006_listing_order) and
    its table of distinct codes (0008_distinct_code_search)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith("fts_") and name not in POSTGRESQL_ONLY_TABLES
    return not (type_ == "index" and name.endswith("_collate_c"))


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        run_with(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run against a database.")
run_migrations_online()
