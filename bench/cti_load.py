"""Load benchmark: the CTI ``GetAgentSnapshot`` (non-waiting, as Streams' first poll) vs the
health endpoint on the same server, measured in one run.

Starts a real ``connectfed serve`` (SQLite), federates agent1 through boto3, then drives both
endpoints from a second process over keep-alive connections; prints requests/s, p50, p99, ratio.

    .venv/bin/python -m bench.cti_load [--connections 32] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.server import start_server
from tests.support.world import build_world

from bench.loadgen import raw_request
from bench.pyload import measure


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
        snapshot = raw_request(
            "POST",
            host,
            f"/connect/{world.instance_id}/api",
            {
                "X-Amz-Target": "AmazonConnectCTIService.GetAgentSnapshot",
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Bearer": token,
            },
            b"{}",
        )
        health = raw_request("GET", host, "/_connectfed/health", {})
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
