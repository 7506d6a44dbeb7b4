"""The HTTP API on the sample edition, on SQLite and PostgreSQL: answers, schemas, problems."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient

from app.context import Context
from app.decode.service import decode
from app.main import create_app
from app.parsing import MAX_INPUT_CHARS
from app.problems import PROBLEM_TYPE_BASE
from app.schemas import DecodeOut, EditionListOut, ParseOut, ProblemOut, UnitOut
from app.settings import Settings
from codebook.bundle import SAMPLE_BUNDLE, read_bundle

DATA = Path(__file__).parent / "data"
PARSE_CASES = [
    json.loads(line)
    for line in (DATA / "api_parse.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]
DECODE_CASES = [
    json.loads(line)
    for line in (DATA / "decode_golden.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]
SAMPLE_LABEL = "sample-2026.1"
PROBLEM_KEYS = {"type", "title", "status", "detail", "detail_vi", "instance"}


class Response(Protocol):
    """What the tests read of a response (httpx and httpx2 both fit)."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def text(self) -> str: ...
    def json(self) -> Any: ...
    def read(self) -> bytes: ...


def _no_traceback(response: Response) -> None:
    response.read()
    assert "Traceback" not in response.text, response.text


@pytest.fixture(scope="module")
def client(sample_context: Context) -> Iterator[TestClient]:
    """A client on the shared sample database; every response is checked for stack traces."""
    app = create_app(
        Settings(database_url=sample_context.settings.database_url), context=sample_context
    )
    # Answer as a user would see it: an unexpected error becomes the 500 problem, not an exception.
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.event_hooks = {"request": [], "response": [_no_traceback]}
        yield test_client


def _ok(response: Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def _problem(response: Response, status: int, slug: str, instance: str) -> dict[str, Any]:
    """Check an RFC 9457 answer: media type, members, bilingual text; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_KEYS
    ProblemOut.model_validate(body)
    assert body["type"] == PROBLEM_TYPE_BASE + slug
    assert body["status"] == status
    assert body["instance"] == instance
    assert body["detail"]
    assert body["detail_vi"]
    assert body["detail_vi"] != body["detail"], "detail_vi must be Vietnamese, not a copy"
    return body


def _decode(client: TestClient, **body: Any) -> dict[str, Any]:
    return _ok(client.post("/v1/decode", json=body))


# --- POST /v1/parse -------------------------------------------------------------------------


@pytest.mark.parametrize("case", PARSE_CASES, ids=[c["text"] for c in PARSE_CASES])
def test_parse_contract(client: TestClient, case: dict[str, Any]) -> None:
    body = _ok(client.post("/v1/parse", json={"text": case["text"]}))
    ParseOut.model_validate(body)
    assert body["input"] == case["text"]
    assert len(body["elements"]) == len(case["elements"]), body["elements"]
    for got, want in zip(body["elements"], case["elements"], strict=True):
        start, end = got["span"]
        assert case["text"][start:end] == got["text"]
        assert {key: got[key] for key in want} == want
    assert [r["text"] for r in body["residue"]] == case["residue"]
    for residue in body["residue"]:
        start, end = residue["span"]
        assert case["text"][start:end] == residue["text"]
    assert [w["code"] for w in body["warnings"]] == case.get("warnings", [])


def test_parse_refuses_over_long_text(client: TestClient) -> None:
    _problem(
        client.post("/v1/parse", json={"text": "C" * (MAX_INPUT_CHARS + 1)}),
        422,
        "input-too-long",
        "/v1/parse",
    )


# --- POST /v1/decode ------------------------------------------------------------------------


def test_decode_resolves_cover_name(client: TestClient) -> None:
    body = _decode(client, text="Công trường 9", date="1968")
    DecodeOut.model_validate(body)
    assert body["status"] == "resolved"
    assert body["input"] == "Công trường 9"
    assert body["edition"]["label"] == SAMPLE_LABEL
    assert body["date"]["precision"] == "year"
    link = body["candidates"][0]["chain"][0]
    assert link["id"] == "su-doan-9"
    assert link["matched"][0]["code"] == "Công trường 9"
    assert link["matched"][0]["source"]["citation"]


@pytest.mark.parametrize("date", ["27/1/1968", "ngày 27 tháng 1 năm 1968", "1968-01-27"])
def test_decode_accepts_record_date_forms(client: TestClient, date: str) -> None:
    body = _decode(client, text="Công trường 9", date=date)
    DecodeOut.model_validate(body)
    assert body["status"] == "resolved"
    assert body["candidates"][0]["chain"][0]["id"] == "su-doan-9"
    assert body["date"] == {
        "text": date,
        "lower": "1968-01-27",
        "upper": "1968-01-28",
        "precision": "day",
        "approximate": False,
    }


@pytest.mark.parametrize(
    "case", DECODE_CASES, ids=[f"{c['text']} @ {c['date']}" for c in DECODE_CASES]
)
def test_decode_answers_what_the_service_answers(
    client: TestClient, sample_context: Context, case: dict[str, Any]
) -> None:
    body = _decode(client, text=case["text"], date=case["date"])
    DecodeOut.model_validate(body)
    assert body["status"] == case["status"]
    with sample_context.session() as session:
        direct = decode(sample_context, session, case["text"], case["date"], None)
    assert body == json.loads(json.dumps(direct))


def test_edition_by_label_or_number_gives_the_same_answer(client: TestClient) -> None:
    editions = _ok(client.get("/v1/editions"))["editions"]
    seq = editions[0]["seq"]
    default = _decode(client, text="Q761", date="1970")
    assert default["edition"]["seq"] == seq
    for ref in (SAMPLE_LABEL, seq, str(seq)):
        assert _decode(client, text="Q761", date="1970", edition=ref) == default


def test_unknown_edition_is_404(client: TestClient) -> None:
    body = _problem(
        client.post("/v1/decode", json={"text": "B3", "edition": "2099.9"}),
        404,
        "edition-not-found",
        "/v1/decode",
    )
    assert "2099.9" in body["detail"]


def test_impossible_date_is_422(client: TestClient) -> None:
    body = _problem(
        client.post("/v1/decode", json={"text": "Công trường 9", "date": "31/2/1968"}),
        422,
        "invalid-date",
        "/v1/decode",
    )
    assert "31/2/1968" in body["detail_vi"]


def test_text_at_the_limit_is_accepted_and_beyond_it_refused(client: TestClient) -> None:
    at_limit = "Đoàn 125".ljust(MAX_INPUT_CHARS)
    assert _decode(client, text=at_limit, date="1965")["status"] == "resolved"
    body = _problem(
        client.post("/v1/decode", json={"text": at_limit + "x"}),
        422,
        "input-too-long",
        "/v1/decode",
    )
    assert str(MAX_INPUT_CHARS) in body["detail"]


@pytest.mark.parametrize(
    "payload",
    [{}, {"date": "1968"}, {"text": 9}, {"text": None}, {"text": ["B3"]}, ["B3"], "B3"],
    ids=["empty", "no-text", "int", "null", "list", "array-body", "string-body"],
)
def test_request_not_matching_the_api_is_422(client: TestClient, payload: object) -> None:
    body = _problem(client.post("/v1/decode", json=payload), 422, "invalid-request", "/v1/decode")
    assert body["errors"], body


def test_unknown_field_is_refused(client: TestClient) -> None:
    body = _problem(
        client.post("/v1/decode", json={"text": "B3", "dates": "1968"}),
        422,
        "invalid-request",
        "/v1/decode",
    )
    assert ["body", "dates"] in [e["location"] for e in body["errors"]]


def test_empty_body_is_422(client: TestClient) -> None:
    body = _problem(
        client.post("/v1/decode", content=b"", headers={"content-type": "application/json"}),
        422,
        "invalid-request",
        "/v1/decode",
    )
    assert [e["location"] for e in body["errors"]] == [["body"]]


def test_malformed_json_is_422(client: TestClient) -> None:
    _problem(
        client.post(
            "/v1/decode",
            content=b'{"text": "B3",',
            headers={"content-type": "application/json"},
        ),
        422,
        "invalid-request",
        "/v1/decode",
    )


def test_body_that_is_not_utf8_is_a_problem(client: TestClient) -> None:
    _problem(
        client.post(
            "/v1/decode",
            content=b'{"text": "\xff"}',
            headers={"content-type": "application/json"},
        ),
        400,
        "http-error",
        "/v1/decode",
    )


def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    _problem(client.get("/v1/nowhere"), 404, "not-found", "/v1/nowhere")
    _problem(client.delete("/v1/editions"), 405, "method-not-allowed", "/v1/editions")


def test_cache_does_not_change_answers(client: TestClient, sample_context: Context) -> None:
    """A cold reader (a new app with its own context) answers exactly as the warm one does."""
    queries = [
        {"text": "Q761", "date": "1970"},
        {"text": "Quân khu 2"},
        {"text": "Đoàn 125", "date": "1962"},
    ]
    app = create_app(Settings(database_url=sample_context.settings.database_url, auto_init=False))
    with TestClient(app) as cold:
        first = [_ok(cold.post("/v1/decode", json=q)) for q in queries]
    warm = [_decode(client, **q) for q in queries]
    again = [_decode(client, **q) for q in reversed(queries)][::-1]
    assert first == warm == again


# --- GET /v1/units/{unit_id} ----------------------------------------------------------------


def test_unit_history(client: TestClient) -> None:
    body = _ok(client.get("/v1/units/su-doan-9"))
    UnitOut.model_validate(body)
    assert body["id"] == "su-doan-9"
    assert body["name"] == "Sư đoàn 9"
    assert body["echelon"] == "division"
    assert body["edition"]["label"] == SAMPLE_LABEL
    cover = next(d for d in body["designations"] if d["code"] == "Công trường 9")
    assert cover["kind"] == "cover_name"
    assert cover["valid"]["from"] == "1965-09-02"
    assert cover["source"]["id"] == "S-viwiki-su-doan-9"
    assert cover["source"]["citation"]
    regiment = next(s for s in body["subordinates"] if s["id"] == "trung-doan-1-su-doan-9")
    assert regiment["name"] == "Trung đoàn 1"
    assert regiment["valid"]["from"] == "1965-09-02"


def test_unit_by_edition_label_is_the_same(client: TestClient) -> None:
    default = _ok(client.get("/v1/units/su-doan-9"))
    assert _ok(client.get("/v1/units/su-doan-9", params={"edition": SAMPLE_LABEL})) == default


def test_unknown_unit_is_404(client: TestClient) -> None:
    body = _problem(
        client.get("/v1/units/su-doan-999"), 404, "unit-not-found", "/v1/units/su-doan-999"
    )
    assert "su-doan-999" in body["detail"]
    _problem(
        client.get("/v1/units/su-doan-9", params={"edition": "nope"}),
        404,
        "edition-not-found",
        "/v1/units/su-doan-9",
    )


# --- GET /v1/editions, health, docs ---------------------------------------------------------


def test_editions_list_the_published_sample(client: TestClient) -> None:
    body = _ok(client.get("/v1/editions"))
    EditionListOut.model_validate(body)
    [edition] = body["editions"]
    assert edition["label"] == SAMPLE_LABEL
    assert edition["status"] == "published"
    assert re.fullmatch(r"[0-9a-f]{64}", edition["checksum"])
    assert edition["checksum"] == read_bundle(SAMPLE_BUNDLE).checksum


def test_health(client: TestClient) -> None:
    assert _ok(client.get("/healthz")) == {"status": "ok"}


def test_docs_and_openapi(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "swagger" in docs.text.lower()
    paths = _ok(client.get("/openapi.json"))["paths"]
    assert {"/v1/parse", "/v1/decode", "/v1/units/{unit_id}", "/v1/editions"} <= set(paths)
    assert "post" in paths["/v1/decode"]
    assert "get" in paths["/v1/units/{unit_id}"]
    # /v1/decode reads its body itself; the docs still say what it takes.
    body = paths["/v1/decode"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["text"]
    assert set(body["properties"]) == {"text", "date", "edition"}


# --- Odd input that once gave a 500: each must be a plain problem --------------------------


@pytest.mark.parametrize("ref", [99999999999999999999, "99999999999999999999"], ids=["int", "str"])
def test_out_of_range_edition_number_is_404(client: TestClient, ref: int | str) -> None:
    _problem(
        client.post("/v1/decode", json={"text": "B3", "edition": ref}),
        404,
        "edition-not-found",
        "/v1/decode",
    )


def test_nul_in_unit_id_is_404(client: TestClient) -> None:
    _problem(client.get("/v1/units/a%00b"), 404, "unit-not-found", "/v1/units/a\x00b")


def test_lone_surrogate_is_refused(client: TestClient) -> None:
    response = client.post(
        "/v1/decode",
        content=b'{"text": "B3\\ud800"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("/invalid-text")
