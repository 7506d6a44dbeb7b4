"""API schemas of keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.db.models import Role


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeyCreate(Strict):
    role: Role = Field(description="contributor (submit), reviewer (review), admin (everything)")
    name: str = Field(description="Who holds the key: a person or a system", examples=["Lê Văn A"])


class KeyOut(Strict):
    id: int
    prefix: str = Field(description="The first characters of the key, to tell keys apart")
    role: Role
    name: str
    created_at: str
    created_by: str
    revoked_at: str | None


class KeyCreatedOut(KeyOut):
    secret: str = Field(description="The key itself. Shown this once; only its hash is kept.")


class KeyListOut(Strict):
    keys: list[KeyOut]
