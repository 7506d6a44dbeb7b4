"""API schemas of curation: proposals, evidence, row references, reviews."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.db.models import AssignmentKind, Reliability, SourceKind
from app.schemas import EditionOut


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


DATE_HELP = "YYYY, YYYY-MM or YYYY-MM-DD; empty when unknown or open"


class AssignmentProposal(Strict):
    type: Literal["assignment"]
    unit: str = Field(description="The unit's id in the codebook", examples=["su-doan-9"])
    kind: AssignmentKind
    code: str = Field(description="As a record writes it; must be one designation")
    valid_from: str = Field(default="", description=DATE_HELP)
    valid_to: str = Field(default="", description=DATE_HELP + " (first day no longer valid)")
    note: str = ""


class ParentLinkProposal(Strict):
    type: Literal["parent_link"]
    unit: str = Field(description="The subordinate unit's id")
    parent: str = Field(description="The parent unit's id")
    valid_from: str = Field(default="", description=DATE_HELP)
    valid_to: str = Field(default="", description=DATE_HELP + " (first day no longer valid)")
    note: str = ""


Proposal = Annotated[AssignmentProposal | ParentLinkProposal, Field(discriminator="type")]


class Evidence(Strict):
    """Either an existing source (`source`) or a new one (`kind` and `citation`)."""

    source: str | None = Field(default=None, description="The id of a source already cited")
    kind: SourceKind | None = Field(
        default=None, description="army_record, veteran_testimony or publication"
    )
    citation: str | None = Field(default=None, description="Who, what, where, when")
    witness: str | None = Field(
        default=None, description="Who testified (required for veteran_testimony)"
    )
    url: str | None = None
    note: str = ""


class RowRef(Strict):
    """A row of the codebook, named by its content as in a bundle file; it must match one row."""

    table: Literal["unit", "assignment", "parent_link", "area"]
    unit: str = Field(description="The unit's id (for a unit row, the unit itself)")
    kind: str | None = None
    code: str | None = None
    parent: str | None = None
    area: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    source: str | None = None
    verification: str | None = None


class SubmissionIn(Strict):
    proposal: Proposal
    evidence: Evidence
    corrects: RowRef | None = Field(
        default=None, description="The row this proposal corrects; it is superseded on acceptance"
    )


class AcceptIn(Strict):
    verification: Literal["verified", "unverified"] = Field(
        default="unverified",
        description="How far the evidence settles it; testimony stays unverified until confirmed",
    )
    reliability: Reliability = Field(
        default=Reliability.WEAK,
        description="For a new source made from the evidence: strong, moderate or weak",
    )
    note: str | None = Field(default=None, description="The row's note (default: the proposal's)")


class RejectIn(Strict):
    reason: str = Field(min_length=1, description="Why, for the contributor")


class DisputeIn(Strict):
    row: RowRef
    reason: str = Field(min_length=1, description="What is in doubt, and on what evidence")


class ActorRefOut(Strict):
    key: int | None
    name: str


class SubmissionOut(Strict):
    id: int
    target: Literal["assignment", "parent_link"]
    status: Literal["pending", "accepted", "rejected"]
    proposal: dict[str, Any]
    evidence: dict[str, Any]
    corrects: dict[str, Any] | None
    submitted_by: ActorRefOut
    submitted_at: str
    reviewed_by: ActorRefOut | None
    reviewed_at: str | None
    review_note: str
    accepted_in: str | None = Field(description="The label of the edition it was accepted into")
    source: str | None = Field(description="The source the accepted row cites")


class SubmissionListOut(Strict):
    submissions: list[SubmissionOut]
    next_after: int | None


class ReviewOut(Strict):
    submission: SubmissionOut
    edition: EditionOut | None = Field(description="The draft the change went into")
    row: dict[str, Any] | None = Field(description="The row added (as in a bundle file)")
    superseded: dict[str, Any] | None = Field(description="The row it replaced, if any")


class DisputeOut(Strict):
    edition: EditionOut
    table: str
    before: dict[str, Any]
    after: dict[str, Any]
