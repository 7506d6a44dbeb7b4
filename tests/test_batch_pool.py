"""`phienhieu serve`'s batch workers: a large JSON batch shared among forked processes.

Real servers on SQLite and PostgreSQL, one with two batch workers and one without; the
same batch must come back byte for byte the same from both, and from the one with
workers after a worker is killed (it then decodes in its own process).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DatabaseFactory  # type: ignore[import-not-found]  # pytest puts tests/ on the path

from app.batch.service import POOL_FROM_ITEMS

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = [
    json.loads(line)
    for line in (ROOT / "tests" / "data" / "decode_golden.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]
# More items than the pool starts from: the golden cases again and again, bad items among them.
ITEMS: list[Any] = []
while len(ITEMS) < POOL_FROM_ITEMS + 200:
    for case in GOLDEN:
        ITEMS.append({"id": f"LS-{len(ITEMS)}", "text": case["text"], "date": case["date"]})
    ITEMS += [{"id": len(ITEMS), "text": "B3", "date": "32/13/1970"}, "not an item"]
    ITEMS += [{"id": len(ITEMS) + 1, "text": "C" * 501}, {"text": "Công trường 9"}]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Server:
    def __init__(self, url: str, workers: int, folder: Path) -> None:
        self.log = folder / f"server-{workers}.log"
        self.port = _free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PHIENHIEU_")},
            "PHIENHIEU_DATABASE_URL": url,
            "PHIENHIEU_AUTO_INIT": "true",
            "PHIENHIEU_BATCH_WORKERS": str(workers),
        }
        command = [sys.executable, "-c", "from app.cli import main; main()", "serve"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, self.log.read_text()
                time.sleep(0.2)

    def batch(self, body: dict[str, Any], accept: str = "application/json") -> bytes:
        request = urllib.request.Request(
            f"{self.url}/v1/decode/batch",
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json", "accept": accept},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            assert response.status == 200
            content: bytes = response.read()
            return content

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def servers(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    folder = tmp_path_factory.mktemp("pool")
    url = databases.new()
    alone = Server(url, 1, folder)  # migrates and loads the sample edition first
    pooled = Server(url, 2, folder)
    try:
        yield alone, pooled
    finally:
        for server in (alone, pooled):
            server.stop()
            assert "Traceback" not in server.log.read_text(), server.log.read_text()


@pytest.mark.parametrize("accept", ["application/json", "application/x-ndjson"])
def test_a_pooled_batch_is_the_batch_decoded_in_one_process(
    servers: tuple[Server, Server], accept: str
) -> None:
    alone, pooled = servers
    assert _children(alone.process.pid) == []
    assert len(_children(pooled.process.pid)) == 2
    body = {"items": ITEMS}
    expected = alone.batch(body, accept)
    assert pooled.batch(body, accept) == expected
    assert pooled.batch(body, accept) == expected  # again, from what the workers remember
    results = (
        json.loads(expected)["results"]
        if accept == "application/json"
        else [json.loads(line) for line in expected.splitlines()]
    )
    assert [r.get("index") for r in results] == list(range(len(ITEMS)))
    assert {r["status"] for r in results if "status" in r} >= {"resolved", "ambiguous"}
    assert sum("error" in r for r in results) >= 3 * (len(ITEMS) // (len(GOLDEN) + 4))


def test_the_full_view_is_not_pooled_and_agrees(servers: tuple[Server, Server]) -> None:
    alone, pooled = servers
    body = {"items": ITEMS[:POOL_FROM_ITEMS], "view": "full"}
    assert pooled.batch(body) == alone.batch(body)


def test_a_dead_worker_leaves_the_batches_to_the_server(servers: tuple[Server, Server]) -> None:
    alone, pooled = servers
    items = [{**item, "id": f"again-{item.get('id')}"} for item in ITEMS if isinstance(item, dict)]
    body = {"items": items}
    expected = alone.batch(body)
    os.kill(_children(pooled.process.pid)[0], signal.SIGKILL)
    assert pooled.batch(body) == expected
    assert pooled.batch(body) == expected


def test_the_workers_end_with_the_server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    server = Server(databases.new(), 2, tmp_path_factory.mktemp("pool-end"))
    workers = _children(server.process.pid)
    assert len(workers) == 2
    server.stop()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, "a batch worker outlived its server"
        time.sleep(0.1)
    assert "Traceback" not in server.log.read_text(), server.log.read_text()
