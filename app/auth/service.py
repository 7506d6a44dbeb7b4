"""API keys: made at random, shown once, kept only as a hash; checked on every write."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import iso, now, record
from app.auth.actor import Actor
from app.db.models import ApiKey, Role
from app.errors import NotAuthenticated, NotFound, SubmissionInvalid

KEY_PREFIX = "phk_"
SHOWN_PREFIX = 12  # characters of the key kept in clear to tell keys apart ("phk_" + 8)


def hash_secret(secret: str) -> str:
    # A key is 256 random bits, so a fast hash is as safe as a slow one here: there is no
    # dictionary to try. (Slow hashes protect low-entropy passwords.)
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def key_json(key: ApiKey) -> dict[str, Any]:
    """A key as it may be shown: never its secret nor its hash."""
    return {
        "id": key.id,
        "prefix": key.prefix,
        "role": key.role,
        "name": key.name,
        "created_at": iso(key.created_at),
        "created_by": key.created_by,
        "revoked_at": iso(key.revoked_at),
    }


def create_key(session: Session, actor: Actor, role: Role, name: str) -> tuple[ApiKey, str]:
    """A new key; returns it with its secret, which is not stored and cannot be shown again."""
    name = name.strip()
    if not name or len(name) > 200:
        raise SubmissionInvalid(
            "A key needs the name of the person or system holding it (1 to 200 characters).",
            detail_vi="Khóa cần tên người hoặc hệ thống giữ nó (1 đến 200 ký tự).",
            extra={"problems": [{"field": "name", "message": "1 to 200 characters"}]},
        )
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        prefix=secret[:SHOWN_PREFIX],
        secret_hash=hash_secret(secret),
        role=role.value,
        name=name,
        created_at=now(),
        created_by=actor.name,
    )
    session.add(key)
    session.flush()
    record(session, actor, "key.create", f"key:{key.id}", after=key_json(key))
    return key, secret


def list_keys(session: Session) -> Sequence[ApiKey]:
    return session.scalars(select(ApiKey).order_by(ApiKey.id)).all()


def revoke_key(session: Session, actor: Actor, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id, with_for_update=True)
    if key is None:
        raise NotFound(f"There is no key {key_id}.", detail_vi=f"Không có khóa {key_id}.")
    if key.revoked_at is None:
        before = key_json(key)
        key.revoked_at = now()
        session.flush()
        record(session, actor, "key.revoke", f"key:{key.id}", before=before, after=key_json(key))
    return key


def authenticate(session: Session, secret: str | None) -> Actor:
    """The holder of `secret`; 401 if there is none, or it is unknown or revoked."""
    if not secret:
        raise NotAuthenticated(
            "Writing needs an API key: send it as 'Authorization: Bearer <key>' or 'X-API-Key'.",
            detail_vi="Thao tác ghi cần khóa API: gửi trong 'Authorization: Bearer <khóa>' "
            "hoặc 'X-API-Key'.",
        )
    key = session.scalars(select(ApiKey).where(ApiKey.secret_hash == hash_secret(secret))).first()
    if key is None or key.revoked_at is not None:
        raise NotAuthenticated(
            "The API key is not valid (unknown or revoked).",
            detail_vi="Khóa API không hợp lệ (không có hoặc đã bị thu hồi).",
        )
    return Actor(key.id, key.name, Role(key.role))
