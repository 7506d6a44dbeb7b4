"""ORM models of the codebook.

Versioning: every content row carries `first_edition` (the edition sequence
that introduced it) and `superseded_in` (the edition from which it no longer
holds, or NULL). A row is part of edition E when
`first_edition <= E AND (superseded_in IS NULL OR superseded_in > E)`.
Rows are never updated in place except to set `superseded_in` once, so a
published edition never changes. Units and sources are identities; what can
be corrected about a unit lives in `unit_revision`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.research.text import search_text

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EditionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class Verification(StrEnum):
    VERIFIED = "verified"
    UNVERIFIED = "unverified"
    DISPUTED = "disputed"


class SourceKind(StrEnum):
    ARMY_RECORD = "army_record"
    VETERAN_TESTIMONY = "veteran_testimony"
    PUBLICATION = "publication"


class Reliability(StrEnum):
    STRONG = "strong"
    MODERATE = "moderate"
    WEAK = "weak"


class AssignmentKind(StrEnum):
    DESIGNATION = "designation"
    COVER_NAME = "cover_name"
    COVER_CODE = "cover_code"
    HONORIFIC = "honorific"
    NICKNAME = "nickname"
    MAILBOX = "mailbox"
    THEATER_CODE = "theater_code"


class Precision(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


# Codebook echelons: the parser's echelons plus `theater` for theatre units (B2, B3 …).
UNIT_ECHELONS = (
    "squad",
    "platoon",
    "company",
    "battalion",
    "regiment",
    "division",
    "brigade",
    "corps",
    "military_region",
    "front",
    "group",
    "station",
    "worksite",
    "department",
    "theater",
)


class Edition(Base):
    __tablename__ = "edition"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    checksum: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status"),
    )


class Versioned:
    """Columns that place a row in editions (see module docstring)."""

    first_edition: Mapped[int] = mapped_column(ForeignKey("edition.seq"))
    superseded_in: Mapped[int | None] = mapped_column(ForeignKey("edition.seq"))


class Attested(Versioned):
    """A sourced fact: its source, verification status and a note."""

    source_id: Mapped[str] = mapped_column(ForeignKey("source.id"))
    verification: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class Period:
    """A half-open validity period [valid_from, valid_to); NULL bound = unknown or open."""

    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_from_precision: Mapped[str | None] = mapped_column(String(8))
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    valid_to_precision: Mapped[str | None] = mapped_column(String(8))


def _search_of(column: str) -> Any:
    """A column default: the search form (app.research.text) of another column of the row."""

    def compute(context: DefaultExecutionContext) -> str:
        row: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]
        return search_text(row[column])

    return compute


def _search_index(table: str) -> Index:
    """Trigram index for the search column on PostgreSQL (pg_trgm); a plain index on SQLite.

    SQLite's substring search uses the FTS5 tables made in migration 0003_search. GIN with a
    short pending list (migration 0005: every search reads through it until a vacuum merges
    it); unit names by GiST (migration 0007: fuzzy search over them far faster).
    """
    if table == "unit_revision":
        return Index(
            f"ix_{table}_search",
            "search",
            postgresql_using="gist",
            postgresql_ops={"search": "gist_trgm_ops(siglen=256)"},
        )
    return Index(
        f"ix_{table}_search",
        "search",
        postgresql_using="gin",
        postgresql_ops={"search": "gin_trgm_ops"},
        postgresql_with={"gin_pending_list_limit": 256},
    )


class Source(Base):
    """A citable source. Its content never changes: a corrected citation is a new source id."""

    __tablename__ = "source"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    citation: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    reliability: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    first_edition: Mapped[int] = mapped_column(ForeignKey("edition.seq"))
    superseded_in: Mapped[int | None] = mapped_column(ForeignKey("edition.seq"))


class Unit(Base):
    """A unit's stable identity; its attributes are in `unit_revision`."""

    __tablename__ = "unit"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    first_edition: Mapped[int] = mapped_column(ForeignKey("edition.seq"))


class UnitRevision(Attested, Base):
    """What a unit is (echelon, canonical name, formed/dissolved) as of some editions."""

    __tablename__ = "unit_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    echelon: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    formed: Mapped[dt.date | None] = mapped_column(Date)
    formed_precision: Mapped[str | None] = mapped_column(String(8))
    dissolved: Mapped[dt.date | None] = mapped_column(Date)
    dissolved_precision: Mapped[str | None] = mapped_column(String(8))
    # Folded copy of `name` for researchers' search; computed on insert (see _search_of).
    search: Mapped[str] = mapped_column(Text, default=_search_of("name"))

    __table_args__ = (
        _search_index("unit_revision"),
        # Listings by echelon, and the theatres without a code (migration 0004).
        Index("ix_unit_revision_echelon", "echelon"),
    )


class Assignment(Period, Attested, Base):
    """A code or name that meant a unit during a period."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(200))
    # The parser's match key of `code`; "what did X mean in edition E" looks it up.
    match_key: Mapped[str] = mapped_column(String(200))
    search: Mapped[str] = mapped_column(Text, default=_search_of("code"))

    __table_args__ = (
        Index("ix_assignment_match_key_edition", "match_key", "first_edition"),
        _search_index("assignment"),
        # Theatre codes are few among a million codes: finding them must not read them all.
        Index("ix_assignment_kind_unit", "kind", "unit_id"),
    )


class ParentLink(Period, Attested, Base):
    """A unit under a parent during a period."""

    __tablename__ = "parent_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    parent_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)


class Area(Period, Attested, Base):
    """Where a unit operated during a period."""

    __tablename__ = "area"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("unit.id"), index=True)
    area: Mapped[str] = mapped_column(String(200))
    search: Mapped[str] = mapped_column(Text, default=_search_of("area"))

    __table_args__ = (_search_index("area"),)


# --- Curation: API keys, submissions with evidence, the audit log (migration 0002_curation) ---


class Role(StrEnum):
    """What a key may write; each role may also do what the roles before it may."""

    CONTRIBUTOR = "contributor"
    REVIEWER = "reviewer"
    ADMIN = "admin"


class SubmissionStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ApiKey(Base):
    """A key for writing. Only a hash of the secret is kept; the secret is shown once."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The first characters of the key, kept so people can tell their keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("role IN ('contributor', 'reviewer', 'admin')", name="role"),)


class Submission(Base):
    """A proposed assignment or parent link with its evidence, and what reviewers made of it."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(16))  # "assignment" or "parent_link"
    status: Mapped[str] = mapped_column(String(16), index=True)
    # The proposal and its evidence as submitted (canonical JSON text, kept verbatim).
    proposal: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    corrects: Mapped[str | None] = mapped_column(Text)  # the row it replaces, if any (JSON)
    submitted_by: Mapped[int] = mapped_column(ForeignKey("api_key.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    review_note: Mapped[str] = mapped_column(Text, default="")
    accepted_in: Mapped[int | None] = mapped_column(ForeignKey("edition.seq"))
    source_id: Mapped[str | None] = mapped_column(ForeignKey("source.id"))

    __table_args__ = (
        CheckConstraint("target IN ('assignment', 'parent_link')", name="target"),
        CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name="status"),
    )


class AuditEvent(Base):
    """One write: who, when, what, and the state before and after. Never updated or deleted."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor_key: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(200))
    # Canonical JSON text (sorted keys), stored as written so it reads back byte for byte.
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
