"""Editions: which one answers a request, and the list of them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Edition, EditionStatus
from app.errors import EditionNotFound, NoPublishedEdition

MAX_SEQ = 2**31 - 1  # the edition number column is a 32-bit integer on PostgreSQL


def list_editions(session: Session) -> Sequence[Edition]:
    return session.scalars(select(Edition).order_by(Edition.seq)).all()


def resolve_edition(session: Session, ref: str | int | None) -> Edition:
    """The edition named by label or sequence number; None means the latest published one."""
    if ref is None or ref == "":
        latest = session.scalars(
            select(Edition)
            .where(Edition.status == EditionStatus.PUBLISHED)
            .order_by(Edition.seq.desc())
            .limit(1)
        ).first()
        if latest is None:
            raise NoPublishedEdition(
                "No codebook edition has been published yet.",
                detail_vi="Chưa có ấn bản bộ mã nào được công bố.",
            )
        return latest
    text = str(ref).strip()
    edition = None
    if text.isascii() and text.isdigit() and int(text) <= MAX_SEQ:
        edition = session.get(Edition, int(text))
    if edition is None and "\x00" not in text:  # PostgreSQL refuses NUL in text
        edition = session.scalars(select(Edition).where(Edition.label == text)).first()
    if edition is None:
        raise EditionNotFound(
            f"There is no edition {text!r}; see GET /v1/editions.",
            detail_vi=f"Không có ấn bản {text!r}; xem GET /v1/editions.",
        )
    return edition


def edition_ref(edition: Edition) -> dict[str, object]:
    """How every answer names the edition that produced it."""
    return {
        "seq": edition.seq,
        "label": edition.label,
        "status": edition.status,
        "published_on": edition.published_on.isoformat() if edition.published_on else None,
        "checksum": edition.checksum,
    }
