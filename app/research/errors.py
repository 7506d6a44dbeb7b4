"""Errors of researchers' queries (turned into problem+json by app/problems.py like all others)."""

from __future__ import annotations

from app.errors import PhienhieuError


class InvalidQuery(PhienhieuError):
    """A filter, sort, facet, page token or search text that cannot be used."""

    status = 422
    slug = "invalid-query"
    title = "Query not understood"


class TheaterNotFound(PhienhieuError):
    status = 404
    slug = "theater-not-found"
    title = "Theatre not found"
