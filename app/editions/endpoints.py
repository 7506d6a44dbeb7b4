"""Editions: list, open, import, publish, retire, export, diff and impact."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from app.auth.deps import WRITE_PROBLEMS, AdminDep
from app.decode.endpoints import PROBLEMS
from app.deps import ContextDep, SessionDep
from app.editions import service
from app.editions.diff import diff_csv, diff_editions
from app.editions.impact import Item, impact
from app.editions.schemas import (
    BundleFilesOut,
    DiffOut,
    EditionCreate,
    EditionDetailOut,
    ImpactIn,
    ImpactOut,
    ImportOut,
)
from app.errors import PayloadTooLarge
from app.schemas import EditionListOut, EditionOut
from codebook.bundle import MAX_BUNDLE_BYTES, bundle_files, bundle_zip

router = APIRouter(prefix="/v1", tags=["editions"])

EDITION = "Edition label or sequence number"
BUNDLE_BODY = {
    "requestBody": {
        "required": True,
        "description": "A bundle: a zip of bundle.toml and the five CSV files, or JSON "
        '{"files": {"units.csv": "…", …}} as GET …/export?format=json gives it.',
        "content": {
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": BundleFilesOut.model_json_schema()},
        },
    }
}


async def _upload(request: Request) -> tuple[str, bytes]:
    """The raw request body (at most MAX_BUNDLE_BYTES) and its media type."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BUNDLE_BYTES:
            raise PayloadTooLarge(
                f"A bundle may be at most {MAX_BUNDLE_BYTES} bytes.",
                detail_vi=f"Gói dữ liệu tối đa {MAX_BUNDLE_BYTES} byte.",
            )
        chunks.append(chunk)
    return request.headers.get("content-type", ""), b"".join(chunks)


@router.get("/editions", response_model=EditionListOut)
def editions(session: SessionDep) -> JSONResponse:
    """Every codebook edition, oldest first: label, status, publication date, checksum."""
    return JSONResponse(
        {"editions": [service.edition_ref(e) for e in service.list_editions(session)]}
    )


@router.post(
    "/editions", response_model=EditionDetailOut, status_code=201, responses=WRITE_PROBLEMS
)
def open_edition(body: EditionCreate, actor: AdminDep, session: SessionDep) -> JSONResponse:
    """Open a draft edition (admin). It starts as a copy of the newest edition and collects
    accepted submissions, disputes and imports until it is published."""
    draft = service.open_draft(session, actor, body.label, body.note)
    return JSONResponse(service.edition_json(session, draft), status_code=201)


@router.get("/editions/{edition}", response_model=EditionDetailOut, responses=PROBLEMS)
def edition_detail(edition: str, session: SessionDep) -> JSONResponse:
    """One edition: status, checksum, note, and how many rows of each kind it holds."""
    return JSONResponse(service.edition_json(session, service.resolve_edition(session, edition)))


@router.post(
    "/editions/{edition}/import",
    response_model=ImportOut,
    responses=WRITE_PROBLEMS,
    openapi_extra=BUNDLE_BODY,
)
def import_bundle(
    edition: str,
    actor: AdminDep,
    session: SessionDep,
    upload: Annotated[tuple[str, bytes], Depends(_upload)],
) -> JSONResponse:
    """Make a draft's content equal to a bundle (admin). Everything is checked first and every
    problem reported with file, line and column; on any problem nothing is written. Importing
    the same content again changes nothing."""
    content_type, data = upload
    return JSONResponse(service.import_upload(session, actor, edition, content_type, data))


@router.post(
    "/editions/{edition}/publish", response_model=EditionDetailOut, responses=WRITE_PROBLEMS
)
def publish_edition(edition: str, actor: AdminDep, session: SessionDep) -> JSONResponse:
    """Publish a draft (admin): checked, checksummed, dated; from then on it never changes."""
    published = service.publish(session, actor, edition)
    return JSONResponse(service.edition_json(session, published))


@router.post("/editions/{edition}/retire", response_model=EditionOut, responses=WRITE_PROBLEMS)
def retire_edition(edition: str, actor: AdminDep, session: SessionDep) -> JSONResponse:
    """Retire a published edition (admin): still readable by name, no longer the default."""
    return JSONResponse(service.edition_ref(service.retire(session, actor, edition)))


@router.get(
    "/editions/{edition}/export",
    responses={
        **PROBLEMS,
        200: {
            "description": "The bundle: a zip (default) or JSON with format=json",
            "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": BundleFilesOut.model_json_schema()},
            },
        },
    },
)
def export_edition(
    edition: str,
    session: SessionDep,
    format: Literal["zip", "json"] = Query(default="zip"),
) -> Response:
    """An edition's full content in the bundle format that import reads."""
    chosen, bundle = service.export(session, edition)
    headers = {"X-Phienhieu-Edition": chosen.label}
    if format == "json":
        body = {"edition": service.edition_ref(chosen), "files": bundle_files(bundle)}
        return JSONResponse(body, headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="phienhieu-{chosen.label}.zip"'
    return Response(bundle_zip(bundle), media_type="application/zip", headers=headers)


@router.get(
    "/editions/{a}/diff/{b}",
    response_model=DiffOut,
    responses={
        **PROBLEMS,
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    },
)
def diff(
    a: str,
    b: str,
    session: SessionDep,
    format: Literal["json", "csv"] = Query(default="json"),
) -> Response:
    """Units, assignments, parent links, areas and sources added, removed and changed from
    edition a to edition b, as JSON or CSV."""
    result = diff_editions(
        session, service.resolve_edition(session, a), service.resolve_edition(session, b)
    )
    if format == "csv":
        return Response(diff_csv(result), media_type="text/csv; charset=utf-8")
    return JSONResponse(result)


@router.post("/editions/{a}/impact/{b}", response_model=ImpactOut, responses=PROBLEMS)
def impact_route(
    a: str, b: str, body: ImpactIn, context: ContextDep, session: SessionDep
) -> JSONResponse:
    """Which of your designations (with dates) decode differently under b than under a, and
    how: "does the new edition change my list?" Reading only: no key needed."""
    items = [Item(i.text, i.date, i.id) for i in body.items]
    return JSONResponse(impact(context, session, a, b, items))
