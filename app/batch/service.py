"""Batch decoding: many items over the API, whole martyr lists as CSV or XLSX files.

`decode_items` answers a JSON batch (every item the same answer as POST
/v1/decode, with its id; one bad item gets its own error). `decode_table`
reads a list as a stream, decodes its designation column for its date column
and writes the same kind of file with the decode columns added; large files
are shared among worker processes, each with its own database connections and
caches. Nothing is half-written: the output appears only when complete.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import json
import multiprocessing
import operator
import os
import pickle
import queue
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from app.batch.errors import BatchTooLarge, BatchWorkerFailed, TableUnreadable
from app.batch.rows import DECODE_COLUMNS, FORMULA_START, Cells, RowDecoder, Tails, keyed
from app.batch.tables import (
    CsvSink,
    CsvSource,
    Kind,
    Layout,
    RowBlock,
    cell_text,
    find_layout,
    neutralize,
    sniff_kind,
    xlsx_book,
)
from app.context import (
    Context,
    collect_rarely,
    is_list_process,
    pause_list_collector,
    release_list_heap,
)
from app.db.models import Edition, EditionStatus
from app.decode.encode import dumps
from app.decode.resolver import WIDE
from app.decode.service import answer_json, chosen_edition, parse_text
from app.editions.service import edition_ref, resolve_edition
from app.errors import PhienhieuError
from app.parsing.ast import ParseResult
from app.parsing.normalize import fold
from app.settings import Settings

MAX_BATCH_ITEMS = 10_000
CHUNK_ROWS = 4_000
HEAD_ROWS = 30  # rows read to find the header and the columns
TOP_UNRESOLVED = 20
PARALLEL_FROM_BYTES = 4 << 20  # smaller files decode faster than worker processes start
ROUTES_KEPT = 500_000  # distinct designations whose worker is remembered

T = TypeVar("T")
Progress = Callable[[int, float | None], None]  # rows done, share of the input read (or None)


# --- JSON batches -----------------------------------------------------------------------------


class BatchItem(BaseModel):
    """One item of POST /v1/decode/batch."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr | StrictInt | None = None
    text: StrictStr
    date: StrictStr | None = None


def _item_error(index: int, item: Any, exc: PhienhieuError | ValidationError) -> bytes:
    ident = item.get("id") if isinstance(item, dict) else None
    if not isinstance(ident, str | int) or isinstance(ident, bool):
        ident = None
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'item'}: {e['msg']}" for e in exc.errors()
        )
        error = {
            "type": "https://phienhieu.invalid/problems/invalid-item",
            "title": "Invalid item",
            "status": 422,
            "detail": f"Item {index} does not match the API: {problems}",
            "detail_vi": f"Mục {index} không đúng định dạng của API: {problems}",
        }
    else:
        error = {
            "type": f"https://phienhieu.invalid/problems/{exc.slug}",
            "title": exc.title,
            "status": exc.status,
            "detail": exc.detail,
            "detail_vi": exc.detail_vi,
        }
    return json.dumps(
        {"id": ident, "index": index, "error": error}, ensure_ascii=False, separators=(",", ":")
    ).encode()


View = Literal["summary", "full"]


def decode_batch(
    context: Context, items: Sequence[Any], edition: str | int | None, view: View = "summary"
) -> tuple[dict[str, Any], Iterator[bytes]]:
    """The edition that answers and one JSON object per item, in input order.

    Each object is the item's `id` and `index` with, for the "summary" view, what a list's
    decode columns hold (`RowDecoder.summary`: status, unit, chain, score, other
    candidates, warning codes) and, for "full", the whole answer of POST /v1/decode; or
    `{id, index, error}` for a bad item. Refuses more than MAX_BATCH_ITEMS items and an
    unknown edition before any work; after that never raises for an item.
    """
    if len(items) > MAX_BATCH_ITEMS:
        raise BatchTooLarge(
            f"At most {MAX_BATCH_ITEMS} items per batch; got {len(items)}. Split the list "
            "(or send it as a file to POST /v1/decode/file).",
            detail_vi=f"Mỗi lô tối đa {MAX_BATCH_ITEMS} mục; nhận {len(items)}. Hãy chia nhỏ "
            "danh sách (hoặc gửi cả tệp tới POST /v1/decode/file).",
            extra={"max_items": MAX_BATCH_ITEMS, "items": len(items)},
        )
    chosen = chosen_edition(context, edition)
    answers = _answers if view == "full" else _summaries
    return edition_ref(chosen), answers(context, chosen, items)


def _head(index: int, ident: str | int | None) -> bytes:
    """An item's answer up to its own keys: its id and index."""
    return b'{"id":' + dumps(ident) + b',"index":' + str(index).encode() + b","


POOL_FROM_ITEMS = 1_000  # a smaller batch decodes faster than it travels to the workers


def _summaries(context: Context, chosen: Edition, items: Sequence[Any]) -> Iterator[bytes]:
    lines: list[bytes | None] = [None] * len(items)
    valid: list[tuple[int, Any, str, str | None]] = []
    for index, raw in enumerate(items):
        try:
            item = BatchItem.model_validate(raw)
        except ValidationError as exc:
            lines[index] = _item_error(index, raw, exc)
            continue
        valid.append((index, item.id, item.text, item.date))
    pooled = _pooled_summaries(context, chosen, valid)
    done = (
        pooled if pooled is not None else _summary_lines(RowDecoder.shared(context, chosen), valid)
    )
    for (index, *_), line in zip(valid, done, strict=True):
        lines[index] = line
    for each in lines:
        assert each is not None
        yield each


def start_batch_pool(context: Context) -> int:
    """Fork the worker processes that large JSON batches share (`Settings.batch_workers`).

    Called by `phienhieu serve` after `Context.warm` and before the server starts (no
    threads yet): each worker starts with the warmed hierarchy, shared with the server
    until either writes to it. Returns how many were started (0: none, where fork is
    unavailable or one process is asked for).
    """
    workers = context.settings.batch_workers or min(os.cpu_count() or 1, 2)
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    context.batch_pool = _Pool.forked(context, workers)
    return workers


def _pooled_summaries(
    context: Context, chosen: Edition, valid: list[tuple[int, Any, str, str | None]]
) -> list[bytes] | None:
    """The summary lines from the server's worker processes (`Context.batch_pool`), each
    item where its designation's numbers route it; None: decode them here instead (a
    small batch, a draft edition, no pool, the pool busy with another batch or broken)."""
    pool: _Pool | None = context.batch_pool
    if (
        pool is None
        or len(valid) < POOL_FROM_ITEMS
        or chosen.status == "draft"
        or not pool.alive()
        or not pool.lock.acquire(blocking=False)
    ):
        return None
    try:
        chunk = (None, [text for _, _, text, _ in valid], valid)
        for _, routes, parts in pool.run([chunk], _SummaryJob(chosen)):
            return _merged(routes, parts)
    except PhienhieuError:
        pool.broken = True  # a worker failed or died: this and later batches decode here
    finally:
        pool.lock.release()
    return None


def _answers(context: Context, chosen: Edition, items: Sequence[Any]) -> Iterator[bytes]:
    # What the whole batch will read, in a few bulk queries rather than several per item,
    # from the parses each answer then finds remembered (a text is parsed once).
    parses: dict[int, ParseResult] = {}  # each distinct parse once (the parser remembers)
    for raw in items:
        if isinstance(raw, dict) and isinstance(raw.get("text"), str):
            try:
                parsed = parse_text(raw["text"])
            except PhienhieuError:
                continue  # its own answer says why
            parses[id(parsed)] = parsed
    RowDecoder.shared(context, chosen).read_ahead([keyed(p) for p in parses.values()], len(items))
    for index, raw in enumerate(items):
        try:
            item = BatchItem.model_validate(raw)
            answer = answer_json(context, chosen, item.text, item.date, _head(index, item.id))
        except (PhienhieuError, ValidationError) as exc:
            yield _item_error(index, raw, exc)
            continue
        yield answer


async def read_limited(stream: AsyncIterator[bytes], limit: int) -> bytes:
    """A request body, refused past `limit` bytes without reading the rest."""
    parts: list[bytes] = []
    size = 0
    async for part in stream:
        size += len(part)
        if size > limit:
            raise BatchTooLarge(
                f"The file is larger than {limit} bytes; decode larger lists with "
                "`phienhieu batch`.",
                detail_vi=f"Tệp lớn hơn {limit} byte; danh sách lớn hơn hãy giải mã bằng lệnh "
                "`phienhieu batch`.",
            )
        parts.append(part)
    return b"".join(parts)


async def run_blocking(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work (database, files) off the event loop."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(function, *args, **kwargs)


# --- files --------------------------------------------------------------------------------------


@dataclass(slots=True)
class TableSummary:
    """What a decoded list holds: counts per status and the most frequent unresolved codes."""

    kind: Kind
    rows: int = 0
    seconds: float = 0.0
    edition: str = ""
    designation_column: str = ""
    date_column: str | None = None
    workers: int = 1
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    unresolved: collections.Counter[str] = field(default_factory=collections.Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def top_unresolved(self, n: int = TOP_UNRESOLVED) -> list[tuple[str, int]]:
        """The curators' to-do list: unresolved designations by frequency (as first written)."""
        return [(self.examples[k], count) for k, count in self.unresolved.most_common(n)]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "edition": self.edition,
            "designation_column": self.designation_column,
            "date_column": self.date_column,
            "workers": self.workers,
            "statuses": dict(self.statuses.most_common()),
            "top_unresolved": [{"text": t, "rows": c} for t, c in self.top_unresolved()],
        }


@dataclass(frozen=True, slots=True)
class _CsvJob:
    """How to turn a CSV row into its output line: the columns to decode, the delimiter."""

    designation: int
    date: int | None
    delimiter: str

    def pairs(self, items: Sequence[CsvItem]) -> list[tuple[str, str]]:
        d, t = self.designation, self.date
        return [i if type(i) is tuple else (i[d], i[t] if t is not None else "") for i in items]

    def designation_of(self, item: CsvItem) -> str:
        return item[0] if type(item) is tuple else item[self.designation]

    def designations(self, items: Sequence[CsvItem]) -> list[str]:
        d = self.designation
        return [i[0] if type(i) is tuple else i[d] for i in items]


# A CSV row to decode: (its designation, its date) when its original columns are kept as
# written (the output copies its text as read); else its cells, to be written anew.
CsvItem = list[str] | tuple[str, str]


@dataclass(slots=True)
class _CsvChunk:
    """Rows on their way to be decoded: each row's item, and each row's text as read (its
    bytes, when the file is UTF-8), which the output copies where the item is a pair."""

    items: list[CsvItem]
    lines: list[str]
    raws: list[bytes] | None


@lru_cache(maxsize=16)
def _formula_field(delimiter: str) -> re.Pattern[str]:
    """Where a field after the first may start with what Excel would run (its first
    character after a delimiter, past an opening quote). Starting with the delimiter, the
    pattern is found by a fast scan for it (with `^|` in front: 1.6 us a row, not 0.4).
    A row that may hold such a field, or starts with one, is written anew, its cells
    neutralised; a match inside a quoted field only costs that row a re-read."""
    return re.compile(f'{re.escape(delimiter)}"?[=+\\-@\t\r]')


# A line (after the first) of a block that starts with what Excel would run, past an
# opening quote: found by a fast scan for the line break.
_FORMULA_LINE = re.compile('\n"?[=+\\-@\t\r]')


def _kept_as_written(line: str, delimiter: str) -> bool:
    """No field of the row's text may start with what Excel would run (`_formula_field`)."""
    first = line[:1]
    return (
        first not in FORMULA_START
        and (first != '"' or line[1:2] not in FORMULA_START)
        and _formula_field(delimiter).search(line) is None
    )


def _formula_rows(lines: list[str], delimiter: str) -> set[int]:
    """The rows of `lines` that may hold a formula: two fast scans of the block, each row
    they find checked on its own (a line break inside a quoted cell can only add rows)."""
    if not lines:
        return set()
    block = "\n".join(lines)
    hits = [m.start() for m in _formula_field(delimiter).finditer(block)]
    hits.extend(m.start() + 1 for m in _FORMULA_LINE.finditer(block))
    rows = {0}  # the first line's start, which no line break comes before
    if hits:
        starts = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
        rows.update(bisect.bisect_right(starts, hit) - 1 for hit in hits)
    return {i for i in rows if not _kept_as_written(lines[i], delimiter)}


def _decode_pairs(decoder: RowDecoder, pairs: list[tuple[str, str]]) -> list[Cells]:
    """The decode columns of each (designation, date) pair, its reads done in bulk first."""
    decoder.warm(pairs)
    cells = decoder.cells
    return [cells(t, d) for t, d in pairs]


def _tails(decoder: RowDecoder, rows: Sequence[CsvItem], job: _CsvJob) -> Tails:
    """Each row's decode columns as the CSV bytes that follow its text as read, or its
    whole line written anew (`RowDecoder.csv_tails`)."""
    return decoder.csv_tails(rows, job.pairs(rows), job.delimiter)


def _assembled(chunk: _CsvChunk, outs: list[bytes], whole: list[int]) -> bytes:
    """The chunk's output lines: each row's text as read and its decode columns, or the
    line written anew."""
    raws = chunk.raws if chunk.raws is not None else [line.encode() for line in chunk.lines]
    flat = [b""] * (2 * len(outs))
    flat[0::2] = raws
    flat[1::2] = outs
    for index in whole:
        flat[2 * index] = b""
    return b"".join(flat)


class _Decoder:
    """Decodes chunks of rows, here or in worker processes.

    With workers, each row goes to the worker its designation's numbers choose
    ("C3, D4, E9068" and "Đại đội 3, Tiểu đoàn 4, Trung đoàn 9068" alike): texts that
    ask the codebook the same question meet in one worker, so each question is parsed
    and resolved once, not once per worker. CSV rows are written out by the workers too;
    the parent only reads, routes and writes lines. Results come back in input order.
    """

    def __init__(self, context: Context, edition: Edition, workers: int) -> None:
        self.workers = workers
        self._local = RowDecoder(context, edition) if workers <= 1 else None
        self._pool: _Pool | None = None
        if workers > 1:
            self._pool = _Pool.for_list(context, edition, workers)

    def run(
        self, chunks: Iterable[tuple[Any, list[tuple[str, str]]]]
    ) -> Iterator[tuple[Any, list[Cells]]]:
        """(payload, pairs) in, (payload, cells) out, in order; a few chunks in flight at most."""
        if self._local is not None:
            for payload, pairs in chunks:
                yield payload, _decode_pairs(self._local, pairs)
            return
        assert self._pool is not None
        items = ((p, [t for t, _ in pairs], pairs) for p, pairs in chunks)
        for payload, routes, parts in self._pool.run(items, None):
            yield payload, _merged(routes, parts)

    def render(
        self, chunks: Iterable[_CsvChunk], job: _CsvJob
    ) -> Iterator[tuple[_CsvChunk, Tails]]:
        """Chunks of CSV rows in; each with its decode columns (`_tails`) out, in order."""
        if self._local is not None:
            for chunk in chunks:
                yield chunk, _tails(self._local, chunk.items, job)
            return
        assert self._pool is not None
        texts = ((c, job.designations(c.items), c.items) for c in chunks)
        for chunk, routes, parts in self._pool.run(texts, job):
            outs = _merged(routes, [part[0] for part in parts])
            statuses: collections.Counter[str] = collections.Counter()
            # Each worker's rows' places in the chunk, where a worker names some of its rows.
            places = [
                list(itertools.compress(range(len(routes)), map(worker.__eq__, routes)))
                if part[2] or part[3]
                else []
                for worker, part in enumerate(parts)
            ]
            unresolved: list[int] = []
            whole: list[int] = []
            for worker, (_, counts, found, anew) in enumerate(parts):
                statuses.update(counts)
                unresolved.extend(places[worker][i] for i in found)
                whole.extend(places[worker][i] for i in anew)
            yield chunk, (outs, statuses, sorted(unresolved), whole)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


def _merged(routes: list[int], parts: list[list[T]]) -> list[T]:
    """Each worker's results, in order, back into the order of the rows they came from."""
    results = [iter(part) for part in parts]
    return list(map(next, map(results.__getitem__, routes)))  # no Python code per row


_NUMBERS = re.compile(r"\d+")
WORKER_TIMEOUT = 1.0  # seconds between checks that the workers are still alive


class _Pool:
    """Worker processes, each fed the rows routed to it, with one queue for all results."""

    def __init__(
        self,
        settings: dict[str, Any],
        seq: int,
        workers: int,
        inherit: Context | None = None,
        prepared: Context | None = None,
    ) -> None:
        """`workers` processes decoding edition `seq`, each with its own context made from
        `settings`, or (fork only) with `prepared` and its reader of the edition as it
        stands; with `inherit` (fork only), each forked with that context and its
        readers as they stand (a server's warmed hierarchy, shared until written), any
        published edition per task."""
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        mp: Any = multiprocessing.get_context(method)
        self._results: Any = mp.Queue()
        self._tasks: list[Any] = [mp.Queue() for _ in range(workers)]
        self._processes = [
            mp.Process(
                target=_worker_loop if inherit is None else _inherited_loop,
                args=(
                    (settings, seq, tasks, self._results, n, prepared)
                    if inherit is None
                    else (inherit, tasks, self._results, n, os.getpid())
                ),
                daemon=True,
            )
            for n, tasks in enumerate(self._tasks)
        ]
        for process in self._processes:
            process.start()
        # Each designation's worker, by the hash of its text: not the texts themselves (30
        # MiB for a national list). Texts whose hashes collide share a worker, which can
        # only cost a resolution made in both workers.
        self._routes: dict[int, int] = {}
        self._finished = False  # every chunk sent came back: the workers are idle
        self.lock = threading.Lock()  # one caller at a time (the results queue is shared)
        self.broken = False  # a worker failed: callers decode in their own process

    @classmethod
    def for_list(cls, context: Context, edition: Edition, workers: int) -> _Pool:
        """Workers for one list of `edition`.

        In a list's own process (`phienhieu batch`: no other thread, so it may fork), the
        whole hierarchy of a published edition is read here, once, and every worker is
        forked with it, where each read its own (a national one: a second and a half of
        CPU and PostgreSQL time per worker). This process then lets go of its copy (0.1
        s; after rows were read, the memory freed no longer came back whole: 30 MiB).
        """
        settings = context.settings.model_dump()
        if (
            not is_list_process()
            or edition.status == EditionStatus.DRAFT
            or "fork" not in multiprocessing.get_all_start_methods()
        ):
            return cls(settings, edition.seq, workers)
        pause_list_collector()  # and no collection after: the workers' collector stays off
        context.reader(edition).load_whole(WIDE)
        pool = cls(settings, edition.seq, workers, prepared=context)
        context.forget_reader(edition)
        release_list_heap()
        return pool

    @classmethod
    def forked(cls, context: Context, workers: int) -> _Pool:
        """Workers forked from this process with `context` (see `__init__`)."""
        return cls(context.settings.model_dump(), 0, workers, inherit=context)

    def alive(self) -> bool:
        return not self.broken and all(p.is_alive() for p in self._processes)

    def _route(self, text: str, key: int) -> int:
        """The worker of `text` (`key`: its hash)."""
        found = self._routes.get(key)
        if found is None:
            if len(self._routes) >= ROUTES_KEPT:
                self._routes.clear()
            numbers = tuple(_NUMBERS.findall(text))
            found = self._routes[key] = hash(numbers or text) % len(self._tasks)
        return found

    def run(
        self,
        chunks: Iterable[tuple[Any, list[str], Sequence[Any]]],
        job: _CsvJob | _SummaryJob | None,
    ) -> Iterator[tuple[Any, list[int], list[Any]]]:
        """(payload, each item's designation, items) in; (payload, each item's worker, each
        worker's result) out, in order, a few chunks in flight at most. `job` None: an
        item is a (designation, date) pair and its result its cells; else a CSV row."""
        # chunk number -> (payload, each item's worker, results from each worker so far)
        flight: dict[int, tuple[Any, list[int], dict[int, Any]]] = {}
        sent = done = 0
        for payload, texts, items in chunks:
            keys = list(map(hash, texts))
            found = list(map(self._routes.get, keys))  # most designations come again
            routes = (
                [
                    self._route(t, k) if r is None else r
                    for r, t, k in zip(found, texts, keys, strict=True)
                ]
                if None in found
                else cast(list[int], found)
            )
            parts = [
                list(itertools.compress(items, map(worker.__eq__, routes)))
                for worker in range(len(self._tasks))
            ]
            flight[sent] = (payload, routes, {})
            for worker, part in enumerate(parts):
                if part:
                    self._tasks[worker].put((sent, job, part))
                else:
                    flight[sent][2][worker] = ([], {}, [], []) if isinstance(job, _CsvJob) else []
            sent += 1
            while sent - done > 2 * len(self._tasks):
                yield self._next(flight, done)
                done += 1
        while done < sent:
            yield self._next(flight, done)
            done += 1
        self._finished = True

    def _next(
        self, flight: dict[int, tuple[Any, list[int], dict[int, Any]]], number: int
    ) -> tuple[Any, list[int], list[Any]]:
        """Chunk `number` once every worker has sent its part."""
        payload, routes, parts = flight[number]
        while len(parts) < len(self._tasks):
            try:
                chunk, worker, result = self._results.get(timeout=WORKER_TIMEOUT)
            except queue.Empty:
                if not all(p.is_alive() for p in self._processes):
                    raise BatchWorkerFailed(
                        "A worker process stopped before the list was decoded (out of "
                        "memory?); nothing was written. Try again with --workers 1.",
                        detail_vi="Một tiến trình giải mã dừng trước khi xong danh sách (hết bộ "
                        "nhớ?); chưa ghi gì. Hãy thử lại với --workers 1.",
                    ) from None
                continue
            if isinstance(result, BaseException):
                raise result
            flight[chunk][2][worker] = result
        del flight[number]
        return payload, routes, [parts[worker] for worker in range(len(self._tasks))]

    def close(self) -> None:
        """Stop the workers: let idle ones exit, stop at once those left busy by an error."""
        for tasks in self._tasks:
            tasks.put(None)
        for process in self._processes:
            if self._finished:
                process.join(timeout=5)
            if process.is_alive():
                process.terminate()
            process.join()
        for q in (*self._tasks, self._results):
            q.cancel_join_thread()
            q.close()


def _worker_loop(
    settings: dict[str, Any],
    seq: int,
    tasks: Any,
    results: Any,
    n: int,
    prepared: Context | None = None,
) -> None:
    """A worker process: do each (chunk number, job, items) task until told to stop (None).

    Its context is made from `settings`, or is `prepared` as the parent forked it (its
    reader of edition `seq` already holding the whole hierarchy), with its own database
    connections.
    """
    collect_rarely()
    if prepared is not None:
        context = prepared
        context.engine.dispose(close=False)  # the parent's connections stay the parent's
    else:
        context = Context.from_settings(Settings(**settings))
    with context.session() as session:
        edition = session.get(Edition, seq)
        assert edition is not None
        session.expunge(edition)
    decoder = RowDecoder(context, edition)
    while (task := tasks.get()) is not None:
        number, job, items = task
        try:
            if job is None:
                results.put((number, n, _decode_pairs(decoder, items)))
            else:
                results.put((number, n, _tails(decoder, items, job)))
        except BaseException as exc:  # handed to the parent, which raises it
            try:
                pickle.dumps(exc)
            except Exception:  # an exception that cannot cross processes
                exc = BatchWorkerFailed(
                    f"A worker process failed: {exc!r}; nothing was written.",
                    detail_vi=f"Một tiến trình giải mã bị lỗi: {exc!r}; chưa ghi gì.",
                )
            results.put((number, n, exc))
    # Told to stop: what it put is sent, then it leaves without freeing the decoder's few
    # hundred MiB object by object (a quarter of a second at the end of a national list,
    # which the parent waits for). Its database connection is closed properly first.
    results.close()
    results.join_thread()
    context.engine.dispose()
    os._exit(0)


@dataclass(frozen=True, slots=True)
class _SummaryJob:
    """Summaries of JSON batch items: each item (index, id, text, date) to its line."""

    edition: Edition


def _summary_lines(
    decoder: RowDecoder, items: Sequence[tuple[int, Any, str, str | None]]
) -> list[bytes]:
    """Each item's summary line (or its error line), its reads done in bulk first."""
    decoder.warm([(text, date or "") for _, _, text, date in items])
    lines = []
    for index, ident, text, date in items:
        try:
            lines.append(decoder.summary(text, date, _head(index, ident)))
        except PhienhieuError as exc:
            lines.append(_item_error(index, {"id": ident}, exc))
    return lines


def _inherited_loop(context: Context, tasks: Any, results: Any, n: int, parent: int) -> None:
    """A worker forked from a server: its context's readers as the server had them.

    Does each (chunk number, _SummaryJob, items) task until told to stop (None) or the
    server is gone. Connections are its own (the server's stay the server's).
    """
    context.engine.dispose(close=False)
    while True:
        try:
            task = tasks.get(timeout=WORKER_TIMEOUT)
        except queue.Empty:
            if os.getppid() != parent:
                return  # the server died without telling: do not linger
            continue
        if task is None:
            return
        number, job, items = task
        try:
            decoder = RowDecoder.shared(context, job.edition)
            results.put((number, n, _summary_lines(decoder, items)))
        except BaseException as exc:  # handed to the parent, which decodes by itself instead
            results.put(
                (
                    number,
                    n,
                    BatchWorkerFailed(
                        f"A worker process failed: {exc!r}.",
                        detail_vi=f"Một tiến trình giải mã bị lỗi: {exc!r}.",
                    ),
                )
            )


def _chunks(rows: Iterator[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _fit(row: list[Any], width: int, line: int) -> list[Any]:
    """The row padded to the header's width; extra cells must be empty (a trailing delimiter)."""
    if len(row) < width:
        return row + [""] * (width - len(row))
    if len(row) > width:
        if any(c not in ("", None) for c in row[width:]):
            raise TableUnreadable(
                f"Row {line} has {len(row)} cells but the header has {width}.",
                detail_vi=f"Dòng {line} có {len(row)} ô nhưng dòng tiêu đề có {width} ô.",
                extra={"line": line},
            )
        return row[:width]
    return row


def decode_table(
    context: Context,
    source: Path,
    out: Path,
    *,
    column: str | None = None,
    date_column: str | None = None,
    edition: str | int | None = None,
    workers: int = 0,
    progress: Progress | None = None,
    name: str | None = None,
) -> TableSummary:
    """Decode the list at `source` into `out` (same kind); `workers` 0 = by file size."""
    started = time.perf_counter()
    kind = sniff_kind(source, name)
    with context.session() as session:
        chosen = resolve_edition(session, edition)
        session.expunge(chosen)
    if workers <= 0:
        big = source.stat().st_size >= PARALLEL_FROM_BYTES
        workers = min(os.cpu_count() or 1, 2) if big else 1
    summary = TableSummary(kind, edition=chosen.label, workers=workers)
    partial = out.with_name(f".{out.name}.part-{os.getpid()}")
    decoder = _Decoder(context, chosen, workers)
    try:
        if kind == "csv":
            _decode_csv(source, partial, column, date_column, decoder, summary, progress)
        else:
            _decode_xlsx(source, partial, column, date_column, decoder, summary, progress)
        os.replace(partial, out)
    finally:
        decoder.close()
        partial.unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - started
    return summary


def _count(summary: TableSummary, texts: Sequence[str], cells: Sequence[Cells]) -> None:
    statuses = summary.statuses
    for text, row_cells in zip(texts, cells, strict=True):
        status = row_cells[0]
        statuses[status] += 1
        if status == "unresolved":
            _note_unresolved(summary, text)


def _note_unresolved(summary: TableSummary, text: str) -> None:
    """One more row of the curators' to-do list (the first way it was written is shown)."""
    key = fold(text)
    summary.unresolved[key] += 1
    summary.examples.setdefault(key, text)


def _decode_csv(
    source: Path,
    out: Path,
    column: str | None,
    date_column: str | None,
    decoder: _Decoder,
    summary: TableSummary,
    progress: Progress | None,
) -> None:
    table = CsvSource.open(source)
    size = max(source.stat().st_size, 1)
    position = [0]
    blocks = table.row_blocks(position)
    head = RowBlock([], [], [])
    for block in blocks:
        head.extend(block)
        if len(head.rows) >= HEAD_ROWS:
            break
    read = [len(head.rows)]  # rows read so far (the file is read ahead of the decoding)

    def counted(rest: Iterable[RowBlock]) -> Iterator[RowBlock]:
        for block in rest:
            read[0] += len(block.rows)
            yield block

    layout = find_layout(head.rows[:HEAD_ROWS], column, date_column)
    _describe(summary, layout)
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        sink = CsvSink(handle, table.delimiter)
        for above in head.rows[: layout.header_row]:
            sink.write([neutralize(c) for c in above])
        sink.write([neutralize(c) for c in layout.headers] + list(DECODE_COLUMNS))
        handle.flush()  # the rest goes to the file's bytes as the decoders made them
        start = layout.header_row + 1
        job = _CsvJob(layout.designation, layout.date, table.delimiter)

        def chunks() -> Iterator[_CsvChunk]:
            line = start
            for block in _rechunked(_chain([head.sliced(start)], counted(blocks)), CHUNK_ROWS):
                items = _csv_items(block, layout, table.delimiter, line + 1)
                yield _CsvChunk(items, block.lines, block.raws)
                line += len(block.rows)

        for chunk, (outs, statuses, unresolved, whole) in decoder.render(chunks(), job):
            handle.buffer.write(_assembled(chunk, outs, whole))
            summary.statuses.update(statuses)
            for index in unresolved:
                _note_unresolved(summary, job.designation_of(chunk.items[index]))
            summary.rows += len(outs)
            if progress is not None:
                # The share of the bytes read, scaled by the share of the rows read that
                # are written: blocks and chunks in flight run ahead of the rows written.
                progress(summary.rows, position[0] / size * summary.rows / (read[0] - start))


def _rechunked(blocks: Iterable[RowBlock], size: int) -> Iterator[RowBlock]:
    """The rows of `blocks` again, in blocks of `size` (the last one smaller)."""
    pending = RowBlock([], [], [])
    for block in blocks:
        pending.extend(block)
        while len(pending.rows) >= size:
            yield pending.sliced(0, size)
            pending = pending.sliced(size)
    if pending.rows:
        yield pending


def _csv_items(block: RowBlock, layout: Layout, delimiter: str, first: int) -> list[CsvItem]:
    """Each CSV row as its item to decode (`CsvItem`); `first`: the first row's number.

    The usual block (rows as wide as the header, each with its text, none that may hold a
    formula) is made by one comprehension; any other goes row by row.
    """
    rows, lines = block.rows, block.lines
    width, d, t = layout.width, layout.designation, layout.date
    risky = _formula_rows(lines, delimiter)
    if not risky and width > 1 and set(map(len, rows)) <= {width} and "" not in lines:
        if t is None:
            return [(row[d], "") for row in rows]
        return list(map(operator.itemgetter(d, t), rows))  # (designation, date) pairs, in C
    items: list[CsvItem] = []
    for i, (row, text) in enumerate(zip(rows, lines, strict=True)):
        if len(row) != width:
            items.append(_fit(row, width, first + i))
        elif text and (width > 1 or row[0]) and i not in risky:
            # Its original columns kept as written (the csv module would write "" alone
            # for a lone empty cell, nothing before other columns).
            items.append((row[d], row[t] if t is not None else ""))
        else:
            items.append(row)
    return items


def _chain(first: list[T], rest: Iterator[T]) -> Iterator[T]:
    yield from first
    yield from rest


def _describe(summary: TableSummary, layout: Layout) -> None:
    summary.designation_column = layout.headers[layout.designation]
    summary.date_column = layout.headers[layout.date] if layout.date is not None else None


def _xlsx_value(value: Any) -> Any:
    return neutralize(value) if isinstance(value, str) else value


def _decode_xlsx(
    source: Path,
    out: Path,
    column: str | None,
    date_column: str | None,
    decoder: _Decoder,
    summary: TableSummary,
    progress: Progress | None,
) -> None:
    from openpyxl import Workbook

    result = Workbook(write_only=True)
    decoded = False
    error: PhienhieuError | None = None
    with xlsx_book(source) as book:
        for sheet in book.worksheets:
            target = result.create_sheet(sheet.title)
            rows = (list(r) for r in sheet.iter_rows(values_only=True))
            if decoded:
                for row in rows:
                    target.append([_xlsx_value(v) for v in row])
                continue
            head: list[list[Any]] = []
            for row in rows:
                head.append(row)
                if len(head) >= 30:
                    break
            try:
                layout = find_layout(head, column, date_column)
            except PhienhieuError as exc:
                error = error or exc
                for row in _chain(head, rows):
                    target.append([_xlsx_value(v) for v in row])
                continue
            decoded = True
            _describe(summary, layout)
            total = sheet.max_row if isinstance(sheet.max_row, int) and sheet.max_row > 0 else None
            for row in head[: layout.header_row]:
                target.append([_xlsx_value(v) for v in row])
            target.append([_xlsx_value(v) for v in layout.headers] + list(DECODE_COLUMNS))
            body = _chain(head[layout.header_row + 1 :], rows)

            def chunks(
                body: Iterator[list[Any]] = body, layout: Layout = layout
            ) -> Iterator[tuple[Any, list[tuple[str, str]]]]:
                d, t = layout.designation, layout.date
                for chunk in _chunks(body, CHUNK_ROWS):
                    fitted = [r + [None] * (layout.width - len(r)) for r in chunk]
                    pairs = [
                        (cell_text(r[d]), cell_text(r[t]) if t is not None else "") for r in fitted
                    ]
                    yield (fitted, [p[0] for p in pairs]), pairs

            for (fitted, texts), cells in decoder.run(chunks()):
                for row, row_cells in zip(fitted, cells, strict=True):
                    target.append([_xlsx_value(v) for v in row] + list(row_cells))
                _count(summary, texts, cells)
                summary.rows += len(fitted)
                if progress is not None:
                    progress(summary.rows, min(summary.rows / total, 1.0) if total else None)
    if not decoded:
        if error is not None:
            raise error
        raise TableUnreadable("The workbook has no rows.", detail_vi="Sổ tính không có dòng nào.")
    result.save(out)


# --- one uploaded file in memory (POST /v1/decode/file, the /batch page) -------------------------

MAX_FILE_BYTES = 64 * 1024 * 1024
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True, slots=True)
class DecodedFile:
    """A decoded list: the file to send back and what it holds."""

    filename: str
    media_type: str
    content: bytes
    summary: TableSummary


def decoded_name(filename: str, kind: Kind) -> str:
    stem = Path(filename or "danh-sach").name.rsplit(".", 1)[0] or "danh-sach"
    return f"{stem}.giai-ma.{kind}"


def decode_file(
    context: Context,
    session: Any,
    filename: str,
    content: bytes,
    *,
    edition: str | int | None = None,
    column: str | None = None,
    date_column: str | None = None,
) -> DecodedFile:
    """Decode one uploaded CSV/XLSX list (bytes in, bytes out), in this process."""
    import tempfile

    if len(content) > MAX_FILE_BYTES:
        raise BatchTooLarge(
            f"The file is {len(content)} bytes; at most {MAX_FILE_BYTES} are accepted here. "
            "Decode larger lists with `phienhieu batch`.",
            detail_vi=f"Tệp dài {len(content)} byte; chỉ nhận tối đa {MAX_FILE_BYTES} byte. "
            "Danh sách lớn hơn hãy giải mã bằng lệnh `phienhieu batch`.",
        )
    if not content.strip():
        raise TableUnreadable("The file is empty.", detail_vi="Tệp trống, không có dòng nào.")
    resolve_edition(session, edition)  # an unknown edition is refused before any work
    with tempfile.TemporaryDirectory(prefix="phienhieu-") as folder:
        source = Path(folder) / "in"
        source.write_bytes(content)
        kind = sniff_kind(source, filename)
        out = Path(folder) / f"out.{kind}"
        summary = decode_table(
            context,
            source,
            out,
            column=column,
            date_column=date_column,
            edition=edition,
            workers=1,
            name=filename,
        )
        return DecodedFile(
            decoded_name(filename, kind), MEDIA_TYPES[kind], out.read_bytes(), summary
        )
