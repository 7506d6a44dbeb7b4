"""Record writes and read the log. Records are only ever inserted (the database refuses more)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.models import AuditEvent

MAX_PAGE = 500


def canonical_json(value: Any) -> str:
    """One text for one value: sorted keys, no spaces, diacritics kept."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC; SQLite hands back naive times, which were written as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat()


def record(
    session: Session,
    actor: Actor,
    action: str,
    target: str,
    *,
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Log one write in the caller's transaction: it is kept exactly when the write is."""
    event = AuditEvent(
        at=now(),
        actor_key=actor.key_id,
        actor=actor.name,
        role=actor.role.value,
        action=action,
        target=target,
        before=None if before is None else canonical_json(before),
        after=None if after is None else canonical_json(after),
    )
    session.add(event)
    session.flush()
    return event


def list_events(
    session: Session,
    *,
    after: int = 0,
    limit: int = 100,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
) -> Sequence[AuditEvent]:
    """Events after id `after`, oldest first (page with the last id seen)."""
    query = select(AuditEvent).where(AuditEvent.id > after)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if target:
        query = query.where(AuditEvent.target == target)
    return session.scalars(query.order_by(AuditEvent.id).limit(min(limit, MAX_PAGE))).all()


def event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso(event.at),
        "actor": {"key": event.actor_key, "name": event.actor, "role": event.role},
        "action": event.action,
        "target": event.target,
        "before": None if event.before is None else json.loads(event.before),
        "after": None if event.after is None else json.loads(event.after),
    }


def audit_page(
    session: Session,
    *,
    after: int,
    limit: int,
    action: str | None,
    actor: str | None,
    target: str | None,
) -> dict[str, Any]:
    events = list_events(
        session, after=after, limit=limit, action=action, actor=actor, target=target
    )
    full = len(events) == min(limit, MAX_PAGE)
    return {
        "events": [event_json(e) for e in events],
        "next_after": events[-1].id if events and full else None,
    }
