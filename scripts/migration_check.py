"""Upgrade, `alembic check`, downgrade to base and upgrade again, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import migrate
from app.db.engine import make_engine

PG_ADMIN = os.environ.get(
    "PHIENHIEU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def check(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as connection:
            cfg = migrate.alembic_config(engine)
            cfg.attributes["connection"] = connection
            command.check(cfg)
        migrate.downgrade(engine, "base")
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    print(f"migrations ok on {make_url(url).get_backend_name()}")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        check(f"sqlite:///{Path(tmp) / 'check.sqlite3'}")
    name = f"phienhieu_check_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        check(make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
