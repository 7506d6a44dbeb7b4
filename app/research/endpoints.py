"""Researchers' endpoints: GET /v1/units, /v1/designations, /v1/units/{id}/tree, /v1/theaters/….

Listings answer JSON (one page, `_next` keyset paging, a `Link: rel="next"`
header), or the whole result as CSV or NDJSON (`.csv`, `.ndjson` or
`_format=`), streamed from the database a chunk at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Final, Generic, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from app.context import Context
from app.db.models import Edition
from app.decode.endpoints import PROBLEMS
from app.deps import ContextDep, SessionDep
from app.editions.service import resolve_edition
from app.research import formats, params, service, tree
from app.research.cite import cite_ascii, request_line
from app.research.params import DesignationQuery, UnitQuery
from app.research.schemas import DesignationListOut, TreeOut, UnitListOut

router = APIRouter(prefix="/v1", tags=["research"])

Q = TypeVar("Q", UnitQuery, DesignationQuery)

EditionParam = Annotated[
    str | None,
    Query(description="Codebook edition label or number; default the latest published."),
]
FormatParam = Annotated[
    str | None,
    Query(alias="_format", description="json (default), csv or ndjson (whole result, streamed)."),
]
DateText = "A date as records write it: 1968-01-27, 27/1/1968, T1/1968, 1968."


def unit_query(
    request: Request,
    q: Annotated[
        str | None,
        Query(
            description="Search names and codes, without regard to diacritics or case: exact "
            "matches first, then a word starting with it, then containing it, then fuzzy ones."
        ),
    ] = None,
    fuzzy: Annotated[
        str | None,
        Query(
            description="auto (default: fuzzy matches when nothing else matches), always, never."
        ),
    ] = None,
    echelon: Annotated[
        list[str], Query(description="division, regiment, theater … (repeat for any of)")
    ] = [],  # noqa: B006
    active_on: Annotated[
        str | None, Query(description=f"Units that may have existed then. {DateText}")
    ] = None,
    active_between: Annotated[
        str | None, Query(description="FROM,TO: units that may have existed then.")
    ] = None,
    parent: Annotated[
        str | None, Query(description="Units directly under this unit id (at active_on).")
    ] = None,
    theater: Annotated[
        list[str],
        Query(
            description="Units in this theatre (B2, B3, T1 … or a theatre unit id), at active_on."
        ),
    ] = [],  # noqa: B006
    area: Annotated[
        str | None, Query(description="Units whose area of operations contains this text.")
    ] = None,
    verification: Annotated[list[str], Query(description="verified, unverified, disputed.")] = [],  # noqa: B006
    decade: Annotated[
        list[str], Query(description="Formed in this decade (1960) or 'unknown'.")
    ] = [],  # noqa: B006
    sort_by: Annotated[
        str | None, Query(alias="_sort", description="id, name, echelon, formed, dissolved.")
    ] = None,
    sort_desc: Annotated[
        str | None, Query(alias="_sort_desc", description="As _sort, descending.")
    ] = None,
    facets: Annotated[
        list[str], Query(alias="_facet", description="echelon, theater, verification, decade.")
    ] = [],  # noqa: B006
    extras: Annotated[
        list[str], Query(alias="_extra", description="notes: each unit's note.")
    ] = [],  # noqa: B006
    page_size: Annotated[
        str | None, Query(alias="_size", description="Rows per page, 1–1000 or max; 100.")
    ] = None,
    next_token: Annotated[
        str | None, Query(alias="_next", description="The `next` of the previous page.")
    ] = None,
) -> UnitQuery:
    allowed = (
        params.THEATER_UNIT_PARAMS if "theater_code" in request.path_params else params.UNIT_PARAMS
    )
    params.known_only(request.query_params.keys(), allowed)
    return params.unit_query(
        q=q,
        fuzzy=fuzzy,
        echelon=echelon,
        active_on=active_on or request.query_params.get("date"),
        active_between=active_between,
        parent=parent,
        theater=theater,
        area=area,
        verification=verification,
        decade=decade,
        sort_by=sort_by,
        sort_desc=sort_desc,
        facets=facets,
        extras=extras,
        page_size=page_size,
        next_token=next_token,
    )


def designation_query(
    request: Request,
    code: Annotated[
        str | None, Query(description="This code or name (diacritics and case do not matter).")
    ] = None,
    code_startswith: Annotated[
        str | None, Query(alias="code__startswith", description="Codes and names starting so.")
    ] = None,
    kind: Annotated[
        list[str],
        Query(
            description="designation, cover_name, cover_code, honorific, nickname, mailbox, "
            "theater_code."
        ),
    ] = [],  # noqa: B006
    valid_on: Annotated[str | None, Query(description=f"In use then. {DateText}")] = None,
    unit: Annotated[str | None, Query(description="Codes and names of this unit id.")] = None,
    theater: Annotated[list[str], Query(description="Of units in this theatre at valid_on.")] = [],  # noqa: B006
    echelon: Annotated[list[str], Query(description="Of units of this echelon.")] = [],  # noqa: B006
    verification: Annotated[list[str], Query(description="verified, unverified, disputed.")] = [],  # noqa: B006
    decade: Annotated[
        list[str], Query(description="In use from this decade (1960) or 'unknown'.")
    ] = [],  # noqa: B006
    sort_by: Annotated[
        str | None, Query(alias="_sort", description="code, unit, kind, valid_from, valid_to.")
    ] = None,
    sort_desc: Annotated[
        str | None, Query(alias="_sort_desc", description="As _sort, descending.")
    ] = None,
    facets: Annotated[
        list[str],
        Query(alias="_facet", description="kind, echelon, theater, verification, decade."),
    ] = [],  # noqa: B006
    page_size: Annotated[
        str | None, Query(alias="_size", description="Rows per page, 1–1000 or max; 100.")
    ] = None,
    next_token: Annotated[
        str | None, Query(alias="_next", description="The `next` of the previous page.")
    ] = None,
) -> DesignationQuery:
    params.known_only(request.query_params.keys(), params.DESIGNATION_PARAMS)
    return params.designation_query(
        code=code,
        code_startswith=code_startswith,
        kind=kind,
        valid_on=valid_on,
        unit=unit,
        theater=theater,
        echelon=echelon,
        verification=verification,
        decade=decade,
        sort_by=sort_by,
        sort_desc=sort_desc,
        facets=facets,
        page_size=page_size,
        next_token=next_token,
    )


UnitQueryDep = Annotated[UnitQuery, Depends(unit_query)]
DesignationQueryDep = Annotated[DesignationQuery, Depends(designation_query)]
LISTING_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
        "description": "A page as JSON, or the whole result as CSV or NDJSON.",
    },
}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _json(body: dict[str, Any]) -> JSONResponse:
    headers = {"Link": f'<{body["next_url"]}>; rel="next"'} if body.get("next_url") else None
    return JSONResponse(body, headers=headers)


def _stream(
    context: Context,
    edition: Edition,
    fmt: str,
    name: str,
    what: str,
    make: Callable[[Session], Iterator[bytes]],
) -> StreamingResponse:
    def chunks() -> Iterator[bytes]:
        with context.session() as session:  # its own transaction: the request's may end first
            yield from make(session)

    label = quote(edition.label, safe="-._~+")  # HTTP headers are ASCII
    headers = {
        "Content-Disposition": f'attachment; filename="{name}-{label}.{fmt}"',
        "X-Phienhieu-Edition": label,
        "X-Phienhieu-Cite": cite_ascii(edition, what),
    }
    return StreamingResponse(chunks(), media_type=formats.MEDIA_TYPES[fmt], headers=headers)


@dataclass(frozen=True, slots=True)
class ListingKind(Generic[Q]):
    """What a listing answers with: a page as JSON, or the whole result streamed."""

    name: str  # the path below /v1 and the downloaded file's name
    page: Callable[[Session, Edition, Q, service.Request], dict[str, Any]]
    check: Callable[[Session, Edition, Q], None]
    stream: Callable[[Session, Edition, Q, str, str], Iterator[bytes]]  # fmt, base URL


UNITS: Final[ListingKind[UnitQuery]] = ListingKind(
    "units",
    service.list_units,
    service.check_units,
    lambda s, e, q, fmt, base: service.stream_units(s, e, q, fmt, base=base),
)
DESIGNATIONS: Final[ListingKind[DesignationQuery]] = ListingKind(
    "designations",
    service.list_designations,
    service.check_designations,
    lambda s, e, q, fmt, base: service.stream_designations(s, e, q, fmt, base=base),
)


def _listing(
    listing: ListingKind[Q],
    request: Request,
    context: Context,
    session: Session,
    query: Q,
    edition: str | None,
    fmt: str,
    path: str | None = None,
) -> Response:
    """One listing answered in `fmt`; `path` when it is not /v1/{name} (a theatre's units)."""
    path = path or f"/v1/{listing.name}"
    chosen = resolve_edition(session, edition)
    base = _base(request)
    if fmt == "json":
        return _json(listing.page(session, chosen, query, service.Request(base, path)))
    listing.check(session, chosen, query)  # a bad filter is a problem, not a broken file
    return _stream(
        context,
        chosen,
        fmt,
        listing.name,
        request_line(path, query.params(), chosen),
        lambda s: listing.stream(s, chosen, query, fmt, base),
    )


@router.get("/units", response_model=UnitListOut, responses=LISTING_RESPONSES)
def units(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    query: UnitQueryDep,
    edition: EditionParam = None,
    fmt: FormatParam = None,
) -> Response:
    """Units by search, echelon, date, parent, theatre, area, verification; facets; pages."""
    chosen_format = params.output_format(None, fmt)
    return _listing(UNITS, request, context, session, query, edition, chosen_format)


@router.get("/units.{suffix}", response_model=UnitListOut, responses=LISTING_RESPONSES)
def units_as(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    query: UnitQueryDep,
    suffix: Annotated[str, Path(description="json, csv or ndjson")],
    edition: EditionParam = None,
    fmt: FormatParam = None,
) -> Response:
    """The units listing as JSON, or whole as CSV or NDJSON."""
    chosen_format = params.output_format(suffix, fmt)
    return _listing(UNITS, request, context, session, query, edition, chosen_format)


def _theater_units(
    request: Request,
    context: Context,
    session: Session,
    theater_code: str,
    query: UnitQuery,
    edition: str | None,
    fmt: str,
) -> Response:
    scoped = service.in_theater(query, theater_code)
    path = f"/v1/theaters/{theater_code}/units"
    return _listing(UNITS, request, context, session, scoped, edition, fmt, path)


@router.get(
    "/theaters/{theater_code}/units", response_model=UnitListOut, responses=LISTING_RESPONSES
)
def theater_units(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    theater_code: Annotated[str, Path(description="B2, B3, T1 … or the id of a theatre unit")],
    query: UnitQueryDep,
    date: Annotated[str | None, Query(description=f"What stood there then. {DateText}")] = None,
    edition: EditionParam = None,
    fmt: FormatParam = None,
) -> Response:
    """What stood in a theatre on a date: the theatre and every unit under it then."""
    chosen_format = params.output_format(None, fmt)
    return _theater_units(request, context, session, theater_code, query, edition, chosen_format)


@router.get(
    "/theaters/{theater_code}/units.{suffix}",
    response_model=UnitListOut,
    responses=LISTING_RESPONSES,
)
def theater_units_as(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    theater_code: Annotated[str, Path(description="B2, B3, T1 … or the id of a theatre unit")],
    suffix: Annotated[str, Path(description="json, csv or ndjson")],
    query: UnitQueryDep,
    date: Annotated[str | None, Query(description=f"What stood there then. {DateText}")] = None,
    edition: EditionParam = None,
    fmt: FormatParam = None,
) -> Response:
    """What stood in a theatre on a date, as JSON or whole as CSV or NDJSON."""
    chosen_format = params.output_format(suffix, fmt)
    return _theater_units(request, context, session, theater_code, query, edition, chosen_format)


@router.get("/designations", response_model=DesignationListOut, responses=LISTING_RESPONSES)
def designations(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    query: DesignationQueryDep,
    edition: EditionParam = None,
    fmt: FormatParam = None,
) -> Response:
    """Codes and names (symbols, cover names, mailboxes, nicknames …) with units and periods."""
    chosen_format = params.output_format(None, fmt)
    return _listing(DESIGNATIONS, request, context, session, query, edition, chosen_format)


@router.get(
    "/designations.{suffix}", response_model=DesignationListOut, responses=LISTING_RESPONSES
)
def designations_as(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    query: DesignationQueryDep,
    suffix: Annotated[str, Path(description="json, csv or ndjson")],
    edition: EditionParam = None,
    fmt: FormatParam = None,
) -> Response:
    """The designations listing as JSON, or whole as CSV or NDJSON."""
    chosen_format = params.output_format(suffix, fmt)
    return _listing(DESIGNATIONS, request, context, session, query, edition, chosen_format)


@router.get("/units/{unit_id}/tree", response_model=TreeOut, responses=PROBLEMS)
def unit_tree(
    request: Request,
    session: SessionDep,
    unit_id: str,
    date: Annotated[str, Query(description=f"The date of the order of battle. {DateText}")],
    edition: EditionParam = None,
) -> JSONResponse:
    """Order of battle at a date: the units under a unit, recursively, and its parents above."""
    params.known_only(request.query_params.keys(), params.TREE_PARAMS)
    when = params.date("date", date)
    if when is None:
        when = params.required("date")
    chosen = resolve_edition(session, edition)
    return JSONResponse(tree.unit_tree(session, chosen, unit_id, when, base=_base(request)))
