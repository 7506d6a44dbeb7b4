"""POST /v1/parse and POST /v1/decode."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.decode import service
from app.deps import ContextDep, SessionDep
from app.schemas import DecodeOut, DecodeRequest, ParseOut, ParseRequest, ProblemOut

router = APIRouter(prefix="/v1", tags=["decode"])
PROBLEMS: dict[int | str, dict[str, object]] = {
    422: {"model": ProblemOut, "content": {"application/problem+json": {}}},
    404: {"model": ProblemOut, "content": {"application/problem+json": {}}},
}


@router.post("/parse", response_model=ParseOut, responses=PROBLEMS)
def parse(body: ParseRequest) -> JSONResponse:
    """Split a designation into its parts (units, theatres, codes, mailboxes), with spans."""
    return JSONResponse(service.parse_text(body.text).to_json())


@router.post("/decode", response_model=DecodeOut, responses=PROBLEMS)
def decode(body: DecodeRequest, context: ContextDep, session: SessionDep) -> JSONResponse:
    """Decode a designation for a date of death: ranked candidate units with their chains."""
    return JSONResponse(service.decode(context, session, body.text, body.date, body.edition))
