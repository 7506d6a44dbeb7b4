"""`phienhieu serve` warms the default edition before it listens (Context.warm)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from app.context import Context
from app.db import migrate
from app.decode.service import answer_json, chosen_edition
from app.settings import Settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # warm() freezes the heap; give the test process its collector back


def _queries(context: Context) -> list[str]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(context.engine, "before_cursor_execute", note)
    return seen


def test_warm_reads_the_hierarchy_so_a_first_decode_climbs_without_queries(
    empty_db_url: str, unfrozen: None
) -> None:
    context = Context.from_settings(Settings(database_url=empty_db_url, auto_init=True))
    try:
        context.ensure_ready()
        reader = context.warm()
        assert reader is not None
        assert gc.get_freeze_count() > 0
        edition = chosen_edition(context, None)
        assert context.reader(edition) is reader  # the reader decodes will use
        seen = _queries(context)
        answer_json(context, edition, "Công trường 9", "27/1/1968")
        # Units, parent links and areas come from memory: only the match keys are read.
        assert seen, "the match keys themselves are still read on demand"
        assert not [q for q in seen if "parent_link" in q or "unit_revision" in q], seen
    finally:
        context.close()


def test_warm_with_nothing_published_does_nothing(empty_db_url: str, unfrozen: None) -> None:
    context = Context.from_settings(Settings(database_url=empty_db_url, auto_init=False))
    try:
        migrate.upgrade(context.engine)
        assert context.warm() is None
    finally:
        context.close()
