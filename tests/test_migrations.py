"""Migrations upgrade, match the models, downgrade and upgrade again, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.util.exc import CommandError
from sqlalchemy import inspect

from app.context import Context
from app.db import migrate
from app.db.engine import make_engine
from app.settings import Settings

TABLES = {"edition", "source", "unit", "unit_revision", "assignment", "parent_link", "area"}


def test_upgrade_check_downgrade_upgrade(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.begin() as connection:
            cfg = migrate.alembic_config(engine)
            cfg.attributes["connection"] = connection
            try:
                command.check(cfg)
            except CommandError as exc:  # pragma: no cover - the failure message is the point
                raise AssertionError(f"models and migrations differ: {exc}") from exc
        migrate.downgrade(engine, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_initialise_is_idempotent(empty_db_url: str) -> None:
    context = Context.from_settings(Settings(database_url=empty_db_url, auto_init=True))
    try:
        assert context.initialise() is True
        assert context.initialise() is False
    finally:
        context.close()
