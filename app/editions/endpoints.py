"""GET /v1/editions."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.deps import SessionDep
from app.editions.service import edition_ref, list_editions
from app.schemas import EditionListOut

router = APIRouter(prefix="/v1", tags=["editions"])


@router.get("/editions", response_model=EditionListOut)
def editions(session: SessionDep) -> JSONResponse:
    """Every codebook edition, oldest first: label, status, publication date, checksum."""
    return JSONResponse({"editions": [edition_ref(e) for e in list_editions(session)]})
