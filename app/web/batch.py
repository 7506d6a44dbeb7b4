"""The /batch page's link to the batch decoding engine of issue 5 (`app.batch`).

Issue 5 is being built in parallel. Until `app.batch.service` exists the page
says so and offers no upload. When it lands, `decode_upload` is the one place
to wire: call the engine's entry point there and return a `DecodedFile`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Final

from sqlalchemy.orm import Session

from app.context import Context
from app.errors import PhienhieuError

ENGINE_MODULE: Final = "app.batch.service"
MAX_UPLOAD_BYTES: Final = 5 * 1024 * 1024  # "a small list": a few thousand rows


class BatchUnavailable(PhienhieuError):
    status = 503
    slug = "batch-unavailable"
    title = "Batch decoding is not available yet"


@dataclass(frozen=True, slots=True)
class DecodedFile:
    filename: str
    media_type: str
    content: bytes


def engine() -> ModuleType | None:
    """Issue 5's batch service, or None while it has not landed."""
    try:
        return importlib.import_module(ENGINE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name in ("app.batch", ENGINE_MODULE):
            return None
        raise  # the engine exists but is broken: that is an error, not "not yet"


def available() -> bool:
    return engine() is not None


def decode_upload(
    context: Context, session: Session, filename: str, content: bytes, edition: str | None
) -> DecodedFile:
    """Decode an uploaded CSV/XLSX list with the batch engine."""
    module = engine()
    if module is None:
        raise BatchUnavailable(
            "Batch decoding is still being built.",
            detail_vi="Chức năng giải mã theo danh sách đang được xây dựng.",
        )
    # WIRING POINT (issue 5): adapt this call to the engine's real entry point.
    decoded = module.decode_file(context, session, filename, content, edition=edition)
    return DecodedFile(str(decoded.filename), str(decoded.media_type), bytes(decoded.content))
