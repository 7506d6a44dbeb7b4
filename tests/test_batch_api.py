"""POST /v1/decode/batch and POST /v1/decode/file on the sample edition, SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from app.batch.rows import DECODE_COLUMNS
from app.batch.service import MAX_BATCH_ITEMS
from app.context import Context
from app.main import create_app
from app.problems import PROBLEM_TYPE_BASE
from app.schemas import DecodeOut
from app.settings import Settings

DATA = Path(__file__).parent / "data"
GOLDEN = [
    json.loads(line)
    for line in (DATA / "decode_golden.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]
ITEMS = [{"id": f"LS-{i}", "text": c["text"], "date": c["date"]} for i, c in enumerate(GOLDEN)]
NDJSON = "application/x-ndjson"


@pytest.fixture(scope="module")
def client(sample_context: Context) -> Iterator[TestClient]:
    app = create_app(
        Settings(database_url=sample_context.settings.database_url), context=sample_context
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_TYPE_BASE + slug
    assert body["detail_vi"] != body["detail"]
    assert "Traceback" not in response.text
    return body


def test_full_view_answers_each_item_as_decode_does(client: TestClient) -> None:
    response = client.post("/v1/decode/batch", json={"items": ITEMS, "view": "full"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["edition"]["label"] == "sample-2026.1"
    assert response.headers["x-phienhieu-edition"] == "sample-2026.1"
    results = body["results"]
    assert [r["id"] for r in results] == [item["id"] for item in ITEMS]
    assert [r["index"] for r in results] == list(range(len(ITEMS)))
    for item, result in zip(ITEMS, results, strict=True):
        single = client.post("/v1/decode", json={"text": item["text"], "date": item["date"]})
        assert {k: v for k, v in result.items() if k not in ("id", "index")} == single.json()
        DecodeOut.model_validate({k: v for k, v in result.items() if k not in ("id", "index")})


def _unit(link: dict[str, Any]) -> dict[str, Any]:
    return {"id": link["id"], "name": link["name"], "echelon": link["echelon"]}


def _summary_of(full: dict[str, Any]) -> dict[str, Any]:
    """What the summary view must say, read off the full answer of POST /v1/decode."""
    candidates = full["candidates"]
    best = candidates[0] if candidates else None
    return {
        "input": full["input"],
        "date": full["date"],
        "status": full["status"],
        "unit": _unit(best["chain"][0]) if best else None,
        "chain": [_unit(link) for link in best["chain"]] if best else [],
        "score": best["score"] if best else None,
        "others": [{**_unit(c["chain"][0]), "score": c["score"]} for c in candidates[1:]],
        "warning_codes": list(dict.fromkeys(w["code"] for w in full["warnings"])),
    }


def test_summary_is_the_default_and_agrees_with_decode(client: TestClient) -> None:
    response = client.post("/v1/decode/batch", json={"items": ITEMS})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["id"] for r in results] == [item["id"] for item in ITEMS]
    assert [r["index"] for r in results] == list(range(len(ITEMS)))
    assert {r["status"] for r in results} >= {"resolved", "ambiguous", "unresolved", "invalid"}
    assert any(r["others"] for r in results)
    assert any(r["warning_codes"] for r in results)
    for item, result, case in zip(ITEMS, results, GOLDEN, strict=True):
        single = client.post("/v1/decode", json={"text": item["text"], "date": item["date"]})
        expected = {"id": item["id"], "index": result["index"], **_summary_of(single.json())}
        assert result == expected, item
        assert result["status"] == case["status"]


def test_summary_is_smaller_than_full(client: TestClient) -> None:
    summary = client.post("/v1/decode/batch", json={"items": ITEMS}).content
    full = client.post("/v1/decode/batch", json={"items": ITEMS, "view": "full"}).content
    assert len(summary) * 4 < len(full)


def test_unknown_view_is_422(client: TestClient) -> None:
    body = _problem(
        client.post("/v1/decode/batch", json={"items": ITEMS[:1], "view": "all"}),
        422,
        "invalid-request",
    )
    assert "view" in json.dumps(body)


@pytest.mark.parametrize("view", ["summary", "full"])
def test_bad_items_get_their_own_error(client: TestClient, view: str) -> None:
    items: list[Any] = [
        {"id": 1, "text": "Công trường 9", "date": "1968"},
        {"id": 2, "text": "C" * 501},
        {"id": 3, "text": "B3", "date": "32/13/1970"},
        {"id": 4},
        "not an item",
        {"id": 6, "text": "B3", "colour": "red"},
        {"id": 7, "text": "B3", "date": "1970"},
    ]
    response = client.post("/v1/decode/batch", json={"items": items, "view": view})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["id"] for r in results] == [1, 2, 3, 4, None, 6, 7]
    assert [r.get("status") for r in results] == ["resolved", *[None] * 5, "resolved"]
    slugs = [r["error"]["type"].removeprefix(PROBLEM_TYPE_BASE) for r in results[1:6]]
    assert slugs == [
        "input-too-long",
        "invalid-date",
        "invalid-item",
        "invalid-item",
        "invalid-item",
    ]
    for result in results[1:6]:
        assert result["error"]["detail_vi"] != result["error"]["detail"]


@pytest.mark.parametrize("view", ["summary", "full"])
def test_ndjson_streams_the_same_results(client: TestClient, view: str) -> None:
    body = {"items": ITEMS, "view": view}
    plain = client.post("/v1/decode/batch", json=body).json()["results"]
    response = client.post("/v1/decode/batch", json=body, headers={"accept": NDJSON})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(NDJSON)
    assert response.headers["x-phienhieu-edition"] == "sample-2026.1"
    lines = response.text.splitlines()
    assert [json.loads(line) for line in lines] == plain


def test_the_limit_is_accepted_and_one_more_refused(client: TestClient) -> None:
    items = [{"id": i, "text": "B3", "date": str(1964 + i % 12)} for i in range(MAX_BATCH_ITEMS)]
    response = client.post("/v1/decode/batch", json={"items": items})
    assert response.status_code == 200
    assert len(response.json()["results"]) == MAX_BATCH_ITEMS
    body = _problem(
        client.post("/v1/decode/batch", json={"items": [*items, {"text": "B3"}]}),
        413,
        "batch-too-large",
    )
    assert body["max_items"] == MAX_BATCH_ITEMS


def test_batch_with_unknown_edition_is_404(client: TestClient) -> None:
    _problem(
        client.post("/v1/decode/batch", json={"items": ITEMS[:1], "edition": "no-such"}),
        404,
        "edition-not-found",
    )


def test_batch_that_is_not_a_batch_is_422(client: TestClient) -> None:
    _problem(client.post("/v1/decode/batch", json={"item": []}), 422, "invalid-request")


def _list_csv(delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["STT", "Họ và tên", "Đơn vị", "Ngày hi sinh"])
    for i, case in enumerate(GOLDEN, 1):
        writer.writerow([i, f"Liệt sĩ mẫu {i}", case["text"], case["date"] or ""])
    writer.writerow([999, "Liệt sĩ mẫu", "+C9, D6", "1970"])
    return buffer.getvalue().encode("utf-8")


def test_file_csv_comes_back_with_columns_added(client: TestClient) -> None:
    response = client.post("/v1/decode/file?filename=Danh%20s%C3%A1ch.csv", content=_list_csv(";"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "Danh%20s%C3%A1ch.giai-ma.csv" in response.headers["content-disposition"]
    summary = json.loads(response.headers["x-phienhieu-summary"])
    assert summary["rows"] == len(GOLDEN) + 1
    assert summary["designation_column"] == "Đơn vị"
    assert summary["date_column"] == "Ngày hi sinh"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["STT", "Họ và tên", "Đơn vị", "Ngày hi sinh", *DECODE_COLUMNS]
    assert [r[2] for r in rows[1:-1]] == [c["text"] for c in GOLDEN]
    assert [r[4] for r in rows[1:-1]] == [c["status"] for c in GOLDEN]
    assert rows[-1][2] == "'+C9, D6"  # a formula prefix is neutralised


def test_file_xlsx_comes_back_as_xlsx(client: TestClient, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Họ tên", "Đơn vị khi hy sinh", "Ngày hy sinh"])
    sheet.append(["Liệt sĩ mẫu", "Công trường 9", "1968"])
    source = tmp_path / "ds.xlsx"
    book.save(source)
    response = client.post(
        "/v1/decode/file?filename=ds.xlsx&edition=sample-2026.1", content=source.read_bytes()
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    out = tmp_path / "out.xlsx"
    out.write_bytes(response.content)
    result = load_workbook(out, read_only=True)
    active = result.active
    assert active is not None
    rows = [list(r) for r in active.iter_rows(values_only=True)]
    result.close()
    assert rows[1][:4] == ["Liệt sĩ mẫu", "Công trường 9", "1968", "resolved"]


@pytest.mark.parametrize(
    ("content", "query", "status", "slug"),
    [
        (b"", "", 422, "table-unreadable"),
        ("Họ tên,Quê\nA,B\n".encode(), "", 422, "no-designation-column"),
        (
            "Đơn vị,Ngày hy sinh\nB3,1970\n".encode(),
            "?column=Phiên hiệu",
            422,
            "no-designation-column",
        ),
        ('Đơn vị,Ngày hy sinh\n"B3,1970\n'.encode(), "", 422, "table-unreadable"),
        ("Đơn vị\nB3\n".encode(), "?edition=no-such", 404, "edition-not-found"),
    ],
    ids=["empty", "no column", "named column absent", "malformed", "unknown edition"],
)
def test_file_problems(
    client: TestClient, content: bytes, query: str, status: int, slug: str
) -> None:
    _problem(client.post(f"/v1/decode/file{query}", content=content), status, slug)


def test_openapi_documents_the_batch_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    batch = paths["/v1/decode/batch"]["post"]
    assert str(MAX_BATCH_ITEMS) in json.dumps(batch)
    assert NDJSON in batch["responses"]["200"]["content"]
    assert "413" in batch["responses"]
    assert "/v1/decode/file" in paths
