"""POST /v1/decode remembers which edition answers: a change made here is seen at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.context import Context
from app.main import create_app
from codebook.bundle import SAMPLE_BUNDLE, read_bundle
from codebook.store import load_bundle


@pytest.fixture
def client(fresh_context: Context) -> Iterator[TestClient]:
    app = create_app(fresh_context.settings, context=fresh_context)
    with TestClient(app) as test_client:
        yield test_client


def test_a_new_edition_answers_at_once(client: TestClient, fresh_context: Context) -> None:
    body = {"text": "Công trường 9", "date": "1968"}
    first = client.post("/v1/decode", json=body).json()
    assert client.post("/v1/decode", json=body).json() == first  # now a remembered answer
    bundle = read_bundle(SAMPLE_BUNDLE, label="sample-2026.2-test")
    unit = bundle.units[0]
    changed = dataclasses.replace(
        bundle, units=(dataclasses.replace(unit, note=unit.note + " (test)"), *bundle.units[1:])
    )
    with fresh_context.session() as session:
        load_bundle(session, changed, publish=True)
    after = client.post("/v1/decode", json=body).json()
    assert after["edition"]["label"] == "sample-2026.2-test"
    assert after["edition"]["seq"] == first["edition"]["seq"] + 1
    assert {k: v for k, v in after.items() if k != "edition"} == {
        k: v for k, v in first.items() if k != "edition"
    }
