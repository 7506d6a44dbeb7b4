"""Curation with evidence, on SQLite and PostgreSQL: submissions are checked, reviews carry
them into the draft (never into a published edition), disputes lower a row's weight and say
so, and the reverse lookups return every match."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import WriteApi  # type: ignore[import-not-found]  # pytest puts tests/ on the path

DATA = Path(__file__).parent / "data"
PROBLEM_CASES = [
    json.loads(x) for x in (DATA / "submission_problems.jsonl").read_text("utf-8").splitlines() if x
]
SAMPLE = "sample-2026.1"
# Test data is synthetic and says so; none of it is a historical claim.
TESTIMONY = {
    "kind": "veteran_testimony",
    "citation": "SYNTHETIC test testimony, not a historical source",
    "witness": "Nhân chứng tổng hợp (synthetic)",
}
VALID = {
    "proposal": {
        "type": "assignment",
        "unit": "su-doan-9",
        "kind": "nickname",
        "code": "Đoàn 9001",
        "valid_from": "1965",
        "valid_to": "1970",
        "note": "synthetic",
    },
    "evidence": TESTIMONY,
}
MOVE_CT9 = {
    "proposal": {
        "type": "assignment",
        "unit": "su-doan-7",
        "kind": "cover_name",
        "code": "Công trường 9",
        "valid_from": "1965-09-02",
        "note": "SYNTHETIC correction for a test",
    },
    "evidence": TESTIMONY,
    "corrects": {"table": "assignment", "unit": "su-doan-9", "code": "Công trường 9"},
}


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/" + slug), body
    return body


def _open(api: WriteApi, label: str = "cur-2") -> None:
    _ok(api.client.post("/v1/editions", json={"label": label}, headers=api.auth("admin")), 201)


def _submit(api: WriteApi, body: dict[str, Any], role: str = "contributor") -> int:
    return int(
        _ok(api.client.post("/v1/submissions", json=body, headers=api.auth(role)), 201)["id"]
    )


def _accept(api: WriteApi, sub: int, role: str = "reviewer", **decision: Any) -> Any:
    return api.client.post(f"/v1/submissions/{sub}/accept", json=decision, headers=api.auth(role))


def _decode(api: WriteApi, text: str, date: str, edition: str) -> dict[str, Any]:
    body = {"text": text, "date": date, "edition": edition}
    return _ok(api.client.post("/v1/decode", json=body))


@pytest.mark.parametrize("case", PROBLEM_CASES, ids=[c["why"] for c in PROBLEM_CASES])
def test_bad_submission_names_every_problem(refusing_api: WriteApi, case: dict[str, Any]) -> None:
    body = {**VALID, **case["patch"]}
    response = refusing_api.client.post(
        "/v1/submissions", json=body, headers=refusing_api.auth("contributor")
    )
    problem = _problem(response, 422, "submission-invalid")
    assert sorted(p["field"] for p in problem["problems"]) == sorted(case["fields"])
    assert _ok(refusing_api.client.get("/v1/submissions"))["submissions"] == []


def test_accepted_correction_goes_into_the_draft_only(write_api: WriteApi) -> None:
    before = _decode(write_api, "Công trường 9", "1968", SAMPLE)
    assert before["candidates"][0]["chain"][0]["id"] == "su-doan-9"
    sub = _submit(write_api, MOVE_CT9)
    _problem(_accept(write_api, sub), 409, "conflict")  # no draft is open yet
    _open(write_api)
    review = _ok(_accept(write_api, sub, reliability="moderate"))
    assert review["edition"]["label"] == "cur-2"
    assert review["edition"]["status"] == "draft"
    assert review["row"]["unit"] == "su-doan-7"
    assert review["row"]["verification"] == "unverified"
    assert review["row"]["source"] == f"S-sub-{sub}"
    assert review["superseded"]["unit"] == "su-doan-9"
    assert review["submission"]["status"] == "accepted"
    assert review["submission"]["accepted_in"] == "cur-2"
    assert review["submission"]["reviewed_by"]["name"] == "Synthetic reviewer"

    draft = _decode(write_api, "Công trường 9", "1968", "cur-2")
    assert draft["candidates"][0]["chain"][0]["id"] == "su-doan-7"
    assert draft["edition"]["status"] == "draft"
    # The published edition answers as before, byte for byte; the default is still it.
    assert _decode(write_api, "Công trường 9", "1968", SAMPLE) == before
    default = _ok(
        write_api.client.post("/v1/decode", json={"text": "Công trường 9", "date": "1968"})
    )
    assert default == before

    # The new row cites a source made from the evidence, with its kind and witness.
    exported = write_api.client.get("/v1/editions/cur-2/export?format=json").json()["files"]
    source_line = next(
        x for x in exported["sources.csv"].splitlines() if x.startswith(f"S-sub-{sub},")
    )
    assert "veteran_testimony" in source_line
    assert "moderate" in source_line
    assert TESTIMONY["witness"] in source_line
    sample_sources = write_api.client.get(f"/v1/editions/{SAMPLE}/export?format=json").json()
    assert f"S-sub-{sub}" not in sample_sources["files"]["sources.csv"]

    _problem(_accept(write_api, sub, role="reviewer2"), 409, "conflict")  # only once


def test_reading_submissions_and_who_may_accept_them(write_api: WriteApi) -> None:
    _open(write_api)
    own = _submit(write_api, VALID, role="reviewer")  # a reviewer may submit too
    _problem(_accept(write_api, own, role="contributor"), 403, "forbidden")
    _problem(_accept(write_api, own, role="reviewer"), 403, "forbidden")
    assert _ok(_accept(write_api, own, role="reviewer2"))["submission"]["status"] == "accepted"
    # Submissions are public to read, with their evidence.
    sub = _submit(write_api, VALID)
    one = _ok(write_api.client.get(f"/v1/submissions/{sub}"))
    assert one["status"] == "pending"
    assert one["proposal"]["code"] == "Đoàn 9001"
    assert one["evidence"]["witness"] == TESTIMONY["witness"]
    assert one["submitted_by"]["name"] == "Synthetic contributor"
    listed = _ok(write_api.client.get("/v1/submissions?status=pending"))["submissions"]
    assert [s["id"] for s in listed] == [sub]
    accepted = _ok(write_api.client.get("/v1/submissions?status=accepted"))["submissions"]
    assert [s["id"] for s in accepted] == [own]
    _problem(write_api.client.get("/v1/submissions/999999"), 404, "not-found")


def test_rejection_keeps_the_reason_and_changes_nothing(write_api: WriteApi) -> None:
    _open(write_api)
    before = write_api.client.get("/v1/editions/cur-2/export?format=json").json()["files"]
    sub = _submit(write_api, VALID)
    post = write_api.client.post
    reviewer = write_api.auth("reviewer")
    _problem(
        post(f"/v1/submissions/{sub}/reject", json={"reason": ""}, headers=reviewer),
        422,
        "invalid-request",
    )
    done = _ok(
        post(
            f"/v1/submissions/{sub}/reject",
            json={"reason": "Không có nguồn thứ hai"},
            headers=reviewer,
        )
    )
    assert done["submission"]["status"] == "rejected"
    assert done["submission"]["review_note"] == "Không có nguồn thứ hai"
    assert done["row"] is None
    _problem(_accept(write_api, sub), 409, "conflict")
    assert write_api.client.get("/v1/editions/cur-2/export?format=json").json()["files"] == before
    # The second correction of a row finds it already replaced in the draft: refused.
    first, second = _submit(write_api, MOVE_CT9), _submit(write_api, MOVE_CT9)
    _ok(_accept(write_api, first))
    _problem(_accept(write_api, second), 404, "not-found")


def test_dispute_lowers_the_weight_and_says_so(write_api: WriteApi) -> None:
    before = _decode(write_api, "Công trường 9", "1968", SAMPLE)
    [reason] = [r for r in before["candidates"][0]["reasons"] if r["code"] == "matched"]
    assert "unverified: counts 0.85 of a verified row" in reason["message_en"]
    assert "chưa kiểm chứng" in reason["message_vi"]
    _open(write_api)
    reviewer = write_api.auth("reviewer")
    row = {"table": "assignment", "unit": "su-doan-9", "code": "Công trường 9"}
    done = _ok(
        write_api.client.post(
            "/v1/disputes", json={"row": row, "reason": "synthetic doubt"}, headers=reviewer
        )
    )
    assert done["before"]["verification"] == "unverified"
    assert done["after"]["verification"] == "disputed"
    assert "synthetic doubt" in done["after"]["note"]
    after = _decode(write_api, "Công trường 9", "1968", "cur-2")
    best = after["candidates"][0]
    assert best["chain"][0]["id"] == "su-doan-9"
    assert best["score"] == pytest.approx(before["candidates"][0]["score"] * 0.5 / 0.85, abs=0.002)
    [reason] = [r for r in best["reasons"] if r["code"] == "matched"]
    assert "disputed: counts 0.50 of a verified row" in reason["message_en"]
    assert "đang bị nghi vấn" in reason["message_vi"]
    assert _decode(write_api, "Công trường 9", "1968", SAMPLE) == before
    again = write_api.client.post(
        "/v1/disputes", json={"row": row, "reason": "again"}, headers=reviewer
    )
    _problem(again, 409, "conflict")


@pytest.mark.parametrize(
    ("row", "status", "slug"),
    [
        ({"table": "assignment", "unit": "su-doan-9"}, 409, "conflict"),  # several rows match
        ({"table": "assignment", "unit": "su-doan-9", "code": "Đoàn 1"}, 404, "not-found"),
        ({"table": "area", "unit": "su-doan-9", "code": "Đoàn 1"}, 422, "submission-invalid"),
        ({"table": "unit", "unit": "no-such-unit"}, 404, "not-found"),
    ],
    ids=["ambiguous", "no-match", "wrong-field", "unknown-unit"],
)
def test_dispute_names_one_row_exactly(
    refusing_api: WriteApi, row: dict[str, str], status: int, slug: str
) -> None:
    response = refusing_api.client.post(
        "/v1/disputes",
        json={"row": row, "reason": "synthetic"},
        headers=refusing_api.auth("reviewer"),
    )
    body = _problem(response, status, slug)
    if status == 409:
        assert len(body["matches"]) > 1


def _b3_three_ways(api: WriteApi) -> None:
    """In a draft, B3 also means two other (real) units in the same years: one unverified,
    one disputed. Synthetic rows, for the test only."""
    _open(api)
    for unit in ("theater-b1", "theater-b2"):
        body = {
            "proposal": {
                "type": "assignment",
                "unit": unit,
                "kind": "theater_code",
                "code": "B3",
                "valid_from": "1964-05-01",
                "valid_to": "1975-03-26",
                "note": "SYNTHETIC row for a test",
            },
            "evidence": TESTIMONY,
        }
        _ok(_accept(api, _submit(api, body)))
    row = {"table": "assignment", "unit": "theater-b2", "code": "B3"}
    _ok(
        api.client.post(
            "/v1/disputes", json={"row": row, "reason": "synthetic"}, headers=api.auth("reviewer")
        )
    )


def test_verified_above_unverified_above_disputed_and_all_are_listed(write_api: WriteApi) -> None:
    _b3_three_ways(write_api)
    answer = _decode(write_api, "B3", "1970", "cur-2")
    ranked = [(c["chain"][0]["id"], c["score"]) for c in answer["candidates"]]
    assert [unit for unit, _ in ranked] == ["mat-tran-tay-nguyen", "theater-b1", "theater-b2"]
    assert ranked[0][1] > ranked[1][1] > ranked[2][1]
    words = [
        next(r for r in c["reasons"] if r["code"] == "matched")["message_en"]
        for c in answer["candidates"]
    ]
    assert "verified: counts in full" in words[0]
    assert "unverified: counts 0.85" in words[1]
    assert "disputed: counts 0.50" in words[2]
    # Every unit the code meant, all of them, never just the first.
    draft = _ok(write_api.client.get("/v1/designations", params={"code": "B3", "edition": "cur-2"}))
    assert draft["keys"] == ["theater:B3"]
    assert draft["count"] == 3
    assert sorted(d["unit"]["id"] for d in draft["designations"]) == [
        "mat-tran-tay-nguyen",
        "theater-b1",
        "theater-b2",
    ]
    assert {d["verification"] for d in draft["designations"]} == {
        "verified",
        "unverified",
        "disputed",
    }
    assert draft["edition"]["label"] == "cur-2"
    published = _ok(write_api.client.get("/v1/designations", params={"code": "B3"}))
    assert published["edition"]["label"] == SAMPLE
    assert [d["unit"]["id"] for d in published["designations"]] == ["mat-tran-tay-nguyen"]
    # Written as records write it, with or without diacritics: the same key.
    same = _ok(write_api.client.get("/v1/designations", params={"code": "Cong truong 9"}))
    assert [d["unit"]["id"] for d in same["designations"]] == ["su-doan-9"]
    none = _ok(write_api.client.get("/v1/designations", params={"code": "xyz abc"}))
    assert (none["keys"], none["count"], none["designations"]) == ([], 0, [])


def test_every_code_a_unit_carried(refusing_api: WriteApi) -> None:
    body = _ok(refusing_api.client.get("/v1/units/su-doan-9/designations"))
    assert body["unit"] == {"id": "su-doan-9", "name": "Sư đoàn 9", "echelon": "division"}
    assert body["edition"]["label"] == SAMPLE
    codes = {(d["kind"], d["code"]) for d in body["designations"]}
    assert ("cover_name", "Công trường 9") in codes
    assert ("designation", "Sư đoàn 9") in codes
    starts = [d["valid"]["from"] for d in body["designations"]]
    assert starts == sorted(starts, key=lambda s: (s is not None, s or ""))
    for d in body["designations"]:
        assert d["source"]["citation"]
        assert d["verification"] in ("verified", "unverified", "disputed")
    _problem(refusing_api.client.get("/v1/units/no-such-unit/designations"), 404, "unit-not-found")
    _problem(
        refusing_api.client.get("/v1/units/su-doan-9/designations?edition=nope"),
        404,
        "edition-not-found",
    )
