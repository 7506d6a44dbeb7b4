"""Database fixtures: every database test runs on a real SQLite file and a real PostgreSQL.

PostgreSQL comes from PHIENHIEU_TEST_POSTGRES_URL (default: the local server,
trust auth). Each fixture database is created for the test run and dropped
after. Without a reachable server the PostgreSQL cases are skipped locally,
and fail under CI (CI=true), so a missing server can never pass unseen.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.context import Context
from app.settings import Settings

BACKENDS = ("sqlite", "postgres")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _admin_url() -> str:
    return os.environ.get("PHIENHIEU_TEST_POSTGRES_URL", DEFAULT_PG)


def _postgres_available() -> str | None:
    """None if the server answers, else why not."""
    try:
        engine = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means "no server" here
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    problem = _postgres_available()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    return _admin_url()


class DatabaseFactory:
    """Creates empty databases of one backend and drops them at the end."""

    def __init__(self, backend: str, tmp: Path, admin_url: str | None) -> None:
        self.backend = backend
        self.tmp = tmp
        self.admin_url = admin_url
        self.created: list[str] = []

    def new(self) -> str:
        name = f"phienhieu_t_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.sqlite3')}"
        assert self.admin_url is not None
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        assert self.admin_url is not None
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseFactory]:
    backend: str = request.param
    admin = request.getfixturevalue("postgres_admin_url") if backend == "postgres" else None
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp(backend), admin)
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseFactory]:
    """A factory of empty databases, once per backend."""
    yield from _factory(request, tmp_path_factory)


@pytest.fixture
def empty_db_url(databases: DatabaseFactory) -> str:
    """A new, empty database (not migrated) for a test that changes things."""
    return databases.new()


@pytest.fixture
def fresh_context(empty_db_url: str) -> Iterator[Context]:
    """A context on a new database, migrated and holding the sample edition."""
    context = Context.from_settings(Settings(database_url=empty_db_url, auto_init=True))
    context.initialise()
    yield context
    context.close()


@pytest.fixture(scope="session")
def sample_context(databases: DatabaseFactory) -> Iterator[Context]:
    """A shared, read-only context on the sample edition (one database per backend)."""
    context = Context.from_settings(Settings(database_url=databases.new(), auto_init=True))
    context.initialise()
    yield context
    context.close()


@dataclass
class WriteApi:
    """A client on a fresh database holding the sample edition, and a key of every role."""

    context: Context
    client: TestClient
    keys: dict[str, str]  # role (and "reviewer2") -> secret

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def _write_api(context: Context) -> Iterator[WriteApi]:
    from app.auth.actor import cli_actor
    from app.auth.service import create_key
    from app.db.models import Role
    from app.main import create_app

    keys = {}
    with context.session() as session:
        for name, role in (
            ("contributor", Role.CONTRIBUTOR),
            ("reviewer", Role.REVIEWER),
            ("reviewer2", Role.REVIEWER),
            ("admin", Role.ADMIN),
        ):
            keys[name] = create_key(session, cli_actor(), role, f"Synthetic {name}")[1]
    app = create_app(context.settings, context=context)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield WriteApi(context, client, keys)


@pytest.fixture
def write_api(fresh_context: Context) -> Iterator[WriteApi]:
    """For tests of writes over HTTP (curation, editions, keys, audit) on both backends."""
    yield from _write_api(fresh_context)


@pytest.fixture(scope="module")
def refusing_api(databases: DatabaseFactory) -> Iterator[WriteApi]:
    """Shared by a module's tests whose writes are all refused, or that only read: the
    sample edition and an open draft `shared-2`."""
    from app.auth.actor import cli_actor
    from app.editions.service import open_draft

    context = Context.from_settings(Settings(database_url=databases.new(), auto_init=True))
    context.initialise()
    with context.session() as session:
        open_draft(session, cli_actor(), "shared-2")
    yield from _write_api(context)
    context.close()
