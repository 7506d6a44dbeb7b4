"""POST /v1/decode/batch and POST /v1/decode/file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import Field, StrictInt, StrictStr

from app.batch import service
from app.batch.service import MAX_BATCH_ITEMS, MAX_FILE_BYTES, BatchItem, View
from app.decode.endpoints import PROBLEMS, _problem
from app.deps import ContextDep, SessionDep
from app.schemas import Strict

router = APIRouter(prefix="/v1/decode", tags=["batch"])
NDJSON = "application/x-ndjson"
LINES_PER_CHUNK = 256  # NDJSON lines sent together: one thread hop per chunk, not per line


class BatchRequest(Strict):
    items: list[Any] = Field(
        description=f"At most {MAX_BATCH_ITEMS} items, each "
        '{"id": string or integer (optional), "text": string, "date": string (optional)}. '
        "An item that is not of that shape gets its own error result.",
        json_schema_extra={"items": BatchItem.model_json_schema()},
        examples=[[{"id": "LS-001", "text": "C9, D6, E270", "date": "1970"}]],
    )
    edition: StrictStr | StrictInt | None = Field(
        default=None,
        description="Codebook edition label or sequence number; default the latest published.",
    )
    view: View = Field(
        default="summary",
        description='"summary" (default): per item what a decoded list\'s columns hold — '
        "status, the best candidate's unit and chain (`{id, name, echelon}`, smallest first), "
        "its score, the other candidates' units with their scores, and the warnings' codes. "
        '"full": per item the whole answer of POST /v1/decode (readings, periods, reasons, '
        "sources; ~13 KiB an item).",
    )


BATCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Results in input order: each the item's `id` and `index` with its "
        'answer (the "summary" view by default, or the whole answer of POST /v1/decode with '
        '`"view": "full"`), or `{id, index, error}` (an RFC 9457 problem) for a bad item. '
        f"JSON `{{edition, results}}`; with `Accept: {NDJSON}`, one result per line. The "
        "answering edition's label is also in the `X-Phienhieu-Edition` header.",
        "content": {NDJSON: {"schema": {"type": "string"}}},
    },
    413: _problem(f"More than {MAX_BATCH_ITEMS} items (RFC 9457 problem)."),
    **PROBLEMS,
}


def _ndjson(lines: Iterator[bytes]) -> Iterator[bytes]:
    chunk: list[bytes] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= LINES_PER_CHUNK:
            yield b"\n".join(chunk) + b"\n"
            chunk = []
    if chunk:
        yield b"\n".join(chunk) + b"\n"


@router.post("/batch", responses=BATCH_RESPONSES)
def decode_batch(body: BatchRequest, request: Request, context: ContextDep) -> Response:
    """Decode up to 10,000 designations in one request; results in input order with their ids."""
    edition, lines = service.decode_batch(context, body.items, body.edition, body.view)
    headers = {"X-Phienhieu-Edition": quote(str(edition["label"]))}
    if NDJSON in request.headers.get("accept", ""):
        return StreamingResponse(_ndjson(lines), media_type=NDJSON, headers=headers)
    head = b'{"edition":' + json.dumps(edition, ensure_ascii=False).encode() + b',"results":['
    return Response(head + b",".join(lines) + b"]}", media_type="application/json", headers=headers)


FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The same kind of file with every original column kept and the decode "
        "columns added; the counts per status in the `X-Phienhieu-Summary` header (JSON).",
        "content": {media: {} for media in service.MEDIA_TYPES.values()},
    },
    413: _problem(f"The file is larger than {MAX_FILE_BYTES} bytes (RFC 9457 problem)."),
    **PROBLEMS,
}


@router.post("/file", responses=FILE_RESPONSES)
async def decode_file(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    column: Annotated[
        str | None, Query(description="Designation column: header text or 1-based number.")
    ] = None,
    date_column: Annotated[
        str | None, Query(description="Date-of-death column: header text or 1-based number.")
    ] = None,
    edition: Annotated[str | None, Query(description="Edition label or number.")] = None,
    filename: Annotated[str | None, Query(description="The file's name, for the answer's.")] = None,
) -> Response:
    """Decode a martyr list sent as the body (CSV or XLSX); get the same file with columns added.

    Columns are found from common Vietnamese headers ("Đơn vị", "Đơn vị khi hy sinh",
    "Ngày hy sinh", …) unless named.
    """
    content = await service.read_limited(request.stream(), MAX_FILE_BYTES)
    decoded = await service.run_blocking(
        service.decode_file,
        context,
        session,
        filename or "danh-sach",
        content,
        edition=edition,
        column=column,
        date_column=date_column,
    )
    summary = json.dumps(decoded.summary.to_json(), ensure_ascii=True)
    return Response(
        decoded.content,
        media_type=decoded.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(decoded.filename)}",
            "X-Phienhieu-Summary": summary,
        },
    )
