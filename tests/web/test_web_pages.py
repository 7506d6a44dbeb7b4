"""The page's server-side handlers on SQLite and PostgreSQL: answers, errors as HTML, language."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.context import Context
from app.main import create_app
from app.parsing import MAX_INPUT_CHARS
from app.settings import Settings
from app.web.i18n import COOKIE

DATA = Path(__file__).parents[1] / "data"
CASES = [
    json.loads(line)
    for line in (DATA / "web_decode.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


def _build(context: Context) -> FastAPI:
    app = create_app(Settings(database_url=context.settings.database_url), context=context)

    def boom() -> None:
        raise RuntimeError("a bug with a secret in its message")

    def needs_a_number(n: int) -> int:
        return n

    # Routes that fail, to see what a person and an API client get.
    app.add_api_route("/boom", boom)
    app.add_api_route("/v1/boom", boom)
    app.add_api_route("/number", needs_a_number)
    app.add_api_route("/v1/number", needs_a_number)
    return app


@pytest.fixture(scope="module")
def client(sample_context: Context) -> Iterator[TestClient]:
    with TestClient(_build(sample_context), raise_server_exceptions=False) as test_client:
        yield test_client


def _page(client: TestClient, url: str, status: int = 200, **params: Any) -> str:
    """GET a page; it must be HTML with the right status, and never show a stack trace."""
    # An empty `params` would wipe a query already in `url`.
    response = client.get(url, params=params or None, follow_redirects=False)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "Traceback" not in response.text
    return response.text


def _text(page: str, element_id: str) -> str | None:
    """The text inside the element with `element_id` (tags dropped), or None."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(p|div|strong|a)>', page, re.S)
    if found is None:
        return None
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


@pytest.mark.parametrize("case", CASES, ids=[c["text"] for c in CASES])
def test_decode_page_shows_the_answer(client: TestClient, case: dict[str, Any]) -> None:
    page = _page(client, "/", text=case["text"], date=case["date"])
    status = re.search(r'data-status="([a-z]+)"', page)
    assert status is not None
    assert case["status"] in (None, status.group(1))
    assert _text(page, "summary") == case["summary"]
    marked = [
        html.unescape(m)
        for m in re.findall(
            r'<mark class="m-warn"[^>]*>(.*?)</mark>', page.split('class="legend"')[0]
        )
    ]
    assert marked == case["marked"]
    # The warnings the case is about come first, in order; others may follow.
    codes = re.findall(r'<li class="warning" data-code="([a-z_]+)"', page)
    assert codes[: len(case["warnings"])] == case["warnings"]
    assert page.count('class="candidate"') == case["others"]
    # The form is kept filled, and the answer names its edition and its permalink.
    assert f'value="{html.escape(case["text"])}"' in page
    assert _text(page, "edition-label") == "sample-2026.1"
    assert "edition=sample-2026.1" in page


def test_the_empty_form_offers_examples_that_decode(client: TestClient) -> None:
    page = _page(client, "/")
    assert '<html lang="vi">' in page
    assert 'data-status="' not in page
    example = re.search(r'<a href="(/\?text=[^"]+)"', page)
    assert example is not None
    assert 'data-status="resolved"' in _page(client, html.unescape(example.group(1)))


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"text": "Công trường 9", "date": "banana"}, 422, "Không hiểu ngày"),
        ({"text": "   "}, 422, "Hãy nhập một phiên hiệu để giải mã."),
        ({"text": "C" * (MAX_INPUT_CHARS + 1)}, 422, str(MAX_INPUT_CHARS)),
        ({"text": "F9", "edition": "no-such-edition"}, 404, "no-such-edition"),
    ],
    ids=["bad date", "blank text", "too long", "unknown edition"],
)
def test_form_mistakes_are_explained_beside_the_form(
    client: TestClient, params: dict[str, str], status: int, message: str
) -> None:
    page = _page(client, "/", status, **params)
    alert = re.search(r'<div class="alert" role="alert" id="form-error">(.*?)</div>', page, re.S)
    assert alert is not None
    assert message in html.unescape(alert.group(1))
    assert 'id="text"' in page  # the form is still there to correct


def test_unit_page_shows_its_history(client: TestClient) -> None:
    page = _page(client, "/units/su-doan-9")
    assert "<h1>Sư đoàn 9" in page
    assert "Công trường 9" in page
    assert 'href="/units/trung-doan-1-su-doan-9"' in page  # a regiment under it
    assert "2-9-1965" in page  # dated as Vietnamese records write dates
    assert 'class="timeline"' in page


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/units/no-such-unit", 404, "Không có đơn vị"),
        ("/no/such/page", 404, "Không có trang nào ở địa chỉ này."),
        ("/static/..%2Fservice.py", 404, "Không có trang nào ở địa chỉ này."),
        ("/lang/fr", 404, "Không có trang nào ở địa chỉ này."),
        ("/boom", 500, "Có lỗi phía máy chủ"),
        ("/number?n=many", 422, "Địa chỉ trang có tham số không hợp lệ."),
    ],
)
def test_errors_are_friendly_pages(client: TestClient, url: str, status: int, message: str) -> None:
    page = _page(client, url, status)
    assert message in page
    assert "secret" not in page


def test_a_wrong_method_is_a_page_too(client: TestClient) -> None:
    response = client.post("/")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/v1/units/no-such-unit", 404),
        ("/v1/nothing", 404),
        ("/v1/boom", 500),
        ("/v1/number?n=many", 422),
    ],
)
def test_the_api_keeps_problem_json(client: TestClient, url: str, status: int) -> None:
    response = client.get(url)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "secret" not in response.text
    assert client.get("/healthz").json() == {"status": "ok"}


def test_the_language_switch_persists(client: TestClient) -> None:
    response = client.get("/lang/en", params={"next": "/search?q=dong"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/search?q=dong"
    assert f"{COOKIE}=en" in response.headers["set-cookie"]
    client.cookies.set(COOKIE, "en")
    try:
        page = _page(client, "/", text="Công trường 9", date="1968")
        assert '<html lang="en">' in page
        assert "Decoded" in page
        assert "Sư đoàn 9" in page  # names keep their diacritics in English too
        assert "1965-09-02" in page
    finally:
        client.cookies.clear()
    assert "Đã giải mã" in _page(client, "/", text="Công trường 9", date="1968")


@pytest.mark.parametrize("target", ["//elsewhere.invalid/x", "https://elsewhere.invalid/", "/\\x"])
def test_the_language_switch_stays_on_this_site(client: TestClient, target: str) -> None:
    response = client.get("/lang/vi", params={"next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_search_page(client: TestClient) -> None:
    page = _page(client, "/search", q="dong bang")
    assert 'href="/units/su-doan-320"' in page
    assert "Đại đoàn Đồng Bằng" in page
    assert "Tìm thấy 1 đơn vị." in page
    assert "alert" not in _page(client, "/search")  # no query yet: just the form


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "dong", "echelon": "army"}, "Không có cấp đơn vị “army”."),
        ({"q": "dong", "period": "banana"}, "Không hiểu ngày"),
        ({"q": " "}, "Hãy nhập từ cần tìm."),
        ({"q": "x" * 201}, "Từ cần tìm quá dài (tối đa 200 ký tự)."),
        ({"q": "!?"}, "Hãy nhập ít nhất một chữ hoặc số."),
        ({"q": "doan", "next": "not-a-token"}, "Không mở được trang kết quả này"),
    ],
)
def test_search_mistakes_are_explained(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    assert message in html.unescape(_page(client, "/search", 422, **params))


def _list_of_cases() -> bytes:
    """A martyr list as a CSV: the decode cases as rows under the usual Vietnamese headers."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["STT", "Đơn vị", "Ngày hy sinh"])
    for number, case in enumerate(CASES, 1):
        writer.writerow([number, case["text"], case["date"]])
    return out.getvalue().encode("utf-8")


def test_batch_upload_gives_the_list_back_decoded(client: TestClient) -> None:
    assert 'enctype="multipart/form-data"' in _page(client, "/batch")
    response = client.post(
        "/batch",
        files={"file": ("danh sách.csv", _list_of_cases(), "text/csv")},
        data={"edition": "sample-2026.1", "column": "", "date_column": ""},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''danh%20s%C3%A1ch.giai-ma.csv" in disposition
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["Đơn vị"] for r in rows] == [c["text"] for c in CASES]
    for row, case in zip(rows, CASES, strict=True):
        assert row["Giải mã: chuỗi trực thuộc (chain)"] == (case["summary"] or ""), row
        assert case["status"] in (None, row["Giải mã: trạng thái (status)"])


@pytest.mark.parametrize(
    ("files", "data", "status", "message"),
    [
        (None, {"edition": ""}, 422, "Hãy chọn một tệp."),
        ({"file": ("trống.csv", b"", "text/csv")}, {}, 422, "Tệp trống"),
        ({"file": ("ds.csv", b"a,b\n1,2\n", "text/csv")}, {"edition": "no-such"}, 404, "no-such"),
    ],
    ids=["no file", "empty file", "unknown edition"],
)
def test_batch_mistakes_are_explained_beside_the_form(
    client: TestClient,
    files: dict[str, tuple[str, bytes, str]] | None,
    data: dict[str, str],
    status: int,
    message: str,
) -> None:
    response = client.post("/batch", files=files, data=data)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert message in html.unescape(response.text)
    assert 'id="form-error"' in response.text
    assert 'name="file"' in response.text  # the form is there to try again


def test_static_files(client: TestClient) -> None:
    for name, kind in [("style.css", "text/css"), ("app.js", "javascript"), ("icon.svg", "svg")]:
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        assert kind in response.headers["content-type"]
