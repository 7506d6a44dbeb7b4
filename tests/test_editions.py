"""Editions over HTTP, on SQLite and PostgreSQL: the lifecycle, published answers that never
change, export/import round trips, atomic imports, diff, impact, and readers during a publish."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DatabaseFactory, WriteApi, _write_api  # type: ignore[import-not-found]  # pytest puts tests/ on the path
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, select, text

from app.auth.actor import cli_actor
from app.context import Context
from app.db import migrate
from app.decode.service import decode
from app.editions.service import import_into, open_draft, publish
from app.main import create_app
from app.settings import Settings
from codebook.bundle import SAMPLE_BUNDLE, bundle_from_files, bundle_from_zip, read_bundle

DATA = Path(__file__).parent / "data"
SAMPLE = "sample-2026.1"
CHANGES = json.loads((DATA / "edition_changes.json").read_text("utf-8"))
IMPACT = [json.loads(x) for x in (DATA / "impact_cases.jsonl").read_text("utf-8").splitlines() if x]
GOLDEN = [
    json.loads(x) for x in (DATA / "decode_golden.jsonl").read_text("utf-8").splitlines() if x
]
BREAKAGES = [
    json.loads(x) for x in (DATA / "bundle_breakages.jsonl").read_text("utf-8").splitlines() if x
]


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/" + slug), body
    assert body["detail_vi"] != body["detail"]
    return body


def _files(api: WriteApi, edition: str) -> dict[str, str]:
    files: dict[str, str] = _ok(api.client.get(f"/v1/editions/{edition}/export?format=json"))[
        "files"
    ]
    return files


def _edited(files: dict[str, str]) -> dict[str, str]:
    """The bundle files with the synthetic edits of edition_changes.json applied."""
    out = dict(files)
    for edit in CHANGES["edits"]:
        if "append" in edit:
            out[edit["file"]] += edit["append"] + "\n"
        else:
            old, new = edit["replace"]
            assert out[edit["file"]].count(old) == 1, old
            out[edit["file"]] = out[edit["file"]].replace(old, new)
    return out


def _import(api: WriteApi, edition: str, files: dict[str, str], role: str = "admin") -> Any:
    return api.client.post(
        f"/v1/editions/{edition}/import", json={"files": files}, headers=api.auth(role)
    )


def _open(api: WriteApi, label: str) -> dict[str, Any]:
    return _ok(
        api.client.post("/v1/editions", json={"label": label}, headers=api.auth("admin")), 201
    )


def _decode(api: WriteApi, text_: str, date: str | None, edition: str | None) -> dict[str, Any]:
    return _ok(
        api.client.post("/v1/decode", json={"text": text_, "date": date, "edition": edition})
    )


# --- lifecycle -------------------------------------------------------------------------------


def test_lifecycle_draft_publish_retire(write_api: WriteApi) -> None:
    api, admin = write_api, write_api.auth("admin")
    post = api.client.post
    sample = _ok(api.client.get(f"/v1/editions/{SAMPLE}"))
    assert sample["edition"]["status"] == "published"
    assert sample["counts"]["units"] > 40
    for label, status, slug in (
        (SAMPLE, 409, "conflict"),  # labels are never reused
        ("2026", 422, "submission-invalid"),  # all digits would read as a sequence number
        ("bad label!", 422, "submission-invalid"),
    ):
        _problem(post("/v1/editions", json={"label": label}, headers=admin), status, slug)

    draft = _open(api, "2026.2")
    assert draft["edition"] == {
        "seq": 2,
        "label": "2026.2",
        "status": "draft",
        "published_on": None,
        "checksum": None,
    }
    assert draft["counts"] == sample["counts"]  # it starts as a copy of the newest edition
    _problem(post("/v1/editions", json={"label": "2026.3"}, headers=admin), 409, "conflict")
    # The default is the latest *published* edition; a draft answers only when named.
    assert _decode(api, "B3", "1970", None)["edition"]["label"] == SAMPLE
    assert _decode(api, "B3", "1970", "2026.2")["edition"]["status"] == "draft"
    assert _decode(api, "B3", "1970", "2")["edition"]["label"] == "2026.2"

    _problem(post(f"/v1/editions/{SAMPLE}/publish", headers=admin), 409, "conflict")
    _problem(post("/v1/editions/2026.2/retire", headers=admin), 409, "conflict")
    _ok(_import(api, "2026.2", _edited(_files(api, "2026.2"))))
    published = _ok(post("/v1/editions/2026.2/publish", headers=admin))["edition"]
    assert published["status"] == "published"
    assert published["published_on"] == dt.date.today().isoformat()
    exported = api.client.get("/v1/editions/2026.2/export")
    assert exported.headers["x-phienhieu-edition"] == "2026.2"
    assert published["checksum"] == bundle_from_zip(exported.content).checksum
    _problem(post("/v1/editions/2026.2/publish", headers=admin), 409, "conflict")
    _problem(_import(api, "2026.2", _files(api, SAMPLE)), 409, "conflict")
    assert _decode(api, "B3", "1970", None)["edition"]["label"] == "2026.2"

    retired = _ok(post("/v1/editions/2026.2/retire", headers=admin))
    assert retired["status"] == "retired"
    assert retired["checksum"] == published["checksum"]
    _problem(post("/v1/editions/2026.2/retire", headers=admin), 409, "conflict")
    # Retired: no longer the default, still readable by name, and says it is retired.
    assert _decode(api, "B3", "1970", None)["edition"]["label"] == SAMPLE
    answer = _decode(api, "Đoàn 9999", "1970", "2026.2")
    assert answer["edition"]["status"] == "retired"
    assert answer["status"] == "resolved"
    listed = _ok(api.client.get("/v1/editions"))["editions"]
    assert [(e["label"], e["status"]) for e in listed] == [
        (SAMPLE, "published"),
        ("2026.2", "retired"),
    ]


# --- published editions never change -----------------------------------------------------------


def _everything_about(client: TestClient, edition: str) -> bytes:
    """Every answer an edition gives that the tests can name, as bytes."""
    parts: list[Any] = []
    for case in GOLDEN:
        body = {"text": case["text"], "date": case.get("date"), "edition": edition}
        parts.append(client.post("/v1/decode", json=body).content)
    files = client.get(f"/v1/editions/{edition}/export?format=json").json()["files"]
    units = [line.split(",", 1)[0] for line in files["units.csv"].splitlines()[1:]]
    for unit in units:
        parts.append(client.get(f"/v1/units/{unit}", params={"edition": edition}).content)
        parts.append(
            client.get(f"/v1/units/{unit}/designations", params={"edition": edition}).content
        )
    for code in ("B3", "F9", "Công trường 9", "Đoàn 9999", "E2"):
        parts.append(
            client.get("/v1/designations", params={"code": code, "edition": edition}).content
        )
    parts.append(client.get(f"/v1/editions/{edition}/export").content)
    parts.append(client.get(f"/v1/editions/{edition}").content)
    return b"\n".join(p if isinstance(p, bytes) else json.dumps(p).encode() for p in parts)


def test_published_answers_are_byte_for_byte_the_same_after_later_editions(
    write_api: WriteApi,
) -> None:
    api, admin = write_api, write_api.auth("admin")
    before = _everything_about(api.client, SAMPLE)
    assert len(before) > 100_000

    # Later editions change much of what the sample says, every way a change can be made.
    _open(api, "later-2")
    body = {
        "proposal": {
            "type": "assignment",
            "unit": "su-doan-9",
            "kind": "cover_name",
            "code": "Công trường 9",
            "valid_from": "1966",
            "note": "SYNTHETIC",
        },
        "evidence": {"kind": "army_record", "citation": "SYNTHETIC army record for a test"},
        "corrects": {"table": "assignment", "unit": "su-doan-9", "code": "Công trường 9"},
    }
    sub = _ok(api.client.post("/v1/submissions", json=body, headers=api.auth("contributor")), 201)
    _ok(
        api.client.post(
            f"/v1/submissions/{sub['id']}/accept", json={}, headers=api.auth("reviewer")
        )
    )
    row = {"table": "unit", "unit": "mat-tran-tay-nguyen"}
    dispute = {"row": row, "reason": "SYNTHETIC doubt"}
    _ok(api.client.post("/v1/disputes", json=dispute, headers=api.auth("reviewer")))
    _ok(_import(api, "later-2", _edited(_files(api, "later-2"))))
    _ok(api.client.post("/v1/editions/later-2/publish", headers=admin))
    _open(api, "later-3")
    _ok(_import(api, "later-3", _files(api, SAMPLE)))
    _ok(api.client.post("/v1/editions/later-3/publish", headers=admin))
    _ok(api.client.post("/v1/editions/later-2/retire", headers=admin))
    assert _decode(api, "Công trường 9", "1968", "later-2") != _decode(
        api, "Công trường 9", "1968", SAMPLE
    )

    assert _everything_about(api.client, SAMPLE) == before  # through the cached reader
    fresh = Context.from_settings(Settings(database_url=api.context.settings.database_url))
    try:
        app = create_app(fresh.settings, context=fresh)
        with TestClient(app) as client:
            assert _everything_about(client, SAMPLE) == before  # and read anew from the database
    finally:
        fresh.close()


# --- export and import -----------------------------------------------------------------------


@pytest.fixture
def empty_api(databases: DatabaseFactory) -> Iterator[WriteApi]:
    """Another database, migrated, with no edition yet, and keys."""
    context = Context.from_settings(Settings(database_url=databases.new(), auto_init=False))
    migrate.upgrade(context.engine)
    yield from _write_api(context)
    context.close()


def test_export_import_export_is_identical(write_api: WriteApi, empty_api: WriteApi) -> None:
    exported = write_api.client.get(f"/v1/editions/{SAMPLE}/export")
    assert exported.headers["content-type"] == "application/zip"
    assert f'filename="phienhieu-{SAMPLE}.zip"' in exported.headers["content-disposition"]
    # Into a codebook with nothing in it: a draft of the same label, filled, published.
    _open(empty_api, SAMPLE)
    admin = empty_api.auth("admin")
    done = _ok(
        empty_api.client.post(
            f"/v1/editions/{SAMPLE}/import",
            content=exported.content,
            headers={**admin, "content-type": "application/zip"},
        )
    )
    assert done["changed"]
    _ok(empty_api.client.post(f"/v1/editions/{SAMPLE}/publish", headers=admin))
    again = empty_api.client.get(f"/v1/editions/{SAMPLE}/export")
    assert again.content == exported.content
    assert _files(empty_api, SAMPLE) == _files(write_api, SAMPLE)
    # The same content, the same checksum, in both databases and in the shipped bundle.
    [mine] = _ok(write_api.client.get("/v1/editions"))["editions"]
    [theirs] = _ok(empty_api.client.get("/v1/editions"))["editions"]
    assert mine["checksum"] == theirs["checksum"] == read_bundle(SAMPLE_BUNDLE).checksum
    # JSON export is the import's JSON body; a draft's export names the draft in bundle.toml.
    _open(write_api, "copy-2")
    first = _ok(_import(write_api, "copy-2", _files(write_api, SAMPLE)))
    assert (first["added"], first["superseded"]) == (0, 0)  # only the note was taken
    assert not _ok(_import(write_api, "copy-2", _files(write_api, SAMPLE)))["changed"]
    copy = _files(write_api, "copy-2")
    sample = _files(write_api, SAMPLE)
    assert {k: v for k, v in copy.items() if k != "bundle.toml"} == {
        k: v for k, v in sample.items() if k != "bundle.toml"
    }
    assert 'label = "copy-2"' in copy["bundle.toml"]


def _dump(engine: Engine) -> str:
    """Every row of every table, and PostgreSQL's sequences: what any write would change."""
    metadata = MetaData()
    metadata.reflect(engine)
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(select(table).order_by(*order)).all()
            out[table.name] = [[repr(v) for v in row] for row in rows]
        if engine.dialect.name == "postgresql":
            sequences = conn.execute(
                text("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")
            )
            out["(sequences)"] = [list(map(repr, s)) for s in sequences]
    return json.dumps(out, sort_keys=True)


def _sqlite_file(engine: Engine) -> bytes | None:
    """The SQLite file's bytes after moving every committed page into it (None elsewhere).

    With WAL the main file changes only at a checkpoint, so checkpoint first: a committed
    change would then show in the bytes; an uncommitted one cannot.
    """
    if engine.dialect.name != "sqlite":
        return None
    with engine.connect() as conn:
        busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        assert busy == 0
    assert engine.url.database
    return Path(engine.url.database).read_bytes()


def _zip(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return out.getvalue()


def test_a_failed_import_leaves_the_database_byte_for_byte_unchanged(
    write_api: WriteApi,
) -> None:
    api, admin = write_api, write_api.auth("admin")
    _open(api, "fail-2")
    files = _files(api, "fail-2")
    broken = dict(files)
    for case in BREAKAGES:
        broken[case["file"]] += case["append"] + "\n"
    conflicting = dict(files)
    conflicting["sources.csv"] = files["sources.csv"].replace("bktt.vn", "bktt.example", 1)

    engine = api.context.engine
    before, file_before = _dump(engine), _sqlite_file(engine)

    problem = _problem(_import(api, "fail-2", broken), 422, "bundle-invalid")
    # Every problem, each with its file, line and column.
    lines = len(files["assignments.csv"].splitlines())
    assert {"file": "assignments.csv", "line": lines + 1, "column": "unit"} in [
        {k: p[k] for k in ("file", "line", "column")} for p in problem["problems"]
    ]
    assert len(problem["problems"]) >= len(BREAKAGES)
    zipped = {**admin, "content-type": "application/zip"}
    post = api.client.post
    _problem(
        post("/v1/editions/fail-2/import", content=_zip(broken), headers=zipped),
        422,
        "bundle-invalid",
    )
    _problem(_import(api, "fail-2", conflicting), 422, "bundle-invalid")
    _problem(
        post("/v1/editions/fail-2/import", content=b"not a zip", headers=zipped),
        422,
        "bundle-invalid",
    )
    text_body = {**admin, "content-type": "text/csv"}
    _problem(
        post("/v1/editions/fail-2/import", content=b"a,b", headers=text_body),
        415,
        "unsupported-media-type",
    )
    _problem(_import(api, SAMPLE, _edited(files)), 409, "conflict")  # published: never changes
    _problem(_import(api, "fail-2", _edited(files), role="reviewer"), 403, "forbidden")
    _problem(
        api.client.post("/v1/editions/fail-2/import", json={"files": files}),
        401,
        "not-authenticated",
    )

    assert _dump(engine) == before
    assert _sqlite_file(engine) == file_before
    # The comparison can fail: a good import changes both.
    _ok(_import(api, "fail-2", _edited(files)))
    assert _dump(engine) != before
    if file_before is not None:
        assert _sqlite_file(engine) != file_before


# --- diff and impact -------------------------------------------------------------------------


def test_reimport_diff_and_impact(write_api: WriteApi) -> None:
    api = write_api
    _open(api, "diff-2")
    edited = _edited(_files(api, SAMPLE))
    first = _ok(_import(api, "diff-2", edited))
    assert first["changed"]
    assert first["added"] > 0
    # Importing the same bundle again writes nothing, and logs nothing.
    imports = {"action": "edition.import"}
    audit = api.client.get("/v1/audit", params=imports, headers=api.auth("admin"))
    events = len(_ok(audit)["events"])
    second = _ok(_import(api, "diff-2", edited))
    assert (second["changed"], second["added"], second["superseded"]) == (False, 0, 0)
    audit = api.client.get("/v1/audit", params=imports, headers=api.auth("admin"))
    assert len(_ok(audit)["events"]) == events

    diff = _ok(api.client.get(f"/v1/editions/{SAMPLE}/diff/diff-2"))
    assert diff["from"]["label"] == SAMPLE
    assert diff["to"]["label"] == "diff-2"
    assert diff["summary"] == CHANGES["summary"]
    for table, fields in CHANGES["changed_fields"].items():
        assert [c["fields"] for c in diff[table]["changed"]] == [fields]
    [moved] = diff["assignments"]["removed"]
    assert (moved["unit"], moved["code"]) == ("su-doan-9", "Công trường 9")
    assert {a["unit"] for a in diff["assignments"]["added"]} == {"su-doan-7", "synthetic-doan-9999"}

    backwards = _ok(api.client.get(f"/v1/editions/diff-2/diff/{SAMPLE}"))
    for table, counts in CHANGES["summary"].items():
        swapped = {
            "added": counts["removed"],
            "removed": counts["added"],
            "changed": counts["changed"],
        }
        assert backwards["summary"][table] == swapped
    same = _ok(api.client.get(f"/v1/editions/{SAMPLE}/diff/1"))
    assert all(c == {"added": 0, "removed": 0, "changed": 0} for c in same["summary"].values())
    _problem(api.client.get(f"/v1/editions/{SAMPLE}/diff/nope"), 404, "edition-not-found")

    as_csv = api.client.get(f"/v1/editions/{SAMPLE}/diff/diff-2?format=csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    expected = sum(
        c["added"] + c["removed"] + 2 * c["changed"] for c in CHANGES["summary"].values()
    )
    assert len(rows) == expected
    assert {(r["from_edition"], r["to_edition"]) for r in rows} == {(SAMPLE, "diff-2")}
    changed = [r for r in rows if r["change"] == "changed"]
    assert [(r["side"], r["verification"]) for r in changed] == [
        ("before", "unverified"),
        ("after", "disputed"),
    ]

    items = [{"text": c["text"], "date": c["date"], "id": str(n)} for n, c in enumerate(IMPACT)]
    impact = _ok(api.client.post(f"/v1/editions/{SAMPLE}/impact/diff-2", json={"items": items}))
    assert impact["from"]["label"] == SAMPLE
    assert impact["to"]["label"] == "diff-2"
    assert impact["total"] == len(IMPACT)
    assert impact["changed"] == sum(c["changed"] for c in IMPACT)
    for item, case in zip(impact["items"], IMPACT, strict=True):
        assert item["id"] == str(IMPACT.index(case))
        assert item["changed"] == case["changed"], (case, item)
        assert set(case.get("changes", [])) <= set(item.get("changes", [])), (case, item)
        assert ("error" in item and item["error"] is not None) == case.get("error", False)
        if item["changed"]:
            assert item["explanation_en"]
            assert item["explanation_vi"]
    moved_item = impact["items"][0]
    assert moved_item["before"]["unit"] == "su-doan-9"
    assert moved_item["after"]["unit"] == "su-doan-7"
    assert "Sư đoàn 7" in moved_item["explanation_vi"]
    # Impact is a read: no key needed.
    too_many = {"items": [{"text": "B3"}] * 5001}
    _problem(
        api.client.post(f"/v1/editions/{SAMPLE}/impact/diff-2", json=too_many),
        422,
        "invalid-request",
    )

    # Back to the sample's content: rows and sources dropped in this draft come back.
    back = _ok(_import(api, "diff-2", _files(api, SAMPLE)))
    assert back["changed"]
    assert _files(api, "diff-2")["units.csv"] == _files(api, SAMPLE)["units.csv"]
    assert _files(api, "diff-2")["sources.csv"] == _files(api, SAMPLE)["sources.csv"]


# --- readers during a publish ----------------------------------------------------------------


def test_readers_during_a_publish_see_one_edition_or_the_other(fresh_context: Context) -> None:
    context = fresh_context
    with context.session() as session:
        draft = open_draft(session, cli_actor(), "race-2")
        files = {
            name: (SAMPLE_BUNDLE / name).read_text("utf-8")
            for name in (
                "sources.csv",
                "units.csv",
                "assignments.csv",
                "parent_links.csv",
                "areas.csv",
            )
        }
        files["assignments.csv"] = files["assignments.csv"].replace(
            "su-doan-9,cover_name,Công trường 9", "su-doan-7,cover_name,Công trường 9"
        )
        import_into(session, cli_actor(), draft.seq, bundle_from_files(files, label="race-2"))

    def answer(edition: str | None) -> dict[str, Any]:
        with context.session() as session:
            return decode(context, session, "Công trường 9, Sư đoàn 9", "1968", edition)

    expected = {SAMPLE: answer(SAMPLE), "race-2": answer("race-2")}
    expected["race-2"]["edition"] = {**expected["race-2"]["edition"]}  # replaced after publish
    seen: list[tuple[int, str, str]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read(reader: int) -> None:
        try:
            while not stop.is_set():
                got = answer(None)
                seen.append((reader, got["edition"]["label"], json.dumps(got, sort_keys=True)))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            stop.set()

    readers = [threading.Thread(target=read, args=(n,)) for n in range(3)]
    for reader in readers:
        reader.start()
    try:
        while len(seen) < 30 and not errors:
            stop.wait(0.01)
        with context.session() as session:
            publish(session, cli_actor(), "race-2")
        published_at = len(seen)
        while len(seen) < published_at + 30 and not errors:
            stop.wait(0.01)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert not errors, errors
    expected["race-2"] = answer("race-2")  # now published: the same answer, with its checksum
    want = {label: json.dumps(body, sort_keys=True) for label, body in expected.items()}
    assert {label for _, label, _ in seen} == {SAMPLE, "race-2"}
    # Once a reader has seen the new edition it never goes back, and no answer mixes the two.
    for n in range(len(readers)):
        labels = [label for reader, label, _ in seen if reader == n]
        assert labels == sorted(labels, key=lambda lab: lab == "race-2")
    for _, label, body in seen:
        assert body == want[label]
