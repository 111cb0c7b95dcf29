"""Load benchmark: GetFederationToken vs a trivial endpoint on the same server stack.

Starts a real ``connectfed serve`` (SQLite, throttling off), builds a federation world through
boto3, then drives both endpoints from a second process over many keep-alive connections with
signed requests and reports requests/s, p50 and p99 for each, and the ratio, measured in one run.

    .venv/bin/python -m bench.federation_load [--connections 32] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
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
        creds = world.assume("agent1")
        path = f"/user/federate/{world.instance_id}"
        request = AWSRequest(method="GET", url=server.url + path)
        SigV4Auth(
            Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
            "connect",
            "us-east-1",
        ).add_auth(request)
        host = urlsplit(server.url).netloc
        signed = raw_request("GET", host, path, dict(request.headers.items()))
        health = raw_request("GET", host, "/_connectfed/health", {})
        measure(server.url, signed, 4, 0.5)  # warm caches and connections
        federate = measure(server.url, signed, args.connections, args.seconds)
        ceiling = measure(server.url, health, args.connections, args.seconds)
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
