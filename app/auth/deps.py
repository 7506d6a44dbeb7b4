"""FastAPI dependencies: who is calling, and whether their role allows the write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.auth.actor import Actor
from app.auth.service import authenticate
from app.db.models import Role
from app.decode.endpoints import PROBLEMS, _problem
from app.deps import SessionDep
from app.errors import Forbidden

ROLE_VI = {
    Role.CONTRIBUTOR: "người đóng góp",
    Role.REVIEWER: "người thẩm định",
    Role.ADMIN: "quản trị",
}

_bearer = HTTPBearer(auto_error=False, description="An API key as 'Authorization: Bearer phk_…'.")
_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key in the X-API-Key header."
)


def current_actor(
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Actor:
    return authenticate(session, bearer.credentials if bearer else header)


def _require(role: Role) -> Callable[[Actor], Actor]:
    def check(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if not actor.may(role):
            raise Forbidden(
                f"This needs the {role.value} role; the key of {actor.name!r} is "
                f"{actor.role.value}.",
                detail_vi=f"Thao tác này cần vai trò {ROLE_VI[role]}; khóa của {actor.name!r} "
                f"có vai trò {ROLE_VI[actor.role]}.",
                extra={"needed_role": role.value, "key_role": actor.role.value},
            )
        return actor

    return check


ContributorDep = Annotated[Actor, Depends(_require(Role.CONTRIBUTOR))]
ReviewerDep = Annotated[Actor, Depends(_require(Role.REVIEWER))]
AdminDep = Annotated[Actor, Depends(_require(Role.ADMIN))]


# What a write may answer besides success (all RFC 9457 problems), for the OpenAPI document.
WRITE_PROBLEMS: dict[int | str, dict[str, object]] = {
    **PROBLEMS,
    401: _problem("No API key, or an unknown or revoked one (RFC 9457 problem)."),
    403: _problem("The key's role does not allow this write (RFC 9457 problem)."),
    404: _problem("The edition, submission, key or row does not exist (RFC 9457 problem)."),
    409: _problem("The write does not fit the current state, e.g. no open draft (RFC 9457)."),
}
