"""POST /v1/parse and POST /v1/decode."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app.context import Context
from app.decode import service
from app.schemas import DecodeOut, DecodeRequest, ParseOut, ParseRequest, ProblemOut

router = APIRouter(prefix="/v1", tags=["decode"])


def _problem(description: str) -> dict[str, object]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": ProblemOut.model_json_schema()}},
    }


PROBLEMS: dict[int | str, dict[str, object]] = {
    404: _problem("The edition or unit does not exist (RFC 9457 problem)."),
    422: _problem("The request, text or date is not valid (RFC 9457 problem)."),
    503: _problem("No published edition, or the database is not ready (RFC 9457 problem)."),
}


@router.post("/parse", response_model=ParseOut, responses=PROBLEMS)
def parse(body: ParseRequest) -> JSONResponse:
    """Split a designation into its parts (units, theatres, codes, mailboxes), with spans."""
    return JSONResponse(service.parse_text(body.text).to_json())


@router.post("/decode", response_model=DecodeOut, responses=PROBLEMS)
async def decode(body: DecodeRequest, request: Request) -> Response:
    """Decode a designation for a date of death: ranked candidate units with their chains."""
    # The context straight from the app: a sync dependency would cost every request a trip
    # through the thread pool, most of the time of a remembered answer.
    context: Context = request.app.state.context
    # A remembered answer is served on the event loop; anything needing the database runs in
    # the thread pool.
    answer = service.quick_answer(context, body.text, body.date, body.edition)
    if answer is None:
        answer = await run_in_threadpool(
            service.answer, context, body.text, body.date, body.edition
        )
    return Response(answer, media_type="application/json")
