"""Settings: the one place that reads the environment (variables prefixed PHIENHIEU_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """The embedded default: a SQLite file in the user's data folder."""
    path = Path.home() / ".local" / "share" / "phienhieu" / "phienhieu.sqlite3"
    return f"sqlite:///{path}"


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as PHIENHIEU_<FIELD> in the environment."""

    model_config = SettingsConfigDict(env_prefix="PHIENHIEU_", extra="ignore")

    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL; sqlite:///PATH (default) or postgresql+psycopg://…",
    )
    auto_init: bool | None = Field(
        default=None,
        description=(
            "Migrate and load the sample edition on first use. "
            "Default: on for SQLite, off for PostgreSQL (run `phienhieu db upgrade`)."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address `phienhieu serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `phienhieu serve` binds to.")
    batch_workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Worker processes `phienhieu serve` forks for large JSON batches "
        "(0: one per core, at most 2; 1: none, batches decode in the server process).",
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value.startswith("postgresql://"):
            # Plain postgresql:// would pick psycopg2, which we do not ship.
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not value.startswith(("sqlite:", "postgresql+psycopg:")):
            raise ValueError("database_url must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def should_auto_init(self) -> bool:
        return self.is_sqlite if self.auto_init is None else self.auto_init
