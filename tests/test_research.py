"""Researchers' queries on the sample edition, on SQLite and PostgreSQL: filters, facets, paging,
search ranking, exports, order of battle at a date, citations, problems."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.context import Context
from app.editions.service import resolve_edition
from app.main import create_app
from app.problems import PROBLEM_TYPE_BASE
from app.research import formats, params, queries, service
from app.research.schemas import DesignationListOut, TreeOut, UnitListOut
from app.schemas import ProblemOut
from app.settings import Settings

DATA = Path(__file__).parent / "data"
SAMPLE_LABEL = "sample-2026.1"


def _cases(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


UNIT_CASES = _cases("research_units.jsonl")
DESIGNATION_CASES = _cases("research_designations.jsonl")
SEARCH_CASES = _cases("research_search.jsonl")
TREE_CASES = _cases("research_tree.jsonl")
PROBLEM_CASES = _cases("research_problems.jsonl")
SAMPLE_UNITS = 48  # rows of codebook/sample/units.csv


@pytest.fixture(scope="module")
def client(sample_context: Context) -> Iterator[TestClient]:
    app = create_app(
        Settings(database_url=sample_context.settings.database_url), context=sample_context
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def _units(client: TestClient, query: str) -> dict[str, Any]:
    body = _ok(client.get(f"/v1/units?{query}"))
    UnitListOut.model_validate(body)
    return body


def _rows(url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a listing answer, checked against its schema."""
    if "/v1/units" in url:
        UnitListOut.model_validate(body)
        rows: list[dict[str, Any]] = body["units"]
    else:
        DesignationListOut.model_validate(body)
        rows = body["designations"]
    return rows


def _all_pages(client: TestClient, url: str) -> list[dict[str, Any]]:
    """Follow next_url to the end; every page is checked against the schema."""
    rows: list[dict[str, Any]] = []
    pages = 0
    while url:
        response = client.get(url)
        body = _ok(response)
        rows += _rows(url, body)
        url = body["next_url"]
        if url:
            assert response.headers["link"] == f'<{url}>; rel="next"'
        else:
            assert "link" not in response.headers
        pages += 1
        assert pages < 200, "paging does not end"
    return rows


# --- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", UNIT_CASES, ids=[c["why"] for c in UNIT_CASES])
def test_unit_filters(client: TestClient, case: dict[str, Any]) -> None:
    body = _units(client, case["query"] + "&_size=max")
    assert [row["id"] for row in body["units"]] == case["ids"]
    assert body["count"] == len(case["ids"])
    assert body["next"] is None


@pytest.mark.parametrize("case", DESIGNATION_CASES, ids=[c["why"] for c in DESIGNATION_CASES])
def test_designation_filters(client: TestClient, case: dict[str, Any]) -> None:
    body = _ok(client.get(f"/v1/designations?{case['query']}&_size=max"))
    DesignationListOut.model_validate(body)
    assert [[row["code"], row["unit"]["id"]] for row in body["designations"]] == case["rows"]
    assert body["count"] == len(case["rows"])


def test_listing_without_filters_has_every_unit(client: TestClient) -> None:
    body = _units(client, "_size=max")
    assert body["count"] == SAMPLE_UNITS
    assert len(body["units"]) == SAMPLE_UNITS
    ids = [row["id"] for row in body["units"]]
    assert ids == sorted(ids)


def test_theater_units_route(client: TestClient) -> None:
    body = _ok(client.get("/v1/theaters/theater-b/units?date=1973"))
    UnitListOut.model_validate(body)
    assert [r["id"] for r in body["units"]] == [
        "mat-tran-tay-nguyen",
        "theater-b",
        "theater-b1",
        "theater-b2",
        "theater-b4",
    ]
    assert "/v1/theaters/theater-b/units?date=1973&edition=" in body["cite"]
    by_code = _ok(client.get("/v1/theaters/b3/units?date=1970&echelon=front"))
    assert [r["id"] for r in by_code["units"]] == ["mat-tran-tay-nguyen"]


# --- search ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", SEARCH_CASES, ids=[c["why"] for c in SEARCH_CASES])
def test_search_ranking(client: TestClient, case: dict[str, Any]) -> None:
    query = f"q={case['q']}&_size=max" + (f"&{case['params']}" if case.get("params") else "")
    body = _units(client, query)
    got = [[row["id"], row["match"]["kind"]] for row in body["units"]]
    if "all" in case:
        assert got == case["all"]
        assert body["count"] == len(got)  # also when nothing matched: an empty page counts 0
    else:
        assert got[: len(case["top"])] == case["top"]
    order = ["exact", "prefix", "contains", "fuzzy"]
    ranks = [(order.index(r["match"]["kind"]), -r["match"]["score"]) for r in body["units"]]
    assert ranks == sorted(ranks), "exact, prefix, contains, fuzzy; best score first"
    for row in body["units"]:
        assert row["match"]["fuzzy"] == (row["match"]["kind"] == "fuzzy")
        if row["match"]["fuzzy"]:
            assert row["match"]["score"] >= 0.3


def test_fuzzy_auto_adds_fuzzy_only_when_nothing_else_matches(client: TestClient) -> None:
    typo = _units(client, "q=dong%20bagn")
    assert [r["match"]["kind"] for r in typo["units"]] == ["fuzzy"]
    one = _units(client, "q=su%20doan%209")  # one real match: no fuzzy ones
    assert [r["match"]["kind"] for r in one["units"]] == ["exact"]
    always = _units(client, "q=su%20doan%209&fuzzy=always&_size=max")
    assert len(always["units"]) > 1
    assert [r["match"]["kind"] for r in always["units"][1:]] == ["fuzzy"] * (
        len(always["units"]) - 1
    )
    never = _units(client, "q=dong%20bagn&fuzzy=never")
    assert never["units"] == []


def test_search_units_service(sample_context: Context) -> None:
    """The signature the web pages use: search_units(session, edition, q, ...)."""
    with sample_context.session() as session:
        edition = resolve_edition(session, None)
        first = service.search_units(session, edition, "Công trường", size=1)
        assert [r["id"] for r in first.rows] == ["su-doan-7"]
        assert first.rows[0]["match"]["kind"] == "prefix"
        assert first.next is not None
        second = service.search_units(session, edition, "Công trường", size=1, next=first.next)
        assert [r["id"] for r in second.rows] == ["su-doan-9"]
        dated = service.search_units(
            session, edition, "cong truong", date=params.date("date", "1960"), fuzzy="never"
        )
        assert dated.rows == []


# --- facets ---------------------------------------------------------------------------------


def test_facets_count_the_whole_result_and_toggle(client: TestClient) -> None:
    body = _units(client, "_facet=echelon&_facet=verification&_facet=decade&_size=3")
    assert len(body["units"]) == 3
    for name in ("echelon", "verification", "decade"):
        results = body["facets"][name]["results"]
        assert sum(r["count"] for r in results) == SAMPLE_UNITS, name
        counts = [r["count"] for r in results]
        assert counts == sorted(counts, reverse=True)
    echelon = {r["value"]: r for r in body["facets"]["echelon"]["results"]}
    assert echelon["division"]["count"] == 9
    assert echelon["regiment"]["count"] == 12
    decade = {r["value"]: r for r in body["facets"]["decade"]["results"]}
    assert decade["1960"]["count"] == 9
    assert decade[None]["toggle_url"] is None or decade[None]["value"] is None
    # Following a toggle filters by the value; the same value's toggle then removes it.
    on = _units(client, _relative(echelon["division"]["toggle_url"]))
    assert [r["echelon"] for r in on["units"]] == ["division"] * 3
    selected = {r["value"]: r for r in on["facets"]["echelon"]["results"]}
    assert selected["division"]["selected"] is True
    assert selected["division"]["count"] == 9
    off = _units(client, _relative(selected["division"]["toggle_url"]))
    assert off["facets"]["echelon"] == body["facets"]["echelon"]


def test_theater_facet_at_a_date(client: TestClient) -> None:
    body = _units(client, "active_on=1968&_facet=theater&echelon=theater,front")
    theater = {r["value"]: r for r in body["facets"]["theater"]["results"]}
    assert theater["B"]["count"] == 6  # B itself, B1, B2, B3, B4, B5
    assert theater["B"]["label"] == "B — Chiến trường B (miền Nam)"
    assert theater["B3"]["label"] == "B3 — Mặt trận Tây Nguyên"
    assert theater["B3"]["count"] == 1
    followed = _units(client, _relative(theater["B3"]["toggle_url"]))
    assert [r["id"] for r in followed["units"]] == ["mat-tran-tay-nguyen"]


def test_designation_facets(client: TestClient) -> None:
    body = _ok(client.get("/v1/designations?valid_on=1970&_facet=kind&_facet=theater&_size=1"))
    kinds = {r["value"]: r["count"] for r in body["facets"]["kind"]["results"]}
    assert kinds["theater_code"] == 13  # A, B, B1–B5, C, Đ, K, T2–T4
    assert kinds["cover_name"] == 2
    theaters = {r["value"]: r["count"] for r in body["facets"]["theater"]["results"]}
    assert theaters["B3"] == 2  # "B3" and "Mặt trận Tây Nguyên"


@pytest.mark.parametrize(
    ("listing", "given"),
    [
        ("units", {"active_on": "1968"}),
        ("units", {}),
        ("units", {"active_on": "1968", "echelon": ["theater", "front"]}),
        ("designations", {"valid_on": "1970"}),
        ("designations", {}),
    ],
)
def test_theater_facet_the_same_climbing_or_descending(
    sample_context: Context, listing: str, given: dict[str, Any]
) -> None:
    """Few rows climb to their theatres, many descend from them: the same counts either way."""
    with sample_context.session() as session:
        edition = resolve_edition(session, None)
        if listing == "units":
            bound = queries.units(session, edition.seq, params.unit_query(**given))
        else:
            bound = queries.designations(session, edition.seq, params.designation_query(**given))
        counted = {
            climb: sorted(session.execute(bound.listing.theater_facet(climb), bound.params).all())
            for climb in (True, False)
        }
    assert counted[True] == counted[False]
    assert len(counted[True]) >= 5


def _relative(url: str) -> str:
    """The query of an absolute URL, for _units()."""
    return urlsplit(url).query


# --- paging ---------------------------------------------------------------------------------

PAGED = [
    "/v1/units?_size={n}",
    "/v1/units?_sort=name&_size={n}",
    "/v1/units?_sort_desc=formed&_size={n}",
    "/v1/units?_sort=dissolved&_size={n}",
    "/v1/units?_sort_desc=echelon&_size={n}",
    "/v1/units?q=doan&fuzzy=always&_size={n}",
    "/v1/designations?_size={n}",
    "/v1/designations?_sort=valid_from&_size={n}",
    "/v1/designations?_sort_desc=kind&_size={n}",
]


@pytest.mark.parametrize("url", PAGED)
def test_paging_loses_and_repeats_nothing(client: TestClient, url: str) -> None:
    whole = _ok(client.get(url.format(n="max")))
    assert whole["next"] is None
    for size in (1, 4, 7):
        rows = _all_pages(client, url.format(n=size))
        assert rows == _rows(url, whole), f"page size {size}"


def test_paging_keeps_the_edition_and_query(client: TestClient) -> None:
    body = _units(client, "echelon=regiment&_size=5&_facet=verification")
    query = dict(parse_qsl(urlsplit(body["next_url"]).query))
    assert query["edition"] == SAMPLE_LABEL
    assert query["echelon"] == "regiment"
    assert query["_facet"] == "verification"
    assert query["_size"] == "5"
    assert query["_next"] == body["next"]


def test_next_token_of_another_sort_is_refused(client: TestClient) -> None:
    token = _units(client, "_size=2")["next"]
    response = client.get(f"/v1/units?_sort=name&_next={token}")
    assert response.status_code == 422
    assert response.json()["type"] == PROBLEM_TYPE_BASE + "invalid-query"


# --- exports --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["echelon=regiment", "q=doan&fuzzy=always", "active_on=1968&_sort_desc=formed", ""],
)
def test_csv_and_ndjson_hold_the_whole_listing(client: TestClient, query: str) -> None:
    whole = _ok(client.get(f"/v1/units?{query}&_size=max"))
    csv_response = client.get(f"/v1/units.csv?{query}&_size=2")  # no size cap on exports
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
    assert SAMPLE_LABEL in csv_response.headers["content-disposition"]
    assert csv_response.headers["x-phienhieu-cite"].startswith("phienhieu codebook")
    text = csv_response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    records = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    ndjson = client.get(f"/v1/units?{query}&_format=ndjson")
    assert ndjson.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert [r["id"] for r in records] == [r["id"] for r in whole["units"]]
    assert [r["id"] for r in lines] == [r["id"] for r in whole["units"]]
    for record, line, row in zip(records, lines, whole["units"], strict=True):
        assert record == {k: "" if v is None else str(v) for k, v in line.items()}
        assert line["name"] == row["name"]
        assert line["formed"] == row["existed"]["from"]
        assert line["source"] == row["source"]["id"]
        assert line["source_citation"] == row["source"]["citation"]
        if "match" in row:
            assert line["match_kind"] == row["match"]["kind"]


def test_designations_export(client: TestClient) -> None:
    whole = _ok(client.get("/v1/designations?_size=max"))
    lines = client.get("/v1/designations.ndjson").text.splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["code"], r["unit"]) for r in records] == [
        (r["code"], r["unit"]["id"]) for r in whole["designations"]
    ]
    assert len(records) == 72  # rows of codebook/sample/assignments.csv


def test_exports_stream_in_chunks(sample_context: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """The export is a generator over a database cursor: chunks come before the end is read."""
    monkeypatch.setattr(formats, "CHUNK_ROWS", 10)
    with sample_context.session() as session:
        edition = resolve_edition(session, None)
        query = params.unit_query()
        chunks = service.stream_units(session, edition, query, "ndjson", base="")
        first = next(chunks)
        assert len(first.decode().splitlines()) == 10
        rest = list(chunks)
    assert len(rest) == 4  # 48 rows: 10 + 10 + 10 + 10 + 8


# --- order of battle ------------------------------------------------------------------------


def _flat(nodes: list[dict[str, Any]], depth: int = 1) -> Iterator[list[Any]]:
    for node in nodes:
        yield [depth, node["id"], node["link"]["fit"]]
        yield from _flat(node["subordinates"], depth + 1)


@pytest.mark.parametrize("case", TREE_CASES, ids=[c["why"] for c in TREE_CASES])
def test_tree_at_a_date(client: TestClient, case: dict[str, Any]) -> None:
    body = _ok(client.get(f"/v1/units/{case['unit']}/tree", params={"date": case["date"]}))
    TreeOut.model_validate(body)
    assert body["unit"]["id"] == case["unit"]
    assert [[c["id"], c["link"]["fit"]] for c in body["chain"]] == case["chain"]
    assert list(_flat(body["subordinates"])) == case["subordinates"]
    assert body["count"] == len(case["subordinates"])
    assert (body["theater"] or {}).get("id") == case["theater"]
    if "other_parents" in case:
        assert body["chain"][0]["other_parents"] == case["other_parents"]
    if "existed_fit" in case:
        assert body["unit"]["existed_fit"] == case["existed_fit"]
    cited = {s["id"] for s in body["sources"]}
    assert body["unit"]["source"] in cited
    for step in body["chain"]:
        assert {step["source"], step["link"]["source"]} <= cited


# --- citation and sources -------------------------------------------------------------------


def test_every_answer_cites_edition_query_and_date(client: TestClient) -> None:
    body = _units(client, "q=Đồng%20Bằng&echelon=division")
    cite = body["cite"]
    assert f'"{SAMPLE_LABEL}"' in cite
    assert "GET /v1/units?q=%C4%90%E1%BB%93ng+B%E1%BA%B1ng&echelon=division" in cite
    assert f"edition={SAMPLE_LABEL}" in cite
    assert re.search(r"retrieved \d{4}-\d{2}-\d{2}\.$", cite)
    assert body["edition"]["label"] == SAMPLE_LABEL
    for rows in (body["units"], _ok(client.get("/v1/designations?unit=su-doan-9"))["designations"]):
        for row in rows:
            assert row["source"]["citation"]
    assert body["sources"] == sorted(
        {r["source"]["id"]: r["source"] for r in body["units"]}.values(), key=lambda s: s["id"]
    )
    designations = _ok(client.get("/v1/designations?unit=su-doan-9"))
    assert "GET /v1/designations?unit=su-doan-9&edition=" in designations["cite"]
    assert {s["id"] for s in designations["sources"]} == {
        r["source"]["id"] for r in designations["designations"]
    }


def test_edition_by_number_answers_the_same(client: TestClient) -> None:
    by_label = _units(client, f"echelon=corps&edition={SAMPLE_LABEL}")
    by_number = _units(client, "echelon=corps&edition=1")
    assert by_label["units"] == by_number["units"]


# --- problems -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", PROBLEM_CASES, ids=[c["path"] for c in PROBLEM_CASES])
def test_problems(client: TestClient, case: dict[str, Any]) -> None:
    response = client.get(case["path"])
    assert response.status_code == case["status"], response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    ProblemOut.model_validate(body)
    assert body["type"] == PROBLEM_TYPE_BASE + case["slug"]
    assert body["detail_vi"]
    assert body["detail_vi"] != body["detail"]
    if "parameter" in case:
        assert body["parameter"] == case["parameter"]
    assert "Traceback" not in response.text
