"""API schemas of the edition lifecycle, export, diff and impact."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.editions.impact import MAX_IMPACT_ITEMS
from app.schemas import EditionOut


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EditionCreate(Strict):
    label: str = Field(
        description="The new edition's label: letters, digits, '.', '_', '-'; not all digits",
        examples=["2026.2"],
    )
    note: str = Field(default="", description="What this edition is for")


class EditionCountsOut(Strict):
    sources: int
    units: int
    assignments: int
    parent_links: int
    areas: int


class EditionDetailOut(Strict):
    edition: EditionOut
    note: str
    counts: EditionCountsOut


class ImportOut(Strict):
    edition: EditionOut
    changed: bool = Field(description="False when the bundle equals the draft (nothing written)")
    added: int
    superseded: int
    bundle_checksum: str


class BundleFilesOut(Strict):
    edition: EditionOut
    files: dict[str, str] = Field(description="bundle.toml and the five CSV files, by name")


class TableChangeOut(Strict):
    key: dict[str, str]
    fields: list[str]
    before: dict[str, str]
    after: dict[str, str]


class TableDiffOut(Strict):
    added: list[dict[str, str]]
    removed: list[dict[str, str]]
    changed: list[TableChangeOut]


class DiffOut(Strict):
    from_: EditionOut = Field(alias="from")
    to: EditionOut
    summary: dict[str, dict[str, int]]
    sources: TableDiffOut
    units: TableDiffOut
    assignments: TableDiffOut
    parent_links: TableDiffOut
    areas: TableDiffOut


class ImpactItemIn(Strict):
    text: str = Field(examples=["Công trường 9"])
    date: str | None = Field(default=None, examples=["1968"])
    id: str | None = Field(default=None, description="Your id for the row, echoed back")


class ImpactIn(Strict):
    items: list[ImpactItemIn] = Field(max_length=MAX_IMPACT_ITEMS)


class DecodeSummaryOut(Strict):
    status: str
    unit: str | None
    name: str | None
    chain: list[str]
    score: float | None
    candidates: list[str]
    evidence: list[list[Any]]
    warnings: list[str]


class ImpactItemOut(Strict):
    index: int
    id: str | None
    text: str
    date: str | None
    changed: bool
    changes: list[
        Literal["status", "unit", "chain", "candidates", "score", "evidence", "warnings"]
    ] = []
    explanation_vi: str | None = None
    explanation_en: str | None = None
    before: DecodeSummaryOut | None = None
    after: DecodeSummaryOut | None = None
    error: str | None = None
    error_vi: str | None = None


class ImpactOut(Strict):
    from_: EditionOut = Field(alias="from")
    to: EditionOut
    total: int
    changed: int
    items: list[ImpactItemOut]
