"""The one place errors become responses: RFC 9457 problem+json on the API (/v1/*, /healthz),
and a friendly HTML page (app/web/render.py) everywhere else, where people are."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import PhienhieuError
from app.web.i18n import translate
from app.web.render import error_page

PROBLEM_TYPE_BASE = "https://phienhieu.invalid/problems/"
log = logging.getLogger("phienhieu")


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str,
    detail_vi: str | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "detail_vi": detail_vi or detail,
        "instance": instance,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def is_api(request: Request) -> bool:
    """API clients get problem+json; every other path is a page a person is looking at."""
    path = request.url.path
    return path in ("/v1", "/healthz") or path.startswith("/v1/")


def _page(request: Request, status: int, key: str) -> Response:
    """The HTML error page with one of the page's own bilingual messages."""
    return error_page(request, status, translate("en", key), translate("vi", key))


def install(app: FastAPI) -> None:
    @app.exception_handler(PhienhieuError)
    async def domain_error(request: Request, exc: PhienhieuError) -> Response:
        if not is_api(request):
            return error_page(request, exc.status, exc.detail, exc.detail_vi)
        response = problem(
            exc.status,
            exc.slug,
            exc.title,
            exc.detail,
            request.url.path,
            exc.detail_vi,
            **exc.extra,
        )
        response.headers.update(getattr(exc, "headers", {}))  # e.g. WWW-Authenticate on 401
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if not is_api(request):
            return _page(request, 422, "error.bad_params")
        errors = [
            {"location": list(map(str, e.get("loc", ()))), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        return problem(
            422,
            "invalid-request",
            "Invalid request",
            "The request does not match the API: "
            + "; ".join(f"{'.'.join(e['location'])}: {e['message']}" for e in errors),
            request.url.path,
            "Yêu cầu không đúng định dạng của API.",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_api(request):
            key = {404: "error.page_not_found", 405: "error.method"}.get(
                exc.status_code, "error.bad_params"
            )
            return _page(request, exc.status_code, key)
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        return problem(
            exc.status_code,
            slug,
            str(exc.detail),
            f"{request.method} {request.url.path}: {exc.detail}",
            request.url.path,
            {
                400: "Yêu cầu không hợp lệ.",
                404: "Không tìm thấy.",
                405: "Phương thức không được hỗ trợ.",
            }.get(exc.status_code),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        if not is_api(request):
            return _page(request, 500, "error.internal")
        return problem(
            500,
            "internal-error",
            "Internal error",
            "Something went wrong on our side; it has been logged. Nothing was changed.",
            request.url.path,
            "Có lỗi phía máy chủ; lỗi đã được ghi lại. Không có gì bị thay đổi.",
        )
