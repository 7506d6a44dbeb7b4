"""GET /v1/units/{id} and GET /v1/units/{id}/designations (GET /v1/designations: app/research)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.decode.endpoints import PROBLEMS
from app.deps import ContextDep, SessionDep
from app.editions.service import resolve_edition
from app.schemas import UnitOut
from app.units.schemas import UnitDesignationsOut
from app.units.service import unit_designations, unit_history

router = APIRouter(prefix="/v1", tags=["units"])


@router.get("/units/{unit_id}", response_model=UnitOut, responses=PROBLEMS)
def unit(
    unit_id: str,
    context: ContextDep,
    session: SessionDep,
    edition: str | None = Query(default=None, description="Edition label or sequence number"),
) -> JSONResponse:
    """A unit with its names, codes, parents, subordinates and areas by period, with sources."""
    chosen = resolve_edition(session, edition)
    return JSONResponse(unit_history(context.reader(chosen), chosen, unit_id))


@router.get("/units/{unit_id}/designations", response_model=UnitDesignationsOut, responses=PROBLEMS)
def unit_designations_route(
    unit_id: str,
    context: ContextDep,
    session: SessionDep,
    edition: str | None = Query(default=None, description="Edition label or sequence number"),
) -> JSONResponse:
    """Every code and name a unit carried, by period, with sources (default: latest edition)."""
    chosen = resolve_edition(session, edition)
    return JSONResponse(unit_designations(context.reader(chosen), chosen, unit_id))
