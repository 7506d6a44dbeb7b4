"""Who is writing: a key holder with a role, the local operator (CLI), or the system itself."""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from typing import Any

from app.db.models import Role

RANK = {Role.CONTRIBUTOR: 1, Role.REVIEWER: 2, Role.ADMIN: 3}


@dataclass(frozen=True, slots=True)
class Actor:
    key_id: int | None  # None for the CLI and the system
    name: str
    role: Role

    def may(self, needed: Role) -> bool:
        """Roles are ranked: a reviewer may also submit, an admin may do everything."""
        return RANK[self.role] >= RANK[needed]

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key_id, "name": self.name, "role": self.role.value}


# First start loads the sample edition on its own; the log says so.
SYSTEM = Actor(None, "system", Role.ADMIN)


def cli_actor() -> Actor:
    """The local operator: whoever can run the CLI against the database is its admin."""
    try:
        user = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a uid with no passwd entry, as in some containers
        user = str(os.getuid())
    return Actor(None, f"cli:{user}", Role.ADMIN)
