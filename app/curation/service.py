"""Submissions with evidence, and the reviews that carry them into the open draft.

Nothing here edits a row another edition can see: accepting a correction or
disputing a row adds a new row that starts in the draft and marks the old one
superseded in the draft, so every published edition keeps answering as before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import canonical_json, iso, now, record
from app.auth.actor import Actor
from app.curation.schemas import (
    AcceptIn,
    AssignmentProposal,
    Evidence,
    ParentLinkProposal,
    RowRef,
    SubmissionIn,
)
from app.db.models import (
    ApiKey,
    Area,
    Assignment,
    Edition,
    ParentLink,
    Source,
    SourceKind,
    Submission,
    SubmissionStatus,
    UnitRevision,
    Verification,
)
from app.editions.service import draft_for_writing, edition_ref
from app.errors import Conflict, Forbidden, NotFound, SubmissionInvalid
from app.parsing.dates import parse_bound
from codebook.bundle import AssignmentRow, ParentLinkRow, match_key
from codebook.store import from_row, latest_edition, to_row, visible

ROW_TABLES: dict[str, Any] = {
    "unit": UnitRevision,
    "assignment": Assignment,
    "parent_link": ParentLink,
    "area": Area,
}
# Which fields of a row reference each table understands (besides `table` and `unit`).
REF_FIELDS = {
    "unit": {"source", "verification"},
    "assignment": {"kind", "code", "valid_from", "valid_to", "source", "verification"},
    "parent_link": {"parent", "valid_from", "valid_to", "source", "verification"},
    "area": {"area", "valid_from", "valid_to", "source", "verification"},
}
MAX_PAGE = 200


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def _invalid(problems: list[dict[str, str]], *, at_review: bool = False) -> Exception:
    if at_review:
        return Conflict(
            f"The proposal no longer fits the draft ({len(problems)} problem(s)); "
            "reject it or ask for a new one.",
            detail_vi="Đề xuất không còn khớp với bản nháp; hãy từ chối hoặc yêu cầu đề xuất mới.",
            extra={"problems": problems},
        )
    return SubmissionInvalid(
        f"The submission has {len(problems)} problem(s); nothing was saved.",
        detail_vi=f"Đề xuất có {len(problems)} lỗi; không có gì được lưu.",
        extra={"problems": problems},
    )


def _unit_exists(session: Session, seq: int, unit_id: str) -> bool:
    query = select(UnitRevision.id).where(
        UnitRevision.unit_id == unit_id, visible(UnitRevision, seq)
    )
    return "\x00" not in unit_id and session.scalar(query.limit(1)) is not None


def _check_period(problems: list[dict[str, str]], start: str, end: str) -> None:
    bounds = []
    for field, value in (("proposal.valid_from", start), ("proposal.valid_to", end)):
        try:
            bounds.append(parse_bound(value.strip()))
        except ValueError:
            problems.append(_problem(field, f"{value!r} is not YYYY, YYYY-MM or YYYY-MM-DD"))
            return
    lower, upper = bounds
    if lower and upper and lower[0] >= upper[0]:
        problems.append(_problem("proposal.valid_to", f"{end!r} is not after {start!r}"))


def _check_proposal(
    session: Session, seq: int, proposal: AssignmentProposal | ParentLinkProposal
) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    if not _unit_exists(session, seq, proposal.unit):
        problems.append(_problem("proposal.unit", f"unknown unit {proposal.unit!r}"))
    if isinstance(proposal, AssignmentProposal):
        try:
            match_key(proposal.code.strip())
        except ValueError as exc:
            problems.append(_problem("proposal.code", str(exc)))
    else:
        if not _unit_exists(session, seq, proposal.parent):
            problems.append(_problem("proposal.parent", f"unknown unit {proposal.parent!r}"))
        if proposal.parent == proposal.unit:
            problems.append(_problem("proposal.parent", "a unit is not its own parent"))
    _check_period(problems, proposal.valid_from, proposal.valid_to)
    return problems


def _check_evidence(session: Session, seq: int, evidence: Evidence) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    if evidence.source is not None:
        if evidence.kind or evidence.citation or evidence.witness:
            problems.append(
                _problem(
                    "evidence.source", "cite an existing source or describe a new one, not both"
                )
            )
        query = select(Source.id).where(Source.id == evidence.source, visible(Source, seq))
        if "\x00" in evidence.source or session.scalar(query) is None:
            problems.append(_problem("evidence.source", f"unknown source {evidence.source!r}"))
        return problems
    if evidence.kind is None:
        problems.append(
            _problem("evidence.kind", "say what the evidence is: " + ", ".join(SourceKind))
        )
    if not (evidence.citation or "").strip():
        problems.append(_problem("evidence.citation", "is required: who, what, where, when"))
    if evidence.kind == SourceKind.VETERAN_TESTIMONY and not (evidence.witness or "").strip():
        problems.append(_problem("evidence.witness", "testimony needs the name of the witness"))
    return problems


def find_row(session: Session, seq: int, ref: RowRef) -> tuple[Any, Any]:
    """The one row of edition `seq` that `ref` describes (ORM object, bundle row)."""
    unknown = sorted(
        k
        for k, v in ref.model_dump(exclude={"table", "unit"}).items()
        if v is not None and k not in REF_FIELDS[ref.table]
    )
    if unknown:
        raise SubmissionInvalid(
            f"A {ref.table} row has no {', '.join(unknown)}.",
            detail_vi=f"Dòng {ref.table} không có trường {', '.join(unknown)}.",
            extra={
                "problems": [_problem(f"row.{k}", "not a field of this table") for k in unknown]
            },
        )
    model = ROW_TABLES[ref.table]
    wanted = {k: v for k, v in ref.model_dump(exclude={"table", "unit"}).items() if v is not None}
    found = []
    if "\x00" not in ref.unit:
        query = select(model).where(model.unit_id == ref.unit, visible(model, seq))
        for obj in session.scalars(query.order_by(model.id)):
            row = to_row(obj)
            if all(getattr(row, k) == v for k, v in wanted.items()):
                found.append((obj, row))
    if not found:
        raise NotFound(
            f"No {ref.table} row of {ref.unit!r} matches in this edition.",
            detail_vi=f"Không có dòng {ref.table} nào của {ref.unit!r} khớp trong ấn bản này.",
        )
    if len(found) > 1:
        raise Conflict(
            f"{len(found)} {ref.table} rows match; name the row more exactly "
            "(period, source or verification).",
            detail_vi=f"Có {len(found)} dòng khớp; hãy chỉ rõ hơn (thời gian, nguồn, kiểm chứng).",
            extra={"matches": [_row_json(ref.table, r) for _, r in found]},
        )
    return found[0]


def _row_json(table: str, row: Any) -> dict[str, Any]:
    return {"table": table, **dataclasses.asdict(row)}


def submit(session: Session, actor: Actor, body: SubmissionIn) -> Submission:
    """Record a proposal with its evidence, after checking it against the newest edition."""
    working = latest_edition(session)
    if working is None:
        raise Conflict("The codebook has no edition yet.", detail_vi="Bộ mã chưa có ấn bản nào.")
    problems = _check_proposal(session, working.seq, body.proposal)
    problems += _check_evidence(session, working.seq, body.evidence)
    if body.corrects is not None and body.corrects.table != body.proposal.type:
        problems.append(
            _problem(
                "corrects.table", f"a {body.proposal.type} corrects a {body.proposal.type} row"
            )
        )
    if problems:
        raise _invalid(problems)
    if body.corrects is not None:
        find_row(session, working.seq, body.corrects)  # it must name exactly one row now
    submission = Submission(
        target=body.proposal.type,
        status=SubmissionStatus.PENDING,
        proposal=canonical_json(body.proposal.model_dump(mode="json")),
        evidence=canonical_json(body.evidence.model_dump(mode="json")),
        corrects=None
        if body.corrects is None
        else canonical_json(body.corrects.model_dump(mode="json", exclude_none=True)),
        submitted_by=actor.key_id,
        submitted_at=now(),
        review_note="",
    )
    session.add(submission)
    session.flush()
    record(
        session,
        actor,
        "submission.create",
        f"submission:{submission.id}",
        after=submission_json(session, submission),
    )
    return submission


def _actor_ref(session: Session, key_id: int | None) -> dict[str, Any] | None:
    if key_id is None:
        return None
    key = session.get(ApiKey, key_id)
    return {"key": key_id, "name": key.name if key else str(key_id)}


def submission_json(session: Session, sub: Submission) -> dict[str, Any]:
    accepted = session.get(Edition, sub.accepted_in) if sub.accepted_in is not None else None
    return {
        "id": sub.id,
        "target": sub.target,
        "status": sub.status,
        "proposal": json.loads(sub.proposal),
        "evidence": json.loads(sub.evidence),
        "corrects": None if sub.corrects is None else json.loads(sub.corrects),
        "submitted_by": _actor_ref(session, sub.submitted_by),
        "submitted_at": iso(sub.submitted_at),
        "reviewed_by": _actor_ref(session, sub.reviewed_by),
        "reviewed_at": iso(sub.reviewed_at),
        "review_note": sub.review_note,
        "accepted_in": accepted.label if accepted else None,
        "source": sub.source_id,
    }


def get_submission(session: Session, sub_id: int, *, lock: bool = False) -> Submission:
    sub = session.get(Submission, sub_id, with_for_update=lock, populate_existing=lock)
    if sub is None:
        raise NotFound(
            f"There is no submission {sub_id}.", detail_vi=f"Không có đề xuất số {sub_id}."
        )
    return sub


def list_submissions(
    session: Session, *, status: str | None, after: int, limit: int
) -> dict[str, Any]:
    query = select(Submission).where(Submission.id > after)
    if status:
        query = query.where(Submission.status == status)
    limit = min(limit, MAX_PAGE)
    subs: Sequence[Submission] = session.scalars(query.order_by(Submission.id).limit(limit)).all()
    return {
        "submissions": [submission_json(session, s) for s in subs],
        "next_after": subs[-1].id if len(subs) == limit else None,
    }


def _pending(session: Session, sub_id: int) -> Submission:
    sub = get_submission(session, sub_id, lock=True)
    if sub.status != SubmissionStatus.PENDING:
        raise Conflict(
            f"Submission {sub_id} was already {sub.status}.",
            detail_vi=f"Đề xuất số {sub_id} đã được xử lý ({sub.status}).",
        )
    return sub


def _new_source(
    session: Session, draft: Edition, sub: Submission, evidence: Evidence, decision: AcceptIn
) -> str:
    """The source made from a submission's evidence: `S-sub-<id>`, cited by the accepted row."""
    source_id = f"S-sub-{sub.id}"
    if session.get(Source, source_id) is not None:
        raise Conflict(
            f"Source {source_id} exists already.", detail_vi=f"Nguồn {source_id} đã tồn tại."
        )
    parts = []
    if evidence.witness:
        parts.append(f"witness: {evidence.witness.strip()}")
    if evidence.note:
        parts.append(evidence.note.strip())
    parts.append(f"from submission {sub.id}")
    assert evidence.kind is not None  # checked by _check_evidence
    assert evidence.citation is not None
    session.add(
        Source(
            id=source_id,
            kind=evidence.kind.value,
            citation=evidence.citation.strip(),
            url=(evidence.url or "").strip() or None,
            reliability=decision.reliability.value,
            note="; ".join(parts),
            first_edition=draft.seq,
        )
    )
    session.flush()
    return source_id


def accept(session: Session, actor: Actor, sub_id: int, decision: AcceptIn) -> dict[str, Any]:
    """Carry a pending submission into the open draft as a row; supersede what it corrects."""
    draft = draft_for_writing(session)
    sub = _pending(session, sub_id)
    if sub.submitted_by == actor.key_id:
        raise Forbidden(
            "A submission is accepted by someone other than its contributor.",
            detail_vi="Đề xuất phải được người khác (không phải người gửi) chấp nhận.",
        )
    before = submission_json(session, sub)
    body = SubmissionIn.model_validate(
        {
            "proposal": json.loads(sub.proposal),
            "evidence": json.loads(sub.evidence),
            "corrects": None if sub.corrects is None else json.loads(sub.corrects),
        }
    )
    proposal, evidence = body.proposal, body.evidence
    problems = _check_proposal(session, draft.seq, proposal)
    problems += _check_evidence(session, draft.seq, evidence)
    if problems:
        raise _invalid(problems, at_review=True)
    corrected = find_row(session, draft.seq, body.corrects) if body.corrects else None
    source_id = evidence.source or _new_source(session, draft, sub, evidence, decision)
    note = proposal.note.strip() if decision.note is None else decision.note.strip()
    start, end = proposal.valid_from.strip(), proposal.valid_to.strip()
    row: AssignmentRow | ParentLinkRow
    if isinstance(proposal, AssignmentProposal):
        row = AssignmentRow(
            proposal.unit,
            proposal.kind.value,
            proposal.code.strip(),
            start,
            end,
            source_id,
            decision.verification,
            note,
        )
    else:
        row = ParentLinkRow(
            proposal.unit, proposal.parent, start, end, source_id, decision.verification, note
        )
    model = ROW_TABLES[sub.target]
    same = select(model).where(model.unit_id == proposal.unit, visible(model, draft.seq))
    if any(to_row(obj) == row for obj in session.scalars(same)):
        raise Conflict(
            "The draft already holds exactly this row.",
            detail_vi="Bản nháp đã có đúng dòng này.",
        )
    if corrected is not None:
        corrected[0].superseded_in = draft.seq
    session.add(from_row(row, draft.seq))
    sub.status = SubmissionStatus.ACCEPTED
    sub.reviewed_by = actor.key_id
    sub.reviewed_at = now()
    sub.review_note = (decision.note or "").strip()
    sub.accepted_in = draft.seq
    sub.source_id = source_id
    session.flush()
    result = {
        "submission": submission_json(session, sub),
        "edition": edition_ref(draft),
        "row": _row_json(sub.target, row),
        "superseded": None if corrected is None else _row_json(sub.target, corrected[1]),
    }
    record(
        session,
        actor,
        "submission.accept",
        f"submission:{sub.id}",
        before={"submission": before},
        after=result,
    )
    return result


def reject(session: Session, actor: Actor, sub_id: int, reason: str) -> dict[str, Any]:
    """Close a pending submission with the reason; the codebook does not change."""
    reason = reason.strip()
    if not reason:
        raise _invalid([_problem("reason", "say why, for the contributor")])
    sub = _pending(session, sub_id)
    before = submission_json(session, sub)
    sub.status = SubmissionStatus.REJECTED
    sub.reviewed_by = actor.key_id
    sub.reviewed_at = now()
    sub.review_note = reason
    session.flush()
    result = {
        "submission": submission_json(session, sub),
        "edition": None,
        "row": None,
        "superseded": None,
    }
    record(
        session,
        actor,
        "submission.reject",
        f"submission:{sub.id}",
        before={"submission": before},
        after=result,
    )
    return result


def dispute(
    session: Session, actor: Actor, ref: RowRef, reason: str, *, today: dt.date | None = None
) -> dict[str, Any]:
    """Mark a row disputed in the draft: a copy that says so replaces it from the draft on."""
    reason = reason.strip()
    if not reason:
        raise _invalid([_problem("reason", "say what is in doubt")])
    draft = draft_for_writing(session)
    obj, row = find_row(session, draft.seq, ref)
    if row.verification == Verification.DISPUTED:
        raise Conflict("The row is disputed already.", detail_vi="Dòng này đã bị nghi vấn rồi.")
    when = (today or dt.date.today()).isoformat()
    note = f"{row.note} " if row.note else ""
    new = dataclasses.replace(
        row, verification=Verification.DISPUTED.value, note=f"{note}[disputed {when}: {reason}]"
    )
    obj.superseded_in = draft.seq
    session.add(from_row(new, draft.seq))
    session.flush()
    result = {
        "edition": edition_ref(draft),
        "table": ref.table,
        "before": _row_json(ref.table, row),
        "after": _row_json(ref.table, new),
    }
    record(
        session,
        actor,
        "row.dispute",
        f"{ref.table}:{ref.unit}",
        before={"row": result["before"]},
        after={"row": result["after"], "edition": edition_ref(draft), "reason": reason},
    )
    return result
