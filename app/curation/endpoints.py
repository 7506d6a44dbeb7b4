"""Submissions (contributor), reviews and disputes (reviewer), and reading them (public)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.auth.deps import WRITE_PROBLEMS, ContributorDep, ReviewerDep
from app.curation import service
from app.curation.schemas import (
    AcceptIn,
    DisputeIn,
    DisputeOut,
    RejectIn,
    ReviewOut,
    SubmissionIn,
    SubmissionListOut,
    SubmissionOut,
)
from app.decode.endpoints import PROBLEMS
from app.deps import SessionDep

router = APIRouter(prefix="/v1", tags=["curation"])


@router.post(
    "/submissions", response_model=SubmissionOut, status_code=201, responses=WRITE_PROBLEMS
)
def submit(body: SubmissionIn, actor: ContributorDep, session: SessionDep) -> JSONResponse:
    """Propose an assignment or parent link with its evidence (contributor). It is checked
    now, and waits for a reviewer."""
    submission = service.submit(session, actor, body)
    return JSONResponse(service.submission_json(session, submission), status_code=201)


@router.get("/submissions", response_model=SubmissionListOut, responses=PROBLEMS)
def submissions(
    session: SessionDep,
    status: Literal["pending", "accepted", "rejected"] | None = Query(default=None),
    after: int = Query(default=0, ge=0, description="Only submissions after this id (paging)"),
    limit: int = Query(default=50, ge=1, le=service.MAX_PAGE),
) -> JSONResponse:
    """Submissions, oldest first, with their evidence and review."""
    return JSONResponse(service.list_submissions(session, status=status, after=after, limit=limit))


@router.get("/submissions/{submission_id}", response_model=SubmissionOut, responses=PROBLEMS)
def submission(submission_id: int, session: SessionDep) -> JSONResponse:
    """One submission with its evidence and review."""
    return JSONResponse(
        service.submission_json(session, service.get_submission(session, submission_id))
    )


@router.post(
    "/submissions/{submission_id}/accept", response_model=ReviewOut, responses=WRITE_PROBLEMS
)
def accept(
    submission_id: int, body: AcceptIn, actor: ReviewerDep, session: SessionDep
) -> JSONResponse:
    """Accept a submission into the open draft (reviewer; not your own). A correction
    supersedes the row it corrects from the draft on; published editions do not change."""
    return JSONResponse(service.accept(session, actor, submission_id, body))


@router.post(
    "/submissions/{submission_id}/reject", response_model=ReviewOut, responses=WRITE_PROBLEMS
)
def reject(
    submission_id: int, body: RejectIn, actor: ReviewerDep, session: SessionDep
) -> JSONResponse:
    """Reject a submission with the reason (reviewer)."""
    return JSONResponse(service.reject(session, actor, submission_id, body.reason))


@router.post("/disputes", response_model=DisputeOut, responses=WRITE_PROBLEMS)
def dispute(body: DisputeIn, actor: ReviewerDep, session: SessionDep) -> JSONResponse:
    """Mark a row disputed in the open draft (reviewer): a copy marked disputed, with the
    reason in its note, replaces it from the draft on. Decoding then weighs it at half."""
    return JSONResponse(service.dispute(session, actor, body.row, body.reason))
