"""FastAPI dependencies: the context and one session per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.context import Context


def get_context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


ContextDep = Annotated[Context, Depends(get_context)]


def get_session(context: ContextDep) -> Iterator[Session]:
    """One transaction per request, committed when the handler returns normally."""
    with context.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
