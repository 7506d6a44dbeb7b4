"""POST /v1/parse and POST /v1/decode."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
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


# POST /v1/decode reads its body itself: the same model and the same problems as FastAPI's
# body handling, validated from the bytes in one pass (Pydantic's JSON mode), without the
# dependency machinery that cost a fifth of a remembered answer's time.
DECODE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": DecodeRequest.model_json_schema()}},
    }
}


async def _decode_request(request: Request) -> DecodeRequest:
    raw = await request.body()
    try:
        return DecodeRequest.model_validate_json(raw)
    except ValidationError:
        pass  # a bad body goes FastAPI's own way below, for the very same answers
    if not raw:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", exc.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": exc.msg},
                }
            ]
        ) from None
    except ValueError:  # not UTF-8 at all
        raise HTTPException(400, "There was an error parsing the body") from None
    try:
        return DecodeRequest.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


@router.post("/decode", response_model=DecodeOut, responses=PROBLEMS, openapi_extra=DECODE_BODY)
async def decode(request: Request) -> Response:
    """Decode a designation for a date of death: ranked candidate units with their chains."""
    body = await _decode_request(request)
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
