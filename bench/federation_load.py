"""Load benchmark: GetFederationToken vs a trivial endpoint on the same server stack.

Starts a real ``connectfed serve`` (SQLite, throttling off), builds a federation world through
boto3, then drives both endpoints from a second process over many keep-alive connections with
signed requests and reports requests/s, p50 and p99 for each, and the ratio, measured in one run.

    .venv/bin/python -m bench.federation_load [--connections 32] [--seconds 5]
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

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from tests.support.server import start_server
from tests.support.world import build_world


def _raw_request(host: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


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


def _drive(
    url: str,
    path: str,
    headers: dict[str, str],
    connections: int,
    seconds: float,
    out: multiprocessing.Queue,
) -> None:  # type: ignore[type-arg]
    parts = urlsplit(url)
    payload = _raw_request(parts.netloc, path, headers)
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
    elapsed = time.perf_counter() - began
    out.put(
        {
            "requests": len(latencies),
            "elapsed": elapsed,
            "statuses": statuses,
            "latencies": latencies,
        }
    )


def measure(
    url: str, path: str, headers: dict[str, str], connections: int, seconds: float
) -> dict[str, float]:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    worker = multiprocessing.Process(
        target=_drive, args=(url, path, headers, connections, seconds, queue)
    )
    worker.start()
    result = queue.get()
    worker.join()
    latencies = sorted(result["latencies"])
    if set(result["statuses"]) != {200}:
        raise SystemExit(f"non-200 responses: {result['statuses']}")
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
        creds = world.assume("agent1")
        path = f"/user/federate/{world.instance_id}"
        request = AWSRequest(method="GET", url=server.url + path)
        SigV4Auth(
            Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
            "connect",
            "us-east-1",
        ).add_auth(request)
        signed = dict(request.headers.items())
        measure(server.url, path, signed, 4, 0.5)  # warm caches and connections
        federate = measure(server.url, path, signed, args.connections, args.seconds)
        ceiling = measure(server.url, "/_connectfed/health", {}, args.connections, args.seconds)
    finally:
        server.stop()
    report = {
        "GetFederationToken": federate,
        "trivial endpoint (ceiling)": ceiling,
        "ratio rps (federate / ceiling)": federate["rps"] / ceiling["rps"],
        "connections": args.connections,
        "seconds": args.seconds,
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
