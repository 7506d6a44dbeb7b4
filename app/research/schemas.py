"""The documented shape of researchers' answers (tests validate real answers against them)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas import DateOut, EditionOut, SourceOut, Strict, ValidityOut


class MatchOut(Strict):
    kind: Literal["exact", "prefix", "contains", "fuzzy"] = Field(
        description="exact: the whole name or code; prefix: a word of it starts with the query; "
        "contains: the query is inside it; fuzzy: only similar (see score)"
    )
    fuzzy: bool
    score: float = Field(ge=0, le=1, description="Trigram similarity to the query (pg_trgm)")
    text: str = Field(description="The name or code that matched")


class UnitRowOut(Strict):
    id: str
    name: str
    echelon: str
    existed: ValidityOut
    verification: str
    source: SourceOut
    url: str
    note: str | None = Field(default=None, description="With _extra=notes")
    match: MatchOut | None = Field(default=None, description="When searching (q)")


class FacetValueOut(Strict):
    value: str | None
    label: str
    count: int
    selected: bool
    toggle_url: str | None = Field(description="This listing with the value added or removed")


class FacetOut(Strict):
    name: str
    results: list[FacetValueOut]
    truncated: bool


class ListingOut(Strict):
    edition: EditionOut
    cite: str = Field(description="How to cite this answer: edition, request, retrieval date")
    query: dict[str, str | list[str]] = Field(description="The filters as understood")
    count: int = Field(description="Rows in the whole result, over all pages")
    sources: list[SourceOut] = Field(description="The sources of the rows on this page, once each")
    next: str | None = Field(description="Token of the next page (give it as _next)")
    next_url: str | None = Field(description="The next page (also in the Link header)")
    facets: dict[str, FacetOut] | None = Field(default=None, description="With _facet=…")


class UnitListOut(ListingOut):
    units: list[UnitRowOut]


class UnitRefOut(Strict):
    id: str
    name: str
    echelon: str | None


class DesignationRowOut(Strict):
    unit: UnitRefOut
    kind: str
    code: str
    match_key: str = Field(description="What decoding looks up: 'F9' and 'Sư đoàn 9' share one")
    valid: ValidityOut
    source: SourceOut
    verification: str
    note: str
    unit_url: str


class DesignationListOut(ListingOut):
    code: str | None = Field(description="The code asked for, as given")
    keys: list[str] | None = Field(
        description="The match keys the code parses to (empty: none); null without `code`"
    )
    designations: list[DesignationRowOut]


class TreeUnitOut(Strict):
    id: str
    name: str
    echelon: str
    existed: ValidityOut
    existed_fit: str
    verification: str
    source: str
    url: str


class TreeLinkOut(Strict):
    valid: ValidityOut
    fit: str = Field(description="How the date stands to the link's period")
    verification: str
    source: str
    note: str


class ChainStepOut(TreeUnitOut):
    link: TreeLinkOut
    other_parents: list[str] = Field(description="Other parents the unit below may have had then")


class TreeNodeOut(TreeUnitOut):
    link: TreeLinkOut
    subordinates: list[TreeNodeOut]


class TheaterOut(Strict):
    id: str
    name: str
    code: str | None


class TreeOut(Strict):
    edition: EditionOut
    cite: str
    date: DateOut
    unit: TreeUnitOut
    theater: TheaterOut | None = Field(description="The first unit up the chain that is a theatre")
    chain: list[ChainStepOut] = Field(description="Parents at the date, from the nearest up")
    subordinates: list[TreeNodeOut]
    count: int = Field(description="Units under the unit at the date")
    truncated: bool
    sources: list[SourceOut]
