"""Shared by the benches: run a process tree and measure its wall time, CPU and memory."""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PSS_EVERY = 0.5  # seconds between PSS samples, once the first half second is past


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(_children(current))
    return found


def _kib(pid: int, name: str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class Run:
    wall: float
    cpu: float  # user + system of the whole tree
    peak_rss_mib: float  # largest sum of RSS over the tree at one moment
    peak_pss_mib: float  # same, proportional set size (shared pages counted once)
    max_process_rss_mib: float  # the largest single process
    returncode: int
    stdout: str
    stderr: str


def run(command: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run `command`, sampling the memory of it and its children (at most every 50 ms)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = {"rss": 0, "pss": 0, "one": 0}
    done = threading.Event()

    def sample() -> None:
        # Every 2 ms at first, slowing to every 50 ms: a process that lives a tenth of a
        # second (a small smoke run) is still seen many times after its start. PSS at most
        # every PSS_EVERY s: the kernel walks a process's page tables to sum it (4 ms for
        # a 470 MiB worker, holding its memory map's lock), so sampling it every 50 ms took
        # a fifth of a core from what was measured and slowed the national run by 8 s.
        pause = 0.002
        pss_due = 0.0
        while not done.is_set():
            pids = _tree(process.pid)
            each = [_kib(p, "status", "VmRSS:") for p in pids]
            peak["rss"] = max(peak["rss"], sum(each))
            peak["one"] = max(peak["one"], *each, 0)
            now = time.perf_counter()
            if now >= pss_due:
                pss = sum(_kib(p, "smaps_rollup", "Pss:") for p in pids)
                peak["pss"] = max(peak["pss"], pss)
                pss_due = now + (PSS_EVERY if now - started > PSS_EVERY else pause)
            done.wait(pause)
            pause = min(pause * 1.25, 0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(
        wall,
        cpu,
        peak["rss"] / 1024,
        peak["pss"] / 1024,
        # Sampled, as the sums are: the children's ru_maxrss would also count processes
        # this one ran before (a bench that generated its data first showed theirs).
        peak["one"] / 1024,
        process.returncode,
        stdout,
        stderr,
    )


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"
