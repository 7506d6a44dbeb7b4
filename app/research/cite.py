"""How an answer is cited: the codebook edition, what was asked, and when it was retrieved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import quote, urlencode

from app.db.models import Edition


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def request_line(path: str, params: Iterable[tuple[str, str]], edition: Edition) -> str:
    """The request that reproduces an answer: its path and query, with the edition pinned."""
    pinned = [(k, v) for k, v in params if k != "edition"] + [("edition", edition.label)]
    return f"GET {quote(path)}?{urlencode(pinned)}"


def _published(edition: Edition) -> tuple[str, str]:
    if edition.published_on is None:
        return "bản nháp, chưa công bố", "draft, not published"
    day = edition.published_on.isoformat()
    return f"công bố {day}", f"published {day}"


def cite(edition: Edition, what: str, on: dt.date | None = None) -> str:
    """The citation of an answer (Vietnamese first, English second)."""
    vi, en = _published(edition)
    checksum = f", sha256 {edition.checksum[:12]}" if edition.checksum else ""
    return (
        f'phienhieu, bộ mã / codebook "{edition.label}" (ấn bản / edition #{edition.seq}, '
        f"{vi} / {en}{checksum}): {what}; truy cập / retrieved {(on or today()).isoformat()}."
    )


def cite_ascii(edition: Edition, what: str, on: dt.date | None = None) -> str:
    """The citation in English and ASCII only, for an HTTP header."""
    _, en = _published(edition)
    checksum = f", sha256 {edition.checksum[:12]}" if edition.checksum else ""
    label = quote(edition.label, safe=" -._~+()")
    return (
        f'phienhieu codebook "{label}" (edition #{edition.seq}, {en}{checksum}): {what}; '
        f"retrieved {(on or today()).isoformat()}."
    )
