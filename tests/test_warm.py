"""`phienhieu serve` warms the default edition before it listens (Context.warm)."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from app.auth.actor import cli_actor
from app.context import Context
from app.db import migrate
from app.db.models import Assignment
from app.decode.repository import EditionReader
from app.decode.resolver import resolve
from app.decode.service import answer_json, chosen_edition
from app.editions.service import import_into, open_draft
from app.parsing import parse
from app.parsing.dates import parse_date
from app.settings import Settings
from codebook.bundle import SAMPLE_BUNDLE, bundle_from_files
from codebook.store import visible


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # warm() freezes the heap; give the test process its collector back


class _Seen(list[str]):
    """The SQL statements an engine runs while listened to."""

    def note(self, *args: Any) -> None:
        self.append(args[2])


def _queries(context: Context) -> _Seen:
    seen = _Seen()
    event.listen(context.engine, "before_cursor_execute", seen.note)
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


def test_a_cold_decode_reads_all_ancestors_in_one_query(sample_context: Context) -> None:
    edition = chosen_edition(sample_context, None)
    reader = EditionReader(sample_context.session_factory, edition.seq)  # has read nothing
    seen = _queries(sample_context)
    try:
        result = resolve(parse("C11.D3.E1.F2.QK5"), parse_date("1968"), reader)
    finally:
        event.remove(sample_context.engine, "before_cursor_execute", seen.note)
    assert result.candidates  # Quân khu 5 at least: a chain was climbed
    climbs = [q for q in seen if "parent_link" in q]
    assert len(climbs) == 1, climbs  # one recursive query, not one per level


def test_common_keys_are_read_whole_once(sample_context: Context) -> None:
    edition = chosen_edition(sample_context, None)
    reader = EditionReader(sample_context.session_factory, edition.seq)
    # The sample has no code as common as "Đại đội 3" nationally; ask for any code that
    # more than one assignment carries.
    keys = reader.load_common_keys(1)
    assert keys
    seen = _queries(sample_context)
    try:
        counts = reader.key_counts(tuple(keys))
        facts = reader.assignments(tuple(keys))
    finally:
        event.remove(sample_context.engine, "before_cursor_execute", seen.note)
    assert not seen, seen  # all in memory already
    assert all(counts[k] > 1 for k in keys)
    assert {f.match_key for f in facts} == set(keys)


def _visible_key_counts(context: Context, seq: int) -> dict[str, int]:
    """Each match key's assignments in edition `seq`, counted here without the reader."""
    with context.session() as session:
        rows = session.execute(
            select(Assignment.match_key, func.count())
            .where(visible(Assignment, seq))
            .group_by(Assignment.match_key)
        )
        return {key: int(count) for key, count in rows}


def test_common_keys_are_those_of_the_edition_not_of_rows_it_replaced(
    fresh_context: Context,
) -> None:
    # The common keys are counted over this edition's rows and the rows it replaced (a scan
    # of one index), then checked exactly: a key whose rows a later edition cut to one
    # must not come back as common there, and no common key may be missed.
    context = fresh_context
    sample = chosen_edition(context, None)
    before = EditionReader(context.session_factory, sample.seq)
    pair = next(k for k in before.load_common_keys(1) if before.key_counts((k,))[k] == 2)
    cut = before.assignments((pair,))[0]
    files = {
        name: (SAMPLE_BUNDLE / name).read_text("utf-8")
        for name in ("sources.csv", "units.csv", "assignments.csv", "parent_links.csv", "areas.csv")
    }
    lines = files["assignments.csv"].splitlines(keepends=True)
    start = f"{cut.unit_id},{cut.kind},{cut.code},"
    files["assignments.csv"] = "".join(line for line in lines if not line.startswith(start))
    assert len(files["assignments.csv"]) < sum(map(len, lines))
    with context.session() as session:
        draft = open_draft(session, cli_actor(), "cut-2")
        import_into(session, cli_actor(), draft.seq, bundle_from_files(files, label="cut-2"))
        seq = draft.seq
    with context.session() as session:
        replaced = session.scalar(
            select(func.count()).where(
                Assignment.match_key == pair, Assignment.superseded_in == seq
            )
        )
    assert replaced == 1  # the old row stays, for the sample edition: the case to get right
    for edition in (sample.seq, seq):
        counts = _visible_key_counts(context, edition)
        for more_than in (0, 1, 2):
            reader = EditionReader(context.session_factory, edition)
            expected = sorted(k for k, n in counts.items() if n > more_than)
            assert reader.load_common_keys(more_than) == expected, (edition, more_than)
    assert pair not in EditionReader(context.session_factory, seq).load_common_keys(1)


def test_after_the_common_keys_any_other_key_is_read_whole_and_counted_as_read(
    sample_context: Context,
) -> None:
    # Once the keys with more than N assignments are read whole, every other key has at
    # most N: `key_counts` reads them instead of counting them (one query for a batch
    # chunk where there were two). The counts must still be exact, unknown keys zero.
    edition = chosen_edition(sample_context, None)
    counts = _visible_key_counts(sample_context, edition.seq)
    unknown = ("company:99999", "division:nowhere")
    keys = (*counts, *unknown)
    for more_than in (0, 1, 2):
        reader = EditionReader(sample_context.session_factory, edition.seq)
        common = reader.load_common_keys(more_than)
        seen = _queries(sample_context)
        try:
            found = reader.key_counts(keys)
            asked = len(seen)
            facts = reader.assignments(keys)
        finally:
            event.remove(sample_context.engine, "before_cursor_execute", seen.note)
        assert found == {**counts, **dict.fromkeys(unknown, 0)}, more_than
        assert asked >= 1, more_than  # the keys not common were read now
        assert not any("count(" in q.lower() for q in seen), seen
        assert len(seen) == asked, seen[asked:]  # their assignments came with their counts
        assert len(facts) == sum(counts.values())
        assert all(counts[k] > more_than for k in common)


def test_assignments_of_units_answers_each_set_of_units_alike_when_asked_again(
    sample_context: Context,
) -> None:
    edition = chosen_edition(sample_context, None)
    reader = EditionReader(sample_context.session_factory, edition.seq)
    keys = reader.load_common_keys(1)
    holders = {k: sorted({f.unit_id for f in reader.assignments((k,))}) for k in keys}
    key = next(k for k in keys if len(holders[k]) > 1)
    first, second = holders[key][0], holders[key][1]

    def expected(units: set[str]) -> list[Any]:
        facts = [f for f in reader.assignments((key,)) if f.unit_id in units]
        return sorted(facts, key=lambda f: f.unit_id)  # (unit, row) order

    one = frozenset({first, "no-such-unit"})
    other = frozenset({second})
    answers = [
        reader.assignments_of_units(key, one),
        reader.assignments_of_units(key, other),  # another set: not the remembered answer
        reader.assignments_of_units(key, one),  # the same set again: remembered
        reader.assignments_of_units(key, frozenset(one)),  # an equal set
        reader.assignments_of_units(key, [first, "no-such-unit"]),  # not a frozenset
    ]
    assert answers[0] == expected({first})
    assert answers[0]
    assert answers[1] == expected({second})
    assert answers[1] != answers[0]
    assert answers[2] == answers[3] == answers[4] == answers[0]


_LIST_HEAP = """
import gc, sys
from app.batch.rows import WHOLE_HIERARCHY_FROM, RowDecoder
from app.context import Context, collect_rarely
from app.decode.service import chosen_edition
from app.settings import Settings
if sys.argv[2] == "list":
    collect_rarely()
context = Context.from_settings(Settings(database_url=sys.argv[1]))
decoder = RowDecoder(context, chosen_edition(context, None))
# Whether the collector was on when collections started: a list's process collects once,
# after the hierarchy is read with the collector off; a server's collector stays on.
on_at = []
gc.callbacks.append(lambda phase, info: phase == "start" and on_at.append(gc.isenabled()))
decoder.warm([("C9, D6, E270", "1968")] * WHOLE_HIERARCHY_FROM)
print(gc.get_freeze_count() > 0, gc.get_threshold()[0], gc.isenabled(), sorted(set(on_at)))
"""


@pytest.mark.parametrize(
    ("process", "frozen", "young", "collects", "collections"),
    [("list", True, 50_000, False, "[False]"), ("server", False, 700, True, "[True]")],
)
def test_a_list_process_freezes_the_hierarchy_and_stops_collecting_a_server_does_not(
    sample_context: Context,
    process: str,
    frozen: bool,
    young: int,
    collects: bool,
    collections: str,
) -> None:
    # A process of its own: the collector's settings are the whole process's.
    done = subprocess.run(
        [sys.executable, "-c", _LIST_HEAP, sample_context.settings.database_url, process],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip().split(maxsplit=3) == [
        str(frozen),
        str(young),
        str(collects),
        collections,
    ]
