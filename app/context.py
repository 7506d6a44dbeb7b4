"""The running service's shared objects, built once from settings (by the app or the CLI)."""

from __future__ import annotations

import ctypes
import fcntl
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.auth.actor import SYSTEM
from app.db import migrate
from app.db.engine import make_engine, make_session_factory
from app.db.models import Edition, EditionStatus
from app.decode.repository import EditionReader
from app.decode.resolver import WIDE
from app.editions.service import import_new_edition, resolve_edition
from app.errors import DatabaseNotReady, PhienhieuError
from app.settings import Settings
from codebook.bundle import SAMPLE_BUNDLE, read_bundle
from codebook.store import edition_count


def settle_heap() -> None:
    """Collect once, then keep the garbage collector off everything alive now.

    After a reader has cached a national hierarchy (10^5 facts that live as long as the
    process), every full collection would walk them again for nothing.
    """
    gc.collect()
    gc.freeze()


# Allocations between young collections, young collections between middle ones, middle
# ones between full ones (CPython's defaults: 700, 10, 10).
LIST_GC_THRESHOLDS = (50_000, 50, 1_000)
M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def collect_rarely() -> None:
    """For a process that decodes a list and then exits (`phienhieu batch`, its workers).

    A national list allocates ~10^7 short-lived containers, freed by reference counting;
    at the default thresholds the collector ran ~7,000 times a worker and walked
    everything alive a dozen times (4 s of 38) to find almost no cyclic garbage (2,315
    objects over 400,000 rows), so it runs a hundredth as often.

    Its threads also share one malloc arena (glibc's `M_ARENA_MAX`; nothing elsewhere):
    the common keys read beside the hierarchy in a second thread (`load_whole`) left a
    second arena that cost each worker forked after it 30 MiB.
    """
    gc.set_threshold(*LIST_GC_THRESHOLDS)
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1)


def is_list_process() -> bool:
    """This process decodes one list and exits (`collect_rarely` set its thresholds)."""
    return gc.get_threshold() == LIST_GC_THRESHOLDS


def release_list_heap() -> None:
    """In a list's process that has let go of a large part of its heap (the reader its
    workers were forked with), collect what was cyclic in it, give the memory back
    (glibc's allocator keeps the pieces of its heap otherwise; `malloc_trim` is glibc's
    only) and collect (rarely) again from now on."""
    gc.collect()
    gc.enable()
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def pause_list_collector() -> None:
    """In a list's process (`collect_rarely` set its thresholds), no collection from now on:
    the whole hierarchy it is about to read (10^5 facts, all kept for good) holds no garbage
    to find, and `settle_list_heap` collects once when it is read. A server is untouched."""
    if is_list_process():
        gc.disable()


def settle_list_heap() -> None:
    """`settle_heap` in a list's process (`collect_rarely` set its thresholds) once it has
    read a whole hierarchy, then no collector at all; not in a server (`Context.warm`
    settled it before serving; a collection there holds every request up).

    What a list's process allocates from then on is freed by reference counting but for
    a few thousand cyclic objects over a national list, and the process exits when the
    list is done; the rare collections still cost each worker most of a second.
    """
    if is_list_process():
        settle_heap()
        gc.disable()


@dataclass
class Context:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    _readers: dict[int, EditionReader] = field(default_factory=dict)
    # Worker processes for large JSON batches (app.batch.service.start_batch_pool), forked
    # by `phienhieu serve` once the hierarchy is read; None: batches decode in this process.
    batch_pool: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_session_factory(engine))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed if it ends normally, rolled back otherwise."""
        with self.session_factory() as session, session.begin():
            yield session

    def reader(self, edition: Edition) -> EditionReader:
        """A reader of `edition`; published editions never change, so theirs is shared."""
        if edition.status == EditionStatus.DRAFT:
            return EditionReader(self.session_factory, edition.seq)
        with self._lock:
            reader = self._readers.get(edition.seq)
            if reader is None:
                reader = self._readers[edition.seq] = EditionReader(
                    self.session_factory, edition.seq
                )
            return reader

    def forget_reader(self, edition: Edition) -> None:
        """Drop this process's reader of `edition` (and all it keeps)."""
        with self._lock:
            self._readers.pop(edition.seq, None)

    def initialise(self) -> bool:
        """Migrate and load the sample edition if the database is new. True if it did anything."""
        with self._init_lock():
            fresh = "edition" not in inspect(self.engine).get_table_names()
            migrate.upgrade(self.engine)
            with self.session() as session:
                if edition_count(session) == 0:
                    import_new_edition(session, SYSTEM, read_bundle(SAMPLE_BUNDLE), publish=True)
                    return True
            return fresh

    def ensure_ready(self) -> None:
        """Initialise on first use where configured; otherwise insist on a migrated database."""
        try:
            if self.settings.should_auto_init:
                self.initialise()
            elif not migrate.is_current(self.engine):
                raise DatabaseNotReady(
                    "The database has not been migrated to this version of phienhieu; "
                    "run `phienhieu db upgrade` (then `phienhieu codebook import --sample` "
                    "or your own bundle).",
                    detail_vi="Cơ sở dữ liệu chưa được cập nhật cho phiên bản phienhieu này; "
                    "hãy chạy `phienhieu db upgrade` (rồi `phienhieu codebook import --sample` "
                    "hoặc gói dữ liệu của bạn).",
                )
        except OperationalError as exc:
            raise DatabaseNotReady(
                f"Cannot reach the database: {exc.orig or exc}",
                detail_vi=f"Không kết nối được cơ sở dữ liệu: {exc.orig or exc}",
            ) from None

    @contextmanager
    def _init_lock(self) -> Iterator[None]:
        """Two processes starting on a new SQLite file must not both migrate it."""
        url = make_url(self.settings.database_url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            yield
            return
        lock_path = Path(url.database + ".init-lock")
        with lock_path.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def warm(self) -> EditionReader | None:
        """Before serving: read the default edition's whole hierarchy, then freeze the heap.

        The first decodes then climb parents without a query each and narrow the codes that
        thousands of units share ("Đại đội 3") in memory, a first batch does not wait for
        the hierarchy, and the garbage collector stops walking the 10^5 cached
        facts of a national codebook over and over (gc.freeze): those walks were the
        slowest requests. Returns the warmed reader (None: nothing is published yet).
        """
        try:
            with self.session() as session:
                edition = resolve_edition(session, None)
                session.expunge(edition)
        except PhienhieuError:
            return None  # nothing published yet: the first decode says so
        reader = self.reader(edition)
        if reader.load_whole(WIDE):
            settle_heap()
        return reader

    def refresh_statistics(self) -> None:
        """After a large import: fresh planner statistics and visibility maps of the codebook
        tables (PostgreSQL).

        Without statistics PostgreSQL guesses how many rows a match key holds and scans a
        million assignments where an index finds a few hundred (0.4 s instead of 18 ms a
        query); without a vacuum's visibility map it cannot count keys from the index alone,
        so a batch's first look at the common keys hashes a million rows (0.8 s instead of
        0.2 s, in each of its processes). Autovacuum would get there, but maybe not before
        the first batch.
        """
        if self.engine.dialect.name != "postgresql":
            return  # SQLite plans from its indexes alone
        # VACUUM cannot run in a transaction; each statement commits on its own.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in (
                "unit_revision",
                "assignment",
                "assignment_search",  # distinct codes (migration 0008)
                "parent_link",
                "area",
                "source",
            ):
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")

    def close(self) -> None:
        if self.batch_pool is not None:
            self.batch_pool.close()
            self.batch_pool = None
        self.engine.dispose()
