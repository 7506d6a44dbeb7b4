"""Domain errors. Raised below the router; turned into RFC 9457 problem+json in one place."""

from __future__ import annotations

from typing import Any, ClassVar


class PhienhieuError(Exception):
    """Base of every error a user may see. Carries a bilingual, stack-free explanation."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        detail_vi: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.detail_vi = detail_vi or detail
        self.extra = extra or {}


class InputTooLong(PhienhieuError):
    status = 422
    slug = "input-too-long"
    title = "Input too long"


class InvalidText(PhienhieuError):
    status = 422
    slug = "invalid-text"
    title = "Text is not valid Unicode"


class DatabaseNotReady(PhienhieuError):
    status = 503
    slug = "database-not-ready"
    title = "Database not ready"


class InvalidDate(PhienhieuError):
    status = 422
    slug = "invalid-date"
    title = "Date not understood"


class EditionNotFound(PhienhieuError):
    status = 404
    slug = "edition-not-found"
    title = "Edition not found"


class UnitNotFound(PhienhieuError):
    status = 404
    slug = "unit-not-found"
    title = "Unit not found"


class NoPublishedEdition(PhienhieuError):
    status = 503
    slug = "no-published-edition"
    title = "No published codebook edition"


class BundleInvalid(PhienhieuError):
    """A codebook bundle failed validation; `extra["problems"]` lists every problem."""

    status = 422
    slug = "bundle-invalid"
    title = "Codebook bundle is invalid"


# --- Curation, keys and editions (issue 4) ---------------------------------------------------


class NotAuthenticated(PhienhieuError):
    """No API key, or one that is unknown or revoked."""

    status = 401
    slug = "not-authenticated"
    title = "API key missing or not valid"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="phienhieu"'}


class Forbidden(PhienhieuError):
    status = 403
    slug = "forbidden"
    title = "The key's role does not allow this"


class Conflict(PhienhieuError):
    """The request does not fit the current state (a draft is open, a row is already disputed …)."""

    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class NotFound(PhienhieuError):
    """A submission, key or codebook row that does not exist."""

    status = 404
    slug = "not-found"
    title = "Not found"


class SubmissionInvalid(PhienhieuError):
    """A proposal or its evidence failed validation; `extra["problems"]` lists every problem."""

    status = 422
    slug = "submission-invalid"
    title = "Submission is not valid"


class PayloadTooLarge(PhienhieuError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(PhienhieuError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"
