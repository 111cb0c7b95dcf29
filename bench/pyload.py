"""A load generator in Python, for machines without ``wrk``: many keep-alive connections from a
second process replaying one raw request, reporting requests/s, p50 and p99 (``bench.loadgen``
builds the request with :func:`~bench.loadgen.raw_request`). ``wrk`` goes further
(``bench.side_by_side``); this one needs nothing installed."""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from typing import Any
from urllib.parse import urlsplit


async def _connection(
    host: str,
    port: int,
    payload: bytes,
    stop_at: float,
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def _drive(url: str, payload: bytes, connections: int, seconds: float, out: Any) -> None:
    parts = urlsplit(url)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def main() -> None:
        stop_at = time.perf_counter() + seconds
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        await asyncio.gather(
            *(
                _connection(host, port, payload, stop_at, latencies, statuses)
                for _ in range(connections)
            )
        )

    began = time.perf_counter()
    asyncio.run(main())
    out.put(
        {
            "requests": len(latencies),
            "elapsed": time.perf_counter() - began,
            "statuses": statuses,
            "latencies": latencies,
        }
    )


def measure(url: str, payload: bytes, connections: int, seconds: float) -> dict[str, float]:
    """Replay ``payload`` on ``connections`` connections for ``seconds``, from another process;
    every answer must be a 200."""
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    worker = multiprocessing.Process(
        target=_drive, args=(url, payload, connections, seconds, queue)
    )
    worker.start()
    result = queue.get()
    worker.join()
    if set(result["statuses"]) != {200}:
        raise SystemExit(f"non-200 responses: {result['statuses']}")
    latencies = sorted(result["latencies"])
    return {
        "rps": result["requests"] / result["elapsed"],
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "requests": result["requests"],
    }
