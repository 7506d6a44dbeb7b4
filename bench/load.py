"""A small HTTP load generator for loopback benchmarks: asyncio + httpx, bounded in time.

Posts JSON bodies (one per line of --bodies, in turn) over --connections connections for
--seconds seconds and prints one JSON line: requests, errors, requests/s, p50 and p99 ms.
bench/api.py uses wrk when it is installed and this otherwise.

    python3 bench/load.py http://127.0.0.1:8000/v1/decode --bodies bodies.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx


async def _drive(
    url: str, bodies: list[bytes], connections: int, seconds: float
) -> dict[str, float]:
    host = urlsplit(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise SystemExit("load.py only drives servers on this machine (loopback)")
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"content-type": "application/json"}
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker(start: int) -> None:
            nonlocal errors
            i = start
            while time.perf_counter() < deadline:
                body = bodies[i % len(bodies)]
                i += connections
                began = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - began)
                if response.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    count = len(latencies)
    return {
        "requests": count,
        "errors": errors,
        "seconds": elapsed,
        "rps": count / elapsed if elapsed else 0.0,
        "p50_ms": 1000 * latencies[count // 2] if count else 0.0,
        "p99_ms": 1000 * latencies[min(count - 1, int(count * 0.99))] if count else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    bodies = [line.encode() for line in args.bodies.read_text("utf-8").splitlines() if line]
    result = asyncio.run(_drive(args.url, bodies, args.connections, min(args.seconds, 120.0)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
