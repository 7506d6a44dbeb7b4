"""API schemas of the audit log."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuditActorOut(Strict):
    key: int | None = Field(description="The API key's id; null for the CLI and the system")
    name: str
    role: str


class AuditEventOut(Strict):
    id: int
    at: str
    actor: AuditActorOut
    action: str = Field(examples=["submission.accept"])
    target: str = Field(examples=["submission:12"])
    before: Any
    after: Any


class AuditPageOut(Strict):
    events: list[AuditEventOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null at end")
