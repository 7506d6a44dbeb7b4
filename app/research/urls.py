"""Links in answers: absolute, with the edition pinned so that a link reproduces what it showed."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, urlencode

from app.db.models import Edition


def unit_url(base: str, unit_id: str, edition: Edition) -> str:
    return f"{base}/v1/units/{quote(unit_id, safe='')}?{urlencode({'edition': edition.label})}"


def listing_url(base: str, path: str, params: Iterable[tuple[str, str]], edition: Edition) -> str:
    pinned = [(k, v) for k, v in params if k != "edition"] + [("edition", edition.label)]
    return f"{base}{quote(path)}?{urlencode(pinned)}"
