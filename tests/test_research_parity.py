"""SQLite and PostgreSQL give the same answers, byte for byte: listings, search ranks and
scores, facets, pages, exports and trees (each engine's own index only narrows the rows read)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.context import Context
from app.main import create_app
from app.settings import Settings

REQUESTS = [
    "/v1/units?_size=max",
    "/v1/units?_facet=echelon&_facet=theater&_facet=verification&_facet=decade&active_on=1968",
    "/v1/units?q=doan&fuzzy=always&_size=max",
    "/v1/units?q=su%20doan%209&_size=max",
    "/v1/units?q=dong%20bagn",
    "/v1/units?q=b&_facet=echelon",
    "/v1/units?q=Quân%20khu&_sort=name&_size=3",
    "/v1/units?_sort_desc=formed&_size=7",
    "/v1/units?theater=theater-b&active_on=1966&_facet=theater",
    "/v1/units?area=campuchia&_sort=dissolved",
    "/v1/designations?_size=max&_facet=kind&_facet=decade",
    "/v1/designations?code__startswith=doan&_sort_desc=valid_from",
    "/v1/designations?theater=B3&valid_on=1970&_facet=theater",
    "/v1/units.csv?q=truong&fuzzy=always",
    "/v1/units.ndjson?active_between=1960,1970",
    "/v1/designations.csv",
    "/v1/units/theater-b/tree?date=1968",
    "/v1/units/trung-doan-141-su-doan-312/tree?date=1966",
    "/v1/theaters/B2/units?date=1970",
]


@pytest.fixture(scope="module")
def clients(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, TestClient]]:
    """A client on a new sample database of each engine."""
    name = f"phienhieu_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    urls = {
        "sqlite": f"sqlite:///{tmp_path_factory.mktemp('parity') / 'sample.sqlite3'}",
        "postgres": make_url(postgres_admin_url)
        .set(database=name)
        .render_as_string(hide_password=False),
    }
    contexts = {
        k: Context.from_settings(Settings(database_url=u, auto_init=True)) for k, u in urls.items()
    }
    try:
        opened = {}
        for backend, context in contexts.items():
            context.initialise()
            app = create_app(Settings(database_url=urls[backend]), context=context)
            opened[backend] = TestClient(app).__enter__()
        yield opened
        for client in opened.values():
            client.__exit__(None, None, None)
    finally:
        for context in contexts.values():
            context.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("path", REQUESTS)
def test_same_answer_on_both_engines(clients: dict[str, TestClient], path: str) -> None:
    answers = {backend: client.get(path) for backend, client in clients.items()}
    for response in answers.values():
        assert response.status_code == 200, response.text
    assert answers["sqlite"].content == answers["postgres"].content
