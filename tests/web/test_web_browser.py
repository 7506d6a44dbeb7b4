"""The lookup page in a real browser (Debian's chromium) against the real server on loopback.

Each test's page is watched by the fixtures (tests/web/conftest.py): it fails
if any request leaves 127.0.0.1 or the console reports an error.
Screenshots go to tests/artifacts/web/ for a person to look at.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload, ViewportSize

    from tests.web.conftest import Watched

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
MOBILE: ViewportSize = {"width": 360, "height": 740}

CASES = [
    json.loads(line)
    for line in (Path(__file__).parents[1] / "data" / "web_decode.jsonl")
    .read_text("utf-8")
    .splitlines()
    if line.strip()
]
BROWSER_CASES = [c for c in CASES if c["browser"]]
ANACHRONISM = next(c for c in CASES if "anachronistic_parent" in c["warnings"])

# Every page, as a person reaches it: (name for the screenshot, path, HTTP status).
PAGES = [
    ("home", "/", 200),
    (
        "answer",
        f"/?text={quote(ANACHRONISM['text'])}&date={ANACHRONISM['date']}",
        200,
    ),
    ("answer-ambiguous", f"/?text={quote('Quân khu 2')}", 200),
    ("unit", "/units/su-doan-9", 200),
    ("unit-front", "/units/mat-tran-tay-nguyen", 200),
    ("search", f"/search?q={quote('dong bang')}", 200),
    ("search-approximate", f"/search?q={quote('Sư đoàn 9')}&fuzzy=always", 200),
    ("batch", "/batch", 200),
    ("error-form", f"/?text={quote('Công trường 9')}&date=31%2F2%2F1968", 422),
    ("error-404", "/units/no-such-unit", 404),
]


def _chain(w: Watched) -> list[str]:
    return w.page.locator("section.chain-section > ol.chain > li .unit-name").all_inner_texts()


@pytest.mark.parametrize("case", BROWSER_CASES, ids=[c["text"] for c in BROWSER_CASES])
def test_decode_form_shows_the_chain(desktop: Watched, case: dict[str, Any]) -> None:
    page = desktop.page
    desktop.goto("/")
    page.get_by_label("Phiên hiệu, ký hiệu, mật danh hoặc hòm thư").fill(case["text"])
    page.get_by_label("Ngày hy sinh (nếu biết)").fill(case["date"])
    page.get_by_role("button", name="Giải mã", exact=True).click()
    page.wait_for_url("**/?text=*")

    assert case["status"] in (None, page.locator("[data-status]").get_attribute("data-status"))
    expected = case["summary"].split(" → ") if case["summary"] else []
    assert _chain(desktop) == expected
    marked = page.locator("#input-read mark.m-warn").all_inner_texts()
    assert marked == case["marked"]
    codes = [li.get_attribute("data-code") for li in page.locator("li.warning[data-code]").all()]
    assert codes[: len(case["warnings"])] == case["warnings"]
    assert page.locator("#edition-label").inner_text() == "sample-2026.1"

    # The address is the permalink: opening it again gives the same answer.
    query = parse_qs(urlsplit(page.url).query)
    assert query["text"] == [case["text"]]
    assert query["edition"] == ["sample-2026.1"]
    permalink = page.locator("#permalink").get_attribute("href")
    assert permalink is not None
    desktop.goto(permalink)
    assert _chain(desktop) == expected


def test_follow_unit_links(desktop: Watched) -> None:
    page = desktop.page
    desktop.goto(f"/?text={quote('Công trường 9')}&date=1968")
    page.locator("ol.chain .unit-name", has_text="Sư đoàn 9").click()
    page.wait_for_url("**/units/su-doan-9")
    assert page.locator("h1").inner_text().startswith("Sư đoàn 9")
    timeline = page.locator(".timeline").first
    assert timeline.get_by_role("link", name="Giải mã “Công trường 9”").count() == 1

    page.locator("#subs-h + ul").get_by_role("link", name="Trung đoàn 1", exact=True).click()
    page.wait_for_url("**/units/trung-doan-1-su-doan-9")
    assert page.locator("h1").inner_text().startswith("Trung đoàn 1")
    assert page.locator("#parents-h + ul").get_by_role("link", name="Sư đoàn 9").count() == 1

    # A code on the unit page decodes it.
    page.locator("ul.chips").get_by_role("link", name="Giải mã “Q761”").click()
    page.wait_for_url("**/?text=Q761*")
    assert _chain(desktop)[0] == "Trung đoàn 1"


def _search_for(watched: Watched, q: str) -> None:
    """Type `q` in the search form and send it with Enter, as a person would."""
    watched.goto("/search")
    watched.page.locator("#q").fill(q)
    watched.page.locator("#q").press("Enter")
    watched.page.wait_for_url(f"**/search?q={quote_plus(q)}*")


def test_search_without_diacritics(desktop: Watched) -> None:
    page = desktop.page
    _search_for(desktop, "dong bang")
    first = page.locator("ol.hits > li").first
    assert first.locator(".unit-name").inner_text() == "Sư đoàn 320"
    assert "Đại đoàn Đồng Bằng" in first.locator(".matched").inner_text()
    assert page.locator(".approx").count() == 0

    # No regiment is named so: the only one left is merely similar, and says so.
    page.locator("#echelon").select_option("regiment")
    page.get_by_role("button", name="Tìm", exact=True).click()
    page.wait_for_url("**echelon=regiment*")
    hits = page.locator("ol.hits > li")
    assert hits.count() == 1
    assert hits.first.get_attribute("data-match") == "fuzzy"
    assert hits.first.locator(".approx").inner_text() == "Gần đúng"
    assert hits.first.locator(".approx").is_visible()
    assert page.locator("#approx-note").is_visible()


def test_search_ranks_exact_before_approximate(desktop: Watched) -> None:
    page = desktop.page
    desktop.goto("/search")
    page.locator("#q").fill("Sư đoàn 9")
    page.get_by_label("Tìm cả tên gần giống").check()
    page.get_by_role("button", name="Tìm", exact=True).click()
    page.wait_for_url("**fuzzy=always*")
    hits = page.locator("ol.hits > li")
    assert hits.first.locator(".unit-name").inner_text() == "Sư đoàn 9"
    assert hits.first.locator(".approx").count() == 0
    matches = [li.get_attribute("data-match") for li in hits.all()]
    assert matches[0] == "exact"
    assert set(matches[1:]) == {"fuzzy"}
    assert page.locator("ol.hits > li .approx").count() == len(matches) - 1
    assert page.locator("#fuzzy").is_checked()  # the form keeps the choice


def test_search_pages_without_javascript(no_script: Watched) -> None:
    page = no_script.page
    _search_for(no_script, "doan")
    first = page.locator("ol.hits > li").evaluate_all("all => all.map(li => li.dataset.unit)")
    assert len(first) == 20
    page.get_by_role("link", name="Trang sau").click()
    page.wait_for_url("**next=*")
    second = page.locator("ol.hits > li").evaluate_all("all => all.map(li => li.dataset.unit)")
    assert second
    assert not set(first) & set(second)
    assert page.locator("#q").input_value() == "doan"  # the form still says what was searched
    page.get_by_role("link", name="Về trang đầu").click()
    page.wait_for_url("**/search?q=doan#results")
    again = page.locator("ol.hits > li").evaluate_all("all => all.map(li => li.dataset.unit)")
    assert again == first


def test_language_switch_persists(desktop: Watched) -> None:
    page = desktop.page
    desktop.goto(f"/?text={quote('Công trường 9')}&date=1968")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator(".status-word").inner_text().lower() == "đã giải mã"

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/?text=*")  # back on the same answer
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".status-word").inner_text().lower() == "decoded"
    assert _chain(desktop) == ["Sư đoàn 9"]
    desktop.shoot("answer-english")

    page.get_by_role("link", name="Find a unit").click()
    page.wait_for_url("**/search")
    assert page.locator("h1").inner_text() == "Find a unit"  # the choice persists

    page.get_by_role("link", name="Tiếng Việt").click()
    page.wait_for_url("**/search")
    assert page.locator("h1").inner_text() == "Tìm đơn vị"


def test_the_form_works_without_javascript(no_script: Watched) -> None:
    page = no_script.page
    no_script.goto("/")
    page.locator("#text").fill("Trung đoàn BB 1 ( Q761 )")
    page.locator("#date").fill("1966")
    page.locator("#text").press("Enter")
    page.wait_for_url("**/?text=*")
    assert _chain(no_script) == ["Trung đoàn 1", "Sư đoàn 9"]
    assert not page.locator("button.copy").is_visible()  # the script's button stays hidden


def test_the_script_adds_a_copy_button(desktop: Watched) -> None:
    desktop.goto(f"/?text={quote('Công trường 9')}")
    assert desktop.page.locator("button.copy").is_visible()


def test_keyboard_focus_order(desktop: Watched) -> None:
    page = desktop.page
    desktop.goto("/")
    order = []
    for _ in range(10):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.id || e.getAttribute('href') || e.textContent.trim(); }"
            )
        )
    assert order == [
        "#main",  # the skip link comes first
        "/",
        "/lang/en?next=%2F",
        "/",
        "/search",
        "/batch",
        "text",
        "date",
        "edition",
        "Giải mã",
    ]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "date"


def test_batch_upload_downloads_the_decoded_list(desktop: Watched) -> None:
    page = desktop.page
    desktop.goto("/batch")
    rows = "".join(f'"{c["text"]}",{c["date"]}\n' for c in BROWSER_CASES)
    upload: FilePayload = {
        "name": "danh sách.csv",
        "mimeType": "text/csv",
        "buffer": ("Đơn vị,Ngày hy sinh\n" + rows).encode("utf-8"),
    }
    page.get_by_label("Tệp danh sách (CSV hoặc XLSX)").set_input_files(files=upload)
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Giải mã và tải về").click()
    download = waiting.value
    assert download.suggested_filename == "danh sách.giai-ma.csv"
    decoded = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    chains = [row["Giải mã: chuỗi trực thuộc (chain)"] for row in decoded]
    assert chains == [c["summary"] or "" for c in BROWSER_CASES]


def test_errors_are_friendly_in_the_browser(desktop: Watched) -> None:
    page = desktop.page
    desktop.goto(f"/?text={quote('Công trường 9')}&date=31%2F2%2F1968", 422)
    alert = page.get_by_role("alert")
    assert "31/2/1968" in alert.inner_text()
    assert page.locator("#text").input_value() == "Công trường 9"  # kept, to correct
    desktop.goto("/units/no-such-unit", 404)
    assert "Không có đơn vị" in page.get_by_role("alert").inner_text()
    assert "Traceback" not in page.content()


@pytest.mark.parametrize(("name", "path", "status"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_at_desktop_and_mobile_width(
    desktop: Watched, mobile: Watched, name: str, path: str, status: int
) -> None:
    for watched in (desktop, mobile):
        watched.goto(path, status)
        overflow = watched.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"
        watched.shoot(name)


def test_mobile_decode(mobile: Watched) -> None:
    page = mobile.page
    mobile.goto("/")
    page.locator("#text").tap()
    page.locator("#text").fill(ANACHRONISM["text"])
    page.locator("#date").fill(ANACHRONISM["date"])
    page.get_by_role("button", name="Giải mã", exact=True).tap()
    page.wait_for_url("**/?text=*")
    assert _chain(mobile) == ANACHRONISM["summary"].split(" → ")
    box = page.locator("section.chain-section ol.chain > li").first.bounding_box()
    assert box is not None
    assert box["width"] <= MOBILE["width"]


AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.mark.parametrize(("name", "path", "status"), PAGES, ids=[p[0] for p in PAGES])
def test_accessibility(
    axe_page: Watched, axe_source: str, name: str, path: str, status: int
) -> None:
    page = axe_page.page
    for viewport in (DESKTOP, MOBILE):
        page.set_viewport_size(viewport)
        axe_page.goto(path, status)
        page.locator("details").evaluate_all("all => all.forEach(d => d.open = true)")
        page.add_script_tag(content=axe_source)
        result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        assert result["passes"], "axe checked nothing"
        serious = [
            {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], f"{name} at {viewport['width']}px: {serious}"
