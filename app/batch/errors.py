"""Errors of batch decoding, turned into problem+json and CLI messages like every other."""

from __future__ import annotations

from app.errors import PhienhieuError


class BatchTooLarge(PhienhieuError):
    status = 413
    slug = "batch-too-large"
    title = "Too many items in one batch"


class TableUnreadable(PhienhieuError):
    """The file is empty, not CSV/XLSX, or malformed; `extra` may name the line."""

    status = 422
    slug = "table-unreadable"
    title = "The file cannot be read as a list"


class NoDesignationColumn(PhienhieuError):
    status = 422
    slug = "no-designation-column"
    title = "No designation column found"


class BatchWorkerFailed(PhienhieuError):
    """A worker process of a large list stopped (killed, out of memory) or failed oddly."""

    status = 500
    slug = "batch-worker-failed"
    title = "A batch worker process failed"
