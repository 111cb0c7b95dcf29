"""Load benchmark: the CTI ``GetAgentSnapshot`` (non-waiting, as Streams' first poll) vs the
health endpoint on the same server, measured in one run.

Starts a real ``connectfed serve`` (SQLite), federates agent1 through boto3, then drives both
endpoints from a second process over keep-alive connections; prints requests/s, p50, p99, ratio.

    .venv/bin/python -m bench.cti_load [--connections 32] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.server import start_server
from tests.support.world import build_world

from bench.federation_load import _connection


def _payload(host: str, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _drive(
    url: str, payload: bytes, connections: int, seconds: float, out: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    parts = urlsplit(url)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def main() -> None:
        stop_at = time.perf_counter() + seconds
        await asyncio.gather(
            *(
                _connection(
                    parts.hostname or "127.0.0.1",
                    parts.port or 80,
                    payload,
                    stop_at,
                    latencies,
                    statuses,
                )
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    server = start_server(Path(tempfile.mkdtemp()), "--throttle-rate", "0")
    try:
        world = build_world(server, "bench")
        token = world.connect_as("agent1").get_federation_token(InstanceId=world.instance_id)[
            "Credentials"
        ]["AccessToken"]
        host = urlsplit(server.url).netloc
        snapshot = _payload(
            host,
            "POST",
            f"/connect/{world.instance_id}/api",
            {
                "X-Amz-Target": "AmazonConnectCTIService.GetAgentSnapshot",
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Bearer": token,
            },
            b"{}",
        )
        health = _payload(host, "GET", "/_connectfed/health", {}, b"")
        measure(server.url, snapshot, 4, 0.5)  # warm caches and connections
        cti = measure(server.url, snapshot, args.connections, args.seconds)
        ceiling = measure(server.url, health, args.connections, args.seconds)
    finally:
        server.stop()
    json.dump(
        {
            "GetAgentSnapshot (no wait)": cti,
            "health endpoint (ceiling)": ceiling,
            "ratio rps (snapshot / ceiling)": cti["rps"] / ceiling["rps"],
            "connections": args.connections,
            "seconds": args.seconds,
        },
        sys.stdout,
        indent=2,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
