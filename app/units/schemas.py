"""API schemas of the reverse lookup by unit (by code: app/research/schemas.py)."""

from __future__ import annotations

from pydantic import Field

from app.schemas import EditionOut, SourceOut, Strict, ValidityOut


class UnitRefOut(Strict):
    id: str
    name: str
    echelon: str | None


class UnitDesignationOut(Strict):
    kind: str
    code: str
    match_key: str = Field(description="What decoding looks up: 'F9' and 'Sư đoàn 9' share one")
    valid: ValidityOut
    source: SourceOut
    verification: str
    note: str


class UnitDesignationsOut(Strict):
    unit: UnitRefOut
    designations: list[UnitDesignationOut] = Field(description="By period, earliest first")
    edition: EditionOut
