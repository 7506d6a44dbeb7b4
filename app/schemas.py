"""API schemas (Pydantic): request bodies and the documented shape of every answer.

Answers are built as plain JSON by the services; tests validate real answers
against these models so the OpenAPI document cannot drift from them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from app.parsing import MAX_INPUT_CHARS


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParseRequest(Strict):
    text: str = Field(
        description=f"The designation as written in the record (at most {MAX_INPUT_CHARS} "
        "characters).",
        examples=["C11.D3.E1.F2.QK5"],
    )


class DecodeRequest(Strict):
    text: str = Field(
        description=f"The designation as written in the record (at most {MAX_INPUT_CHARS} "
        "characters).",
        examples=["Công trường 9"],
    )
    date: str | None = Field(
        default=None,
        description="Date of death: ISO (1968-01-27) or as records write it "
        "(27/1/1968, ngày 27 tháng 1 năm 1968, T1/1968, 1968, 1968-1970, ~1968).",
        examples=["1968"],
    )
    edition: StrictStr | StrictInt | None = Field(
        default=None,
        description="Codebook edition label or sequence number; default the latest published.",
    )


class BranchOut(Strict):
    key: str
    text: str


class ElementOut(Strict):
    kind: Literal["unit", "theater", "mailbox", "cover_code", "tag", "place", "text"]
    text: str
    span: list[int] = Field(description="[start, end) offsets into the input")
    echelon: str | None = None
    number: str | None = None
    numbers: list[str] | None = None
    suffix: str | None = None
    branch: BranchOut | None = None
    name: str | None = None
    code: str | None = None
    letters: str | None = None
    theater: str | None = None


class ResidueOut(Strict):
    text: str
    span: list[int]


class NoticeOut(Strict):
    code: str
    message_vi: str
    message_en: str
    span: list[int] | None = None


class ParseOut(Strict):
    input: str
    elements: list[ElementOut]
    residue: list[ResidueOut]
    warnings: list[NoticeOut]


class DateOut(Strict):
    text: str
    lower: str = Field(description="First day possibly meant (ISO)")
    upper: str = Field(description="First day not meant (ISO, exclusive)")
    precision: Literal["day", "month", "year"]
    approximate: bool


class EditionOut(Strict):
    seq: int
    label: str
    status: Literal["draft", "published", "retired"]
    published_on: str | None
    checksum: str | None


class ValidityOut(Strict):
    from_: str | None = Field(alias="from")
    from_precision: str | None
    to: str | None
    to_precision: str | None


class SourceOut(Strict):
    id: str
    kind: str
    citation: str
    url: str | None
    reliability: str


class MatchOut(Strict):
    element: int
    text: str
    code: str
    kind: str
    valid: ValidityOut
    fit: str
    source: SourceOut
    verification: str
    note: str
    suffix_ignored: bool


class ParentLinkOut(Strict):
    parent: str
    valid: ValidityOut
    fit: str | None
    source: SourceOut
    verification: str
    note: str


class AreaOut(Strict):
    area: str
    valid: ValidityOut
    source: SourceOut
    verification: str


class ChainLinkOut(Strict):
    id: str
    name: str
    echelon: str
    existed: ValidityOut
    existed_fit: str
    source: SourceOut
    verification: str
    note: str
    matched: list[MatchOut]
    parent_link: ParentLinkOut | None
    areas: list[AreaOut]


class UnresolvedOut(Strict):
    element: int
    text: str
    reason: Literal["not_in_codebook", "contradicts_chain", "anachronistic", "smaller_than_anchor"]


class CandidateOut(Strict):
    score: float = Field(ge=0, le=1)
    chain: list[ChainLinkOut] = Field(description="From the smallest unit up to the theatre")
    unresolved: list[UnresolvedOut]
    reasons: list[NoticeOut]
    warnings: list[NoticeOut]


class DecodeOut(Strict):
    input: str
    date: DateOut | None
    edition: EditionOut
    status: Literal["resolved", "partial", "ambiguous", "unresolved", "invalid"]
    parse: ParseOut
    candidates: list[CandidateOut]
    warnings: list[NoticeOut]


class DesignationOut(Strict):
    kind: str
    code: str
    valid: ValidityOut
    source: SourceOut
    verification: str
    note: str


class RelatedUnitOut(Strict):
    id: str
    name: str
    echelon: str | None
    valid: ValidityOut
    source: SourceOut
    verification: str
    note: str


class UnitAreaOut(Strict):
    area: str
    valid: ValidityOut
    source: SourceOut
    verification: str
    note: str


class UnitOut(Strict):
    id: str
    name: str
    echelon: str
    existed: ValidityOut
    source: SourceOut
    verification: str
    note: str
    designations: list[DesignationOut]
    parents: list[RelatedUnitOut]
    subordinates: list[RelatedUnitOut]
    areas: list[UnitAreaOut]
    edition: EditionOut


class EditionListOut(Strict):
    editions: list[EditionOut]


class ProblemOut(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    detail_vi: str
    instance: str
