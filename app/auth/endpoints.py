"""POST /v1/keys, GET /v1/keys, POST /v1/keys/{id}/revoke (admin)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.auth.deps import WRITE_PROBLEMS, AdminDep
from app.auth.schemas import KeyCreate, KeyCreatedOut, KeyListOut, KeyOut
from app.auth.service import create_key, key_json, list_keys, revoke_key
from app.deps import SessionDep

router = APIRouter(prefix="/v1", tags=["keys"])


@router.post("/keys", response_model=KeyCreatedOut, status_code=201, responses=WRITE_PROBLEMS)
def new_key(body: KeyCreate, actor: AdminDep, session: SessionDep) -> JSONResponse:
    """Make an API key with a role. The answer holds the key; it is never shown again."""
    key, secret = create_key(session, actor, body.role, body.name)
    return JSONResponse({**key_json(key), "secret": secret}, status_code=201)


@router.get("/keys", response_model=KeyListOut, responses=WRITE_PROBLEMS)
def keys(actor: AdminDep, session: SessionDep) -> JSONResponse:
    """Every key, without secrets: who holds it, its role, when it was made or revoked."""
    return JSONResponse({"keys": [key_json(k) for k in list_keys(session)]})


@router.post("/keys/{key_id}/revoke", response_model=KeyOut, responses=WRITE_PROBLEMS)
def revoke(key_id: int, actor: AdminDep, session: SessionDep) -> JSONResponse:
    """Revoke a key: it stops working at once. Revoking twice changes nothing."""
    return JSONResponse(key_json(revoke_key(session, actor, key_id)))
