"""Editions: which one answers a request, and the list of them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.service import record
from app.auth.actor import Actor
from app.db.models import (
    Area,
    Assignment,
    Edition,
    EditionStatus,
    ParentLink,
    Source,
    UnitRevision,
)
from app.errors import (
    BundleInvalid,
    Conflict,
    EditionNotFound,
    NoPublishedEdition,
    SubmissionInvalid,
    UnsupportedMediaType,
)
from codebook.bundle import (
    Bundle,
    bundle_from_json,
    bundle_from_zip,
    check_bundle,
    label_problem,
)
from codebook.store import (
    ImportOutcome,
    edition_bundle,
    import_into_draft,
    latest_edition,
    load_bundle,
    publish_edition,
    visible,
)

MAX_SEQ = 2**31 - 1  # the edition number column is a 32-bit integer on PostgreSQL
STATUS_VI = {"draft": "bản nháp", "published": "đã công bố", "retired": "ngừng dùng"}


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


# --- The lifecycle: open a draft, fill it, publish it, retire it (issue 4) ------------------


def edition_json(session: Session, edition: Edition) -> dict[str, object]:
    """An edition with its note and how many rows of each kind it holds."""
    seq = edition.seq
    counts = {
        name: session.scalar(select(func.count()).select_from(model).where(visible(model, seq)))
        or 0
        for name, model in (
            ("sources", Source),
            ("units", UnitRevision),
            ("assignments", Assignment),
            ("parent_links", ParentLink),
            ("areas", Area),
        )
    }
    return {"edition": edition_ref(edition), "note": edition.note, "counts": counts}


def _locked(session: Session, edition: Edition) -> Edition:
    """The edition's row, locked until the transaction ends (PostgreSQL; SQLite has one writer).

    Every change to a draft takes this lock, so a publish cannot slip between
    the check "it is a draft" and the rows written into it.
    """
    locked = session.get(Edition, edition.seq, with_for_update=True, populate_existing=True)
    assert locked is not None
    return locked


def _not_a_draft(edition: Edition) -> Conflict:
    return Conflict(
        f"Edition {edition.label!r} is {edition.status}; only a draft can change. "
        "Published editions never change.",
        detail_vi=f"Ấn bản {edition.label!r} đang ở trạng thái {STATUS_VI[edition.status]}; "
        "chỉ bản nháp mới được thay đổi. Ấn bản đã công bố không bao giờ thay đổi.",
    )


def draft_for_writing(session: Session, ref: str | int | None = None) -> Edition:
    """The open draft (or the draft `ref` names), locked for the rest of the transaction."""
    if ref is None:
        latest = latest_edition(session)
        if latest is None or latest.status != EditionStatus.DRAFT:
            raise Conflict(
                "No draft edition is open; an admin opens one with POST /v1/editions.",
                detail_vi="Chưa có ấn bản nháp nào đang mở; quản trị viên mở bằng "
                "POST /v1/editions.",
            )
        edition = latest
    else:
        edition = resolve_edition(session, ref)
    edition = _locked(session, edition)
    if edition.status != EditionStatus.DRAFT:
        raise _not_a_draft(edition)
    return edition


def open_draft(session: Session, actor: Actor, label: str, note: str = "") -> Edition:
    """Open a draft edition that collects changes; it starts with the latest edition's content."""
    label = label.strip()
    why = label_problem(label)
    if why is not None:
        raise SubmissionInvalid(
            f"Edition label: {why}.",
            detail_vi=f"Nhãn ấn bản không hợp lệ: {label!r}.",
            extra={"problems": [{"field": "label", "message": why}]},
        )
    latest = latest_edition(session)
    if latest is not None:
        latest = _locked(session, latest)  # two admins opening at once: one waits, then fails
        if latest.status == EditionStatus.DRAFT:
            raise Conflict(
                f"Draft {latest.label!r} is already open; publish it before opening another.",
                detail_vi=f"Bản nháp {latest.label!r} đang mở; hãy công bố nó trước khi mở "
                "bản khác.",
            )
    if session.scalar(select(Edition.seq).where(Edition.label == label)) is not None:
        raise Conflict(
            f"There is already an edition {label!r}; labels are never reused.",
            detail_vi=f"Đã có ấn bản {label!r}; nhãn không bao giờ được dùng lại.",
        )
    edition = Edition(
        seq=(latest.seq if latest else 0) + 1,
        label=label,
        status=EditionStatus.DRAFT,
        note=note,
    )
    session.add(edition)
    session.flush()
    record(session, actor, "edition.open", f"edition:{label}", after=edition_ref(edition))
    return edition


def import_into(session: Session, actor: Actor, ref: str | int, bundle: Bundle) -> dict[str, Any]:
    """Replace the draft's content by a validated bundle; a no-op if it is the same."""
    draft = draft_for_writing(session, ref)
    before = edition_json(session, draft)
    outcome = import_into_draft(session, draft, bundle)
    result = {
        "edition": edition_ref(draft),
        "changed": outcome.created,
        "added": outcome.added,
        "superseded": outcome.superseded,
        "bundle_checksum": bundle.checksum,
    }
    if outcome.created:
        record(
            session,
            actor,
            "edition.import",
            f"edition:{draft.label}",
            before=before,
            after={**edition_json(session, draft), **result},
        )
    return result


def import_new_edition(
    session: Session, actor: Actor, bundle: Bundle, *, publish: bool
) -> ImportOutcome:
    """Load a bundle as a new edition (the CLI's `codebook import`), and log it."""
    outcome = load_bundle(session, bundle, publish=publish)
    if outcome.created:
        record(
            session,
            actor,
            "edition.import",
            f"edition:{outcome.edition.label}",
            after={
                **edition_json(session, outcome.edition),
                "added": outcome.added,
                "superseded": outcome.superseded,
                "bundle_checksum": bundle.checksum,
            },
        )
    return outcome


def publish(
    session: Session, actor: Actor, ref: str | int, *, today: dt.date | None = None
) -> Edition:
    """Freeze a draft: checked, checksummed, dated. From then on it never changes."""
    draft = draft_for_writing(session, ref)
    problems = check_bundle(edition_bundle(session, draft), parse_codes=False)
    if problems:
        raise BundleInvalid(
            f"Draft {draft.label!r} has {len(problems)} problem(s) (lines as in its export); "
            "it was not published.",
            detail_vi=f"Bản nháp {draft.label!r} có {len(problems)} lỗi (số dòng theo bản "
            "xuất); chưa công bố.",
            extra={"problems": [p.to_json() for p in problems]},
        )
    before = edition_ref(draft)
    publish_edition(session, draft, today=today)
    record(
        session,
        actor,
        "edition.publish",
        f"edition:{draft.label}",
        before=before,
        after=edition_json(session, draft),
    )
    return draft


def retire(session: Session, actor: Actor, ref: str | int) -> Edition:
    """Retire a published edition: still readable by name, no longer the default."""
    edition = _locked(session, resolve_edition(session, ref))
    if edition.status != EditionStatus.PUBLISHED:
        raise Conflict(
            f"Edition {edition.label!r} is {edition.status}; only a published edition can be "
            "retired.",
            detail_vi=f"Ấn bản {edition.label!r} đang ở trạng thái "
            f"{STATUS_VI[edition.status]}; chỉ ấn bản đã công bố mới có thể ngừng dùng.",
        )
    before = edition_ref(edition)
    edition.status = EditionStatus.RETIRED
    session.flush()
    record(
        session,
        actor,
        "edition.retire",
        f"edition:{edition.label}",
        before=before,
        after=edition_ref(edition),
    )
    return edition


def export(session: Session, ref: str | int) -> tuple[Edition, Bundle]:
    """An edition's full content as a bundle (the import format)."""
    edition = resolve_edition(session, ref)
    return edition, edition_bundle(session, edition)


def import_upload(
    session: Session, actor: Actor, ref: str | int, content_type: str, data: bytes
) -> dict[str, Any]:
    """Import an uploaded bundle (zip or JSON) into the draft `ref`."""
    draft = draft_for_writing(session, ref)
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("application/zip", "application/x-zip-compressed"):
        bundle = bundle_from_zip(data, label=draft.label)
    elif media == "application/json":
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BundleInvalid(
                f"The JSON body cannot be read: {exc}",
                detail_vi="Không đọc được nội dung JSON.",
                extra={
                    "problems": [
                        {"file": "(upload)", "line": 0, "column": "", "message": f"not JSON: {exc}"}
                    ]
                },
            ) from None
        bundle = bundle_from_json(document, label=draft.label)
    else:
        raise UnsupportedMediaType(
            f"Send the bundle as application/zip or application/json, not {media or 'nothing'}.",
            detail_vi="Gửi gói dữ liệu dạng application/zip hoặc application/json.",
        )
    return import_into(session, actor, draft.seq, bundle)
