"""API keys and roles: every write endpoint refuses a missing, wrong or revoked key (401) and
a role too low (403), as problem+json, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from conftest import WriteApi  # type: ignore[import-not-found]  # pytest puts tests/ on the path
from sqlalchemy import select

from app.auth.actor import cli_actor
from app.auth.service import create_key, revoke_key
from app.cli import main as cli
from app.db.models import ApiKey, Role
from app.problems import PROBLEM_TYPE_BASE

ROUTES = list(
    csv.DictReader(
        (Path(__file__).parent / "data" / "write_routes.csv").read_text("utf-8").splitlines()
    )
)
OURS = ("/v1/editions", "/v1/submissions", "/v1/disputes", "/v1/keys", "/v1/audit")
RANK = {"contributor": 1, "reviewer": 2, "admin": 3}
# Path parameters that name nothing, so an allowed request changes nothing (404/409/422).
HARMLESS = {
    "edition": "no-such-edition",
    "a": "sample-2026.1",
    "b": "sample-2026.1",
    "submission_id": "999999",
    "key_id": "999999",
}


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, (response.request.url, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_TYPE_BASE + slug
    assert body["detail_vi"] != body["detail"]
    return body


def _call(api: WriteApi, row: dict[str, str], headers: dict[str, str]) -> Any:
    path = row["path"].format(**HARMLESS)
    if row["method"] == "GET":
        return api.client.get(path, headers=headers)
    return api.client.post(path, json={}, headers=headers)


def test_every_write_route_is_listed() -> None:
    """A new write endpoint under our prefixes must be added to write_routes.csv (and so be
    tested below); a listed one must exist."""
    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(database_url="sqlite:///unused.sqlite3"))
    found = set()
    for path, operations in app.openapi()["paths"].items():
        if path.startswith(OURS):
            for method in operations:
                if method != "get" or path in ("/v1/keys", "/v1/audit"):
                    found.add((method.upper(), path))
    assert found == {(r["method"], r["path"]) for r in ROUTES}


def test_role_checks_on_every_write(write_api: WriteApi) -> None:
    # A revoked key of the highest role is as good as none.
    with write_api.context.session() as session:
        key, revoked = create_key(session, cli_actor(), Role.ADMIN, "Synthetic revoked admin")
        revoke_key(session, cli_actor(), key.id)
    for row in ROUTES:
        if row["role"] == "public":
            response = _call(write_api, row, {})
            assert response.status_code not in (401, 403), (row, response.text)
            continue
        for headers in (
            {},
            {"Authorization": "Bearer phk_not-a-key"},
            {"X-API-Key": "phk_not-a-key"},
            {"Authorization": f"Bearer {revoked}"},
            {"Authorization": "Basic dXNlcjpwYXNz"},
        ):
            body = _problem(_call(write_api, row, headers), 401, "not-authenticated")
            assert body["instance"] == row["path"].format(**HARMLESS)
        response = _call(write_api, row, {})
        assert response.headers["www-authenticate"].startswith("Bearer")
        for role, rank in RANK.items():
            response = _call(write_api, row, write_api.auth(role))
            if rank < RANK[row["role"]]:
                body = _problem(response, 403, "forbidden")
                assert body["needed_role"] == row["role"]
                assert body["key_role"] == role
            else:
                assert response.status_code not in (401, 403), (row, role, response.text)


def test_x_api_key_header_works_like_bearer(refusing_api: WriteApi) -> None:
    response = refusing_api.client.get(
        "/v1/keys", headers={"X-API-Key": refusing_api.keys["admin"]}
    )
    assert response.status_code == 200, response.text


def test_key_is_shown_once_stored_hashed_and_revocable(write_api: WriteApi) -> None:
    made = write_api.client.post(
        "/v1/keys",
        json={"role": "reviewer", "name": "Synthetic Lê Thị B"},
        headers=write_api.auth("admin"),
    )
    assert made.status_code == 201, made.text
    created = made.json()
    secret = created["secret"]
    assert secret.startswith("phk_")
    assert len(secret) > 40
    assert created["prefix"] == secret[:12]
    assert created["name"] == "Synthetic Lê Thị B"
    # The new key works at once, with its role.
    assert (
        write_api.client.post("/v1/disputes", json={}, headers={"X-API-Key": secret}).status_code
        == 422
    )
    listed = write_api.client.get("/v1/keys", headers=write_api.auth("admin")).json()["keys"]
    assert secret not in str(listed)
    assert all("secret" not in k for k in listed)
    with write_api.context.session() as session:
        stored = session.scalars(select(ApiKey).where(ApiKey.id == created["id"])).one()
        for column in ApiKey.__table__.columns:
            assert secret not in str(getattr(stored, column.key))
        assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    # Two keys are never the same.
    again = write_api.client.post(
        "/v1/keys",
        json={"role": "reviewer", "name": "Synthetic Lê Thị B"},
        headers=write_api.auth("admin"),
    ).json()
    assert again["secret"] != secret

    # A revoked key stops working at once.
    admin = write_api.auth("admin")
    made = write_api.client.post(
        "/v1/keys", json={"role": "admin", "name": "Synthetic"}, headers=admin
    )
    key = made.json()
    theirs = {"Authorization": f"Bearer {key['secret']}"}
    assert write_api.client.get("/v1/keys", headers=theirs).status_code == 200
    revoked = write_api.client.post(f"/v1/keys/{key['id']}/revoke", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    _problem(write_api.client.get("/v1/keys", headers=theirs), 401, "not-authenticated")
    _problem(write_api.client.post("/v1/keys/999999/revoke", headers=admin), 404, "not-found")


def test_bad_key_requests_are_problems(refusing_api: WriteApi) -> None:
    admin = refusing_api.auth("admin")
    bad = refusing_api.client.post("/v1/keys", json={"role": "emperor", "name": "x"}, headers=admin)
    _problem(bad, 422, "invalid-request")
    empty = refusing_api.client.post(
        "/v1/keys", json={"role": "admin", "name": "  "}, headers=admin
    )
    _problem(empty, 422, "submission-invalid")


def test_cli_makes_keys_that_the_api_accepts(write_api: WriteApi) -> None:
    env = {"PHIENHIEU_DATABASE_URL": write_api.context.settings.database_url}
    runner = CliRunner()
    made = runner.invoke(
        cli, ["keys", "create", "--role", "reviewer", "--name", "Synthetic CLI"], env=env
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("phk_")
    assert "only once" in made.stderr
    listed = runner.invoke(cli, ["keys", "list"], env=env)
    assert "Synthetic CLI" in listed.stdout
    assert secret not in listed.stdout
    # A reviewer key: allowed to dispute (422 for the empty body), not to list keys (403).
    headers = {"Authorization": f"Bearer {secret}"}
    assert write_api.client.post("/v1/disputes", json={}, headers=headers).status_code == 422
    _problem(write_api.client.get("/v1/keys", headers=headers), 403, "forbidden")
    with write_api.context.session() as session:
        key_id = session.scalars(select(ApiKey.id).where(ApiKey.name == "Synthetic CLI")).one()
    revoked = runner.invoke(cli, ["keys", "revoke", str(key_id)], env=env)
    assert revoked.exit_code == 0, revoked.output
    _problem(
        write_api.client.post("/v1/disputes", json={}, headers=headers), 401, "not-authenticated"
    )
