"""Which designations decode differently under edition B than under edition A, and how.

The answer to "does the new edition change my list?": each item is decoded
under both editions (each through its own reader, so published editions use
their caches) and the two answers are compared on what a user acts on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.context import Context
from app.decode.resolver import Resolution, resolve
from app.decode.service import parse_text
from app.editions.service import edition_ref, resolve_edition
from app.errors import PayloadTooLarge, PhienhieuError
from app.parsing.dates import parse_date

MAX_IMPACT_ITEMS = 5000
# What is compared, from the most to the least consequential.
ASPECTS = ("status", "unit", "chain", "candidates", "score", "evidence", "warnings")


@dataclass(frozen=True, slots=True)
class Item:
    text: str
    date: str | None = None
    id: str | None = None


def summary(resolution: Resolution) -> dict[str, Any]:
    """What a user acts on in an answer: status, best unit and chain, rivals, evidence."""
    best = resolution.candidates[0] if resolution.candidates else None
    evidence: list[list[Any]] = []
    if best is not None:
        for link in best.chain:
            for m in link.matched:
                a = m.assignment
                evidence.append(
                    ["match", a.code, a.unit_id, a.source.id, a.verification, a.validity.to_json()]
                )
            if link.parent_link is not None:
                p = link.parent_link
                evidence.append(
                    [
                        "parent",
                        p.unit_id,
                        p.parent_id,
                        p.source.id,
                        p.verification,
                        p.validity.to_json(),
                    ]
                )
    return {
        "status": resolution.status.value,
        "unit": best.chain[0].unit.id if best else None,
        "name": best.chain[0].unit.name if best else None,
        "chain": [link.unit.id for link in best.chain] if best else [],
        "score": best.score if best else None,
        "candidates": [c.chain[0].unit.id for c in resolution.candidates],
        "evidence": evidence,
        "warnings": sorted({w.code for w in (best.warnings if best else resolution.warnings)}),
    }


def _explain(a: dict[str, Any], b: dict[str, Any], changes: list[str]) -> tuple[str, str]:
    if not changes:
        return "Giải mã như nhau.", "Decodes the same."
    if "unit" in changes:
        return (
            f"Nay giải mã thành {b['name'] or '(không có)'} thay vì {a['name'] or '(không có)'}.",
            f"Now decodes to {b['name'] or '(nothing)'} instead of {a['name'] or '(nothing)'}.",
        )
    if "status" in changes:
        return (
            f"Cùng đơn vị; trạng thái đổi từ {a['status']} sang {b['status']}.",
            f"Same unit; status changes from {a['status']} to {b['status']}.",
        )
    if "chain" in changes:
        return (
            "Cùng đơn vị; chuỗi trực thuộc thay đổi: " + " → ".join(b["chain"]) + ".",
            "Same unit; its chain of command changes: " + " → ".join(b["chain"]) + ".",
        )
    if "candidates" in changes:
        return "Cùng đơn vị; các khả năng khác thay đổi.", "Same unit; the other candidates change."
    if "score" in changes:
        return (
            f"Cùng đơn vị; điểm đổi từ {a['score']} sang {b['score']}.",
            f"Same unit; score changes from {a['score']} to {b['score']}.",
        )
    if "evidence" in changes:
        return (
            "Cùng đơn vị; nguồn dẫn hoặc trạng thái kiểm chứng thay đổi.",
            "Same unit; its sources or verification status change.",
        )
    return "Cùng đơn vị; cảnh báo thay đổi.", "Same unit; the warnings change."


def impact(
    context: Context, session: Session, a_ref: str | int, b_ref: str | int, items: Sequence[Item]
) -> dict[str, Any]:
    """Decode every item under both editions; report which decode differently and how."""
    if len(items) > MAX_IMPACT_ITEMS:
        raise PayloadTooLarge(
            f"At most {MAX_IMPACT_ITEMS} designations per request; got {len(items)}.",
            detail_vi=f"Tối đa {MAX_IMPACT_ITEMS} phiên hiệu mỗi yêu cầu; nhận {len(items)}.",
        )
    a, b = resolve_edition(session, a_ref), resolve_edition(session, b_ref)
    reader_a, reader_b = context.reader(a), context.reader(b)
    results: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        head: dict[str, Any] = {"index": index, "id": item.id, "text": item.text, "date": item.date}
        try:
            parsed = parse_text(item.text)
            when = parse_date(item.date)
        except PhienhieuError as exc:
            results.append(
                {**head, "changed": False, "error": exc.detail, "error_vi": exc.detail_vi}
            )
            continue
        before = summary(resolve(parsed, when, reader_a))
        after = summary(resolve(parsed, when, reader_b))
        changes = [k for k in ASPECTS if before[k] != after[k]]
        vi, en = _explain(before, after, changes)
        results.append(
            {
                **head,
                "changed": bool(changes),
                "changes": changes,
                "explanation_vi": vi,
                "explanation_en": en,
                "before": before,
                "after": after,
            }
        )
    return {
        "from": edition_ref(a),
        "to": edition_ref(b),
        "total": len(results),
        "changed": sum(1 for r in results if r["changed"]),
        "items": results,
    }
