"""GET /v1/audit (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.audit.schemas import AuditPageOut
from app.audit.service import MAX_PAGE, audit_page
from app.auth.deps import WRITE_PROBLEMS, AdminDep
from app.deps import SessionDep

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get("/audit", response_model=AuditPageOut, responses=WRITE_PROBLEMS)
def audit(
    actor: AdminDep,
    session: SessionDep,
    after: int = Query(default=0, ge=0, description="Only events after this id (paging)"),
    limit: int = Query(default=100, ge=1, le=MAX_PAGE),
    action: str | None = Query(default=None, description="e.g. edition.publish"),
    by: str | None = Query(default=None, description="Only events by this actor name"),
    target: str | None = Query(default=None, description="e.g. submission:12, edition:2026.2"),
) -> JSONResponse:
    """Every write, oldest first: who, when, what, and the state before and after."""
    return JSONResponse(
        audit_page(session, after=after, limit=limit, action=action, actor=by, target=target)
    )
