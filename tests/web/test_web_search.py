"""The /search page on SQLite and PostgreSQL: the research search's ranking, flags and paging.

Golden cases (tests/data/web_search.jsonl) give, in order, the units a search
lists and how each matched (exact, prefix, contains, fuzzy), as the page shows
them; a fuzzy match must carry the "approximate" flag and no other may.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.context import Context
from app.editions.service import resolve_edition
from app.main import create_app
from app.research import service
from app.settings import Settings
from app.web.i18n import COOKIE
from app.web.service import SEARCH_PAGE_SIZE

CASES = [
    json.loads(line)
    for line in (Path(__file__).parents[1] / "data" / "web_search.jsonl")
    .read_text("utf-8")
    .splitlines()
    if line.strip()
]
HIT = re.compile(
    r'<li class="hit( hit-approx)?" data-unit="([^"]+)" data-match="([a-z]+)">(.*?)</li>', re.S
)
NEXT = re.compile(r'<a href="([^"]+)" id="next-page" rel="next">')
FIRST = re.compile(r'<a href="([^"]+)" id="first-page">')
HEADING = re.compile(r'<h2 id="results-h">(.*?)</h2>', re.S)


@dataclass(frozen=True)
class Hit:
    unit: str
    match: str
    marked: bool  # the li carries the approximate class
    body: str  # the li's HTML

    @property
    def badge(self) -> bool:
        return '<span class="approx">' in self.body


@dataclass(frozen=True)
class Shown:
    """What a results page shows."""

    hits: list[Hit]
    heading: str
    next_url: str | None
    first_url: str | None
    text: str


@pytest.fixture(scope="module")
def client(sample_context: Context) -> Iterator[TestClient]:
    settings = Settings(database_url=sample_context.settings.database_url)
    app = create_app(settings, context=sample_context)
    with TestClient(app) as test_client:
        yield test_client


def _show(client: TestClient, url: str, **params: str) -> Shown:
    response = client.get(url, params=params or None)
    assert response.status_code == 200, response.text
    text = response.text
    heading = HEADING.search(text)
    assert heading is not None, text
    next_url, first_url = NEXT.search(text), FIRST.search(text)
    return Shown(
        hits=[
            Hit(unit, match, bool(marked), body) for marked, unit, match, body in HIT.findall(text)
        ],
        heading=html.unescape(heading.group(1)).strip(),
        next_url=html.unescape(next_url.group(1)) if next_url else None,
        first_url=html.unescape(first_url.group(1)) if first_url else None,
        text=html.unescape(text),
    )


def _params(case: dict[str, Any]) -> dict[str, str]:
    return {k: case[k] for k in ("q", "echelon", "period", "fuzzy") if case.get(k)}


@pytest.mark.parametrize("case", CASES, ids=[c["note"] for c in CASES])
def test_the_page_lists_units_as_the_research_search_ranks_them(
    client: TestClient, case: dict[str, Any]
) -> None:
    shown = _show(client, "/search", **_params(case))
    found = [[h.unit, h.match] for h in shown.hits]
    if "all" in case:
        assert found == case["all"]
        assert shown.next_url is None
        assert shown.heading == f"Tìm thấy {len(found)} đơn vị."
    else:
        assert found[: len(case["top"])] == case["top"]
    for hit in shown.hits:  # flagged exactly when approximate
        assert hit.marked is hit.badge is (hit.match == "fuzzy"), hit
    assert ('id="approx-note"' in shown.text) is any(h.match == "fuzzy" for h in shown.hits)


def test_approximate_matches_are_flagged_in_both_languages(client: TestClient) -> None:
    shown = _show(client, "/search", q="Sư đoàn 9", fuzzy="always")
    first, *similar = shown.hits
    assert (first.unit, first.match, first.badge) == ("su-doan-9", "exact", False)
    assert "trùng khớp" in first.body
    assert similar
    assert all(h.match == "fuzzy" and h.badge for h in similar)
    assert ">Gần đúng</span>" in similar[0].body
    assert "độ giống 0,67" in similar[0].body  # pg_trgm similarity of "su doan 5", shown
    assert re.search(
        r'<input id="fuzzy" name="fuzzy" type="checkbox" value="always" checked', shown.text
    )

    client.cookies.set(COOKIE, "en")
    try:
        english = _show(client, "/search", q="Sư đoàn 9", fuzzy="always")
    finally:
        client.cookies.clear()
    assert ">Approximate</span>" in english.hits[1].body
    assert "similarity 0.67" in english.hits[1].body
    assert "exact match" in english.hits[0].body

    plain = _show(client, "/search", q="Sư đoàn 9")  # without the box: no similar names
    assert [(h.unit, h.badge) for h in plain.hits] == [("su-doan-9", False)]
    assert "Gần đúng" not in plain.text


@pytest.mark.parametrize("fuzzy", ["", "always"])
def test_pages_follow_on_without_losing_or_repeating_a_unit(
    client: TestClient, sample_context: Context, fuzzy: str
) -> None:
    params = {"q": "doan", "fuzzy": fuzzy} if fuzzy else {"q": "doan"}
    shown = _show(client, "/search", **params)
    assert len(shown.hits) == SEARCH_PAGE_SIZE
    assert (
        shown.heading
        == f"Tìm thấy hơn {SEARCH_PAGE_SIZE} đơn vị; đây là {SEARCH_PAGE_SIZE} đơn vị đầu."
    )
    assert shown.first_url is None
    pages = [shown]
    while pages[-1].next_url:
        next_url = pages[-1].next_url
        assert next_url.startswith("/search?")
        assert next_url.endswith("#results")
        assert ("fuzzy=always" in next_url) is bool(fuzzy)  # the link keeps the search
        pages.append(_show(client, next_url.removesuffix("#results")))
        assert (
            pages[-1].first_url
            == "/search?" + "&".join(f"{k}={v}" for k, v in params.items()) + "#results"
        )
        assert pages[-1].heading == f"Trang tiếp theo: {len(pages[-1].hits)} đơn vị."
        assert len(pages) < 10
    assert len(pages) > 1

    listed = [h.unit for page in pages for h in page.hits]
    assert len(listed) == len(set(listed))
    with sample_context.session() as session:
        edition = resolve_edition(session, None)
        whole = service.search_units(session, edition, "doan", size=1000, fuzzy=fuzzy or "auto")
    assert whole.next is None
    assert listed == [row["id"] for row in whole.rows]


def test_a_matched_code_says_what_it_is_and_whether_it_held_then(client: TestClient) -> None:
    undated = _show(client, "/search", q="q761").hits
    assert [h.unit for h in undated] == ["trung-doan-1-su-doan-9"]
    assert "“Q761”" in html.unescape(undated[0].body)
    assert "mã bí danh, từ 9-2-1962" in undated[0].body
    assert "fit-outside" not in undated[0].body

    # The unit existed in 1960 (its period is not known), but the code Q761 was not yet in use.
    dated = _show(client, "/search", q="q761", period="1960").hits
    assert [h.unit for h in dated] == ["trung-doan-1-su-doan-9"]
    assert '<span class="fit fit-outside">ngoài thời gian</span>' in dated[0].body

    named = _show(client, "/search", q="dong bang").hits[0]
    assert "tên truyền thống" in named.body  # Đại đoàn Đồng Bằng is an honorific
    own = _show(client, "/search", q="Mặt trận Tây Nguyên").hits[0]
    assert "tên đơn vị" in own.body
