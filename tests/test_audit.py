"""The audit log: every write is in it with who, when, what, before and after; only admins
read it; the database itself refuses to change or delete a record, or a published edition."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import WriteApi  # type: ignore[import-not-found]  # pytest puts tests/ on the path
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.db.models import AuditEvent

WRITES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "audit_writes.jsonl")
    .read_text("utf-8")
    .splitlines()
    if line.strip()
]
SYNTHETIC_EVIDENCE = {
    "kind": "veteran_testimony",
    "citation": "SYNTHETIC test testimony, not a historical source",
    "witness": "Nhân chứng tổng hợp (synthetic)",
}


def _submit(api: WriteApi, code: str) -> int:
    body = {
        "proposal": {
            "type": "assignment",
            "unit": "su-doan-9",
            "kind": "nickname",
            "code": code,
            "note": "synthetic",
        },
        "evidence": SYNTHETIC_EVIDENCE,
    }
    response = api.client.post("/v1/submissions", json=body, headers=api.auth("contributor"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _every_kind_of_write(api: WriteApi) -> None:
    admin, reviewer = api.auth("admin"), api.auth("reviewer")
    key = _ok(
        api.client.post(
            "/v1/keys", json={"role": "contributor", "name": "Synthetic"}, headers=admin
        ),
        201,
    )
    _ok(api.client.post("/v1/editions", json={"label": "audit-2"}, headers=admin), 201)
    accepted, rejected = _submit(api, "Đoàn 9001"), _submit(api, "Đoàn 9002")
    _ok(api.client.post(f"/v1/submissions/{accepted}/accept", json={}, headers=reviewer))
    _ok(
        api.client.post(
            f"/v1/submissions/{rejected}/reject",
            json={"reason": "synthetic test"},
            headers=reviewer,
        )
    )
    dispute = {
        "row": {"table": "parent_link", "unit": "trung-doan-2-su-doan-9"},
        "reason": "synthetic",
    }
    _ok(api.client.post("/v1/disputes", json=dispute, headers=reviewer))
    exported = api.client.get("/v1/editions/audit-2/export").content
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        files = {n: archive.read(n).decode() for n in archive.namelist()}
    files["areas.csv"] = files["areas.csv"].replace("Nam Bộ", "Nam Bộ (synthetic edit)", 1)
    _ok(api.client.post("/v1/editions/audit-2/import", json={"files": files}, headers=admin))
    _ok(api.client.post("/v1/editions/audit-2/publish", headers=admin))
    _ok(api.client.post("/v1/editions/audit-2/retire", headers=admin))
    _ok(api.client.post(f"/v1/keys/{key['id']}/revoke", headers=admin))


def test_every_write_is_logged_and_can_be_paged(write_api: WriteApi) -> None:
    started = dt.datetime.now(dt.UTC)
    _every_kind_of_write(write_api)
    admin = write_api.auth("admin")
    events = _ok(write_api.client.get("/v1/audit?limit=500", headers=admin))["events"]
    # The first start loaded the sample, and the fixture made four keys: logged too.
    assert events[0]["action"] == "edition.import"
    assert events[0]["actor"] == {"key": None, "name": "system", "role": "admin"}
    assert [e["action"] for e in events[1:5]] == ["key.create"] * 4
    assert events[1]["actor"]["name"].startswith("cli:")
    mine = events[5:]
    assert [e["action"] for e in mine] == [w["action"] for w in WRITES]
    for event, want in zip(mine, WRITES, strict=True):
        assert event["target"].startswith(want["target"]), event
        assert event["actor"]["role"] == want["role"]
        assert event["actor"]["name"] == f"Synthetic {want['role']}"
        assert event["actor"]["key"] is not None
        assert (event["before"] is not None) == want["before"], event
        assert (event["after"] is not None) == want["after"], event
        assert started - dt.timedelta(seconds=5) <= dt.datetime.fromisoformat(event["at"])
    ids = [e["id"] for e in events]
    assert ids == sorted(ids)
    # The before/after say what changed.
    publish = next(e for e in mine if e["action"] == "edition.publish")
    assert publish["before"]["status"] == "draft"
    assert publish["after"]["edition"]["status"] == "published"
    assert publish["after"]["edition"]["checksum"]
    accept = next(e for e in mine if e["action"] == "submission.accept")
    assert accept["before"]["submission"]["status"] == "pending"
    assert accept["after"]["row"]["code"] == "Đoàn 9001"
    key_made = mine[0]
    assert "secret" not in json.dumps(key_made)
    assert key_made["after"]["role"] == "contributor"
    # Paging and filters.
    first = _ok(write_api.client.get("/v1/audit?limit=3", headers=admin))
    assert len(first["events"]) == 3
    second = _ok(
        write_api.client.get(f"/v1/audit?limit=3&after={first['next_after']}", headers=admin)
    )
    assert second["events"][0]["id"] > first["events"][-1]["id"]
    only = _ok(write_api.client.get("/v1/audit?action=edition.publish", headers=admin))["events"]
    assert [e["target"] for e in only] == ["edition:audit-2"]
    by = _ok(write_api.client.get("/v1/audit", params={"by": "Synthetic reviewer"}, headers=admin))
    assert {e["action"] for e in by["events"]} == {
        "submission.accept",
        "submission.reject",
        "row.dispute",
    }
    assert by["next_after"] is None


def test_only_admins_read_the_log(refusing_api: WriteApi) -> None:
    assert refusing_api.client.get("/v1/audit").status_code == 401
    assert (
        refusing_api.client.get("/v1/audit", headers=refusing_api.auth("reviewer")).status_code
        == 403
    )
    assert (
        refusing_api.client.get("/v1/audit", headers=refusing_api.auth("admin")).status_code == 200
    )


def test_a_refused_write_is_not_logged(refusing_api: WriteApi) -> None:
    def count() -> int:
        with refusing_api.context.session() as session:
            return session.scalar(select(func.count()).select_from(AuditEvent)) or 0

    before = count()
    admin = refusing_api.auth("admin")
    assert (
        refusing_api.client.post("/v1/editions", json={"label": "123"}, headers=admin).status_code
        == 422
    )
    assert (
        refusing_api.client.post("/v1/editions/sample-2026.1/publish", headers=admin).status_code
        == 409
    )
    assert (
        refusing_api.client.post(
            "/v1/submissions", json={}, headers=refusing_api.auth("contributor")
        ).status_code
        == 422
    )
    assert count() == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET actor = 'someone else'",
        "DELETE FROM audit_event",
        "UPDATE edition SET label = 'renamed' WHERE status = 'published'",
        "UPDATE edition SET checksum = 'x' WHERE status = 'published'",
        "UPDATE edition SET status = 'draft' WHERE status = 'published'",
        "DELETE FROM edition WHERE status = 'published'",
    ],
)
def test_the_database_refuses_to_rewrite_history(refusing_api: WriteApi, statement: str) -> None:
    engine = refusing_api.context.engine
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one() > 0
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.execute(text(statement))
    assert "never" in str(caught.value) or "append-only" in str(caught.value)


def test_the_database_allows_retiring_and_draft_changes(write_api: WriteApi) -> None:
    """The guards are not blanket refusals: what the service does is allowed."""
    engine = write_api.context.engine
    with engine.begin() as conn:
        conn.execute(text("UPDATE edition SET status = 'retired' WHERE seq = 1"))
        conn.execute(
            text(
                "INSERT INTO edition (seq, label, status, note) VALUES (2, 'guard-2', 'draft', '')"
            )
        )
        conn.execute(text("UPDATE edition SET note = 'changed' WHERE seq = 2"))
        conn.execute(text("DELETE FROM edition WHERE seq = 2"))
