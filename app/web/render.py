"""HTML responses: the Jinja2 environment (built on first use), the language, the error page."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import cache, partial
from typing import Any, Final
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app.web import present
from app.web.i18n import COOKIE, LANGS, has, pick_lang, translate

log = logging.getLogger("phienhieu")

# The page loads nothing from elsewhere (it must work offline on a LAN); the browser is told so.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # A family's query stays on this server when they follow a source link.
    "Referrer-Policy": "no-referrer",
}


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("app.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,  # a misspelt variable fails the tests, not the page silently
        trim_blocks=True,
        lstrip_blocks=True,
    )


def language(request: Request) -> str:
    return pick_lang(request.cookies.get(COOKIE))


def here(request: Request) -> str:
    """The current path and query, for the language switch to come back to."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _helpers(lang: str) -> dict[str, Callable[..., Any]]:
    return {
        "t": partial(translate, lang),
        "has": has,
        "period": partial(present.period, lang=lang),
        "date_meaning": partial(present.date_meaning, lang=lang),
        "score": partial(present.score, lang=lang),
        "chain_names": present.chain_names,
        "quote": partial(quote, safe=""),
    }


def render(
    request: Request, template: str, context: Mapping[str, Any], status: int = 200
) -> HTMLResponse:
    lang = language(request)
    html = (
        environment()
        .get_template(template)
        .render(
            lang=lang,
            other_langs=[code for code in LANGS if code != lang],
            here=here(request),
            path=request.url.path,
            **_helpers(lang),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def error_page(request: Request, status: int, detail_en: str, detail_vi: str) -> HTMLResponse:
    """The friendly page every non-API error becomes; never a stack trace."""
    lang = language(request)
    try:
        return render(
            request,
            "error.html",
            {"status": status, "detail": detail_vi if lang == "vi" else detail_en},
            status,
        )
    except Exception:  # the error page itself must not fail; fall back to plain words
        log.exception("error page failed on %s", request.url.path)
        text = detail_vi if lang == "vi" else detail_en
        return HTMLResponse(
            f"<!doctype html><html lang='{lang}'><meta charset='utf-8'><title>{status}</title>"
            f"<p>{_escape(text)}</p><p><a href='/'>phienhieu</a></p></html>",
            status_code=status,
            headers=SECURITY_HEADERS,
        )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
