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

from app.deps import ContextDep, SessionDep
from app.web import batch, service
from app.web.i18n import COOKIE, LANGS
from app.web.render import render

router = APIRouter(include_in_schema=False)

STATIC_DIR: Final = Path(__file__).parent / "static"
STATIC_NAME: Final = re.compile(r"[a-z0-9-]+\.(?:css|js|svg)")
ONE_YEAR: Final = 365 * 24 * 3600

Text = Annotated[str | None, Query()]


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
    session: SessionDep,
    q: Text = None,
    echelon: Text = None,
    period: Text = None,
    edition: Text = None,
) -> HTMLResponse:
    """Find units by name or code, without diacritics, filtered by echelon and period."""
    page = service.search_page(session, q, echelon, period, edition)
    return render(request, "search.html", page.context, page.status)


@router.get("/batch", response_class=HTMLResponse)
def batch_page(request: Request) -> HTMLResponse:
    """Upload a list to decode (or word that batch decoding has not landed yet)."""
    page = service.batch_page()
    return render(request, "batch.html", page.context, page.status)


@router.post("/batch", response_model=None)
async def batch_upload(
    request: Request, context: ContextDep, session: SessionDep
) -> HTMLResponse | Response:
    """Decode the uploaded list and send it back as a download."""
    if not batch.available():
        page = service.batch_page()
        return render(request, "batch.html", page.context, 503)
    form = await request.form(max_files=1, max_fields=4, max_part_size=batch.MAX_UPLOAD_BYTES)
    upload = form.get("file")
    edition = form.get("edition")
    if not isinstance(upload, UploadFile) or not upload.filename:
        page = service.batch_page(service.FormError.key(422, "batch.no_file"))
        return render(request, "batch.html", page.context, page.status)
    content = await upload.read()
    decoded = await run_in_threadpool(
        batch.decode_upload,
        context,
        session,
        upload.filename,
        content,
        edition if isinstance(edition, str) and edition else None,
    )
    return Response(
        decoded.content,
        media_type=decoded.media_type,
        headers={"Content-Disposition": _attachment(decoded.filename)},
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
