"""The lookup page's routes: /, /units/{id}, /search, /batch, the language switch, static files.

Every form is a GET (except the upload), so its URL is a permalink and it works
without JavaScript. Errors below these routes become the HTML error page
(app/problems.py answers HTML everywhere but /v1/* and /healthz).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Final
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from app.batch.service import MAX_FILE_BYTES
from app.deps import ContextDep, SessionDep
from app.web import service
from app.web.i18n import COOKIE, LANGS
from app.web.render import render

router = APIRouter(include_in_schema=False)

STATIC_DIR: Final = Path(__file__).parent / "static"
STATIC_NAME: Final = re.compile(r"[a-z0-9-]+\.(?:css|js|svg)")
ONE_YEAR: Final = 365 * 24 * 3600

Text = Annotated[str | None, Query()]
BATCH_FIELDS: Final = ("edition", "column", "date_column")


@router.get("/", response_class=HTMLResponse)
def decode_page(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    text: Text = None,
    date: Text = None,
    edition: Text = None,
) -> HTMLResponse:
    """The decode form; with `text`, the answer for `date` against `edition`."""
    page = service.decode_page(context, session, text, date, edition)
    return render(request, "decode.html", page.context, page.status)


@router.get("/units/{unit_id}", response_class=HTMLResponse)
def unit_page(
    request: Request, unit_id: str, context: ContextDep, session: SessionDep, edition: Text = None
) -> HTMLResponse:
    """A unit's names, codes, parents and areas on a timeline, with sources."""
    page = service.unit_page(context, session, unit_id, edition)
    return render(request, "unit.html", page.context, page.status)


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    q: Text = None,
    echelon: Text = None,
    period: Text = None,
    fuzzy: Text = None,
    edition: Text = None,
    next_: Annotated[str | None, Query(alias="next")] = None,
) -> HTMLResponse:
    """Find units by name or code, without diacritics, filtered by echelon and period."""
    form = service.SearchForm(q, echelon, period, fuzzy, edition, next_)
    page = service.search_page(context, session, form)
    return render(request, "search.html", page.context, page.status)


@router.get("/batch", response_class=HTMLResponse)
def batch_page(request: Request, session: SessionDep) -> HTMLResponse:
    """Upload a CSV or XLSX list of designations and download it decoded."""
    page = service.batch_page(session)
    return render(request, "batch.html", page.context, page.status)


@router.post("/batch", response_model=None)
async def batch_upload(request: Request, context: ContextDep, session: SessionDep) -> Response:
    """Decode the uploaded list and send it back as a download (or the form, saying why not)."""
    async with request.form(max_files=1, max_fields=len(BATCH_FIELDS) + 1) as form:
        fields = {k: v for k in BATCH_FIELDS if isinstance(v := form.get(k), str)}
        upload = form.get("file")
        filename: str | None = None
        content: bytes | None = b""
        if isinstance(upload, UploadFile) and upload.filename:
            filename = upload.filename
            # The parser spooled the file to disk; refuse a huge one before reading it in.
            if (upload.size or 0) <= MAX_FILE_BYTES:
                content = await upload.read()
            else:
                content = None
    result = await run_in_threadpool(
        service.batch_upload, context, session, filename, content, fields
    )
    if isinstance(result, service.Page):
        return render(request, "batch.html", result.context, result.status)
    return Response(
        result.content,
        media_type=result.media_type,
        headers={"Content-Disposition": _attachment(result.filename)},
    )


def _attachment(filename: str) -> str:
    """A download header that survives a Vietnamese file name (RFC 6266 / 5987)."""
    fallback = "".join(c if c.isascii() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get("/lang/{code}")
def switch_language(code: str, next_: Annotated[str, Query(alias="next")] = "/") -> Response:
    """Remember the chosen language in a cookie and go back to the page."""
    if code not in LANGS:
        raise HTTPException(404)
    # Only a path on this site: "//host" or "/\\host" would send the person elsewhere.
    target = next_ if next_.startswith("/") and not next_.startswith(("//", "/\\")) else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, code, max_age=ONE_YEAR, samesite="lax", httponly=True)
    return response


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    """The page's own CSS, script and icon; nothing is loaded from elsewhere."""
    path = STATIC_DIR / name
    if not STATIC_NAME.fullmatch(name) or not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})
