"""Links in answers: absolute, with the edition pinned so that a link reproduces what it showed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Final
from urllib.parse import quote, urlencode

from app.db.models import Edition

_PLAIN: Final = re.compile(r"[A-Za-z0-9._~-]+")  # ids as the codebook writes them


@lru_cache(maxsize=64)
def _pinned(label: str) -> str:
    return urlencode({"edition": label})


def unit_url(base: str, unit_id: str, edition: Edition) -> str:
    """The unit's page (GET /v1/units/{id}) in this edition; made for every row, so kept cheap."""
    path = unit_id if _PLAIN.fullmatch(unit_id) else quote(unit_id, safe="")
    return f"{base}/v1/units/{path}?{_pinned(edition.label)}"


def unit_urls(base: str, edition: Edition) -> Callable[[str], str]:
    """unit_url for the many units of one answer, with what they share worked out once."""
    prefix, suffix, plain = f"{base}/v1/units/", f"?{_pinned(edition.label)}", _PLAIN.fullmatch

    def url(unit_id: str) -> str:
        return prefix + (unit_id if plain(unit_id) else quote(unit_id, safe="")) + suffix

    return url


def listing_url(base: str, path: str, params: Iterable[tuple[str, str]], edition: Edition) -> str:
    pinned = [(k, v) for k, v in params if k != "edition"] + [("edition", edition.label)]
    return f"{base}{quote(path)}?{urlencode(pinned)}"
