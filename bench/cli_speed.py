"""Wall time of ``connectfed get-federation-token`` vs ``aws connect get-federation-token``.

Both run against the same local server with the same credentials, alternately, and the median
of repeated runs is reported with their ratio (the target is at most 0.2).

    .venv/bin/python -m bench.cli_speed [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.server import start_server
from tests.support.world import build_world

BIN = Path(sys.executable).parent


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    server = start_server(Path(tempfile.mkdtemp()), "--throttle-rate", "0")
    try:
        world = build_world(server, "clibench")
        creds = world.assume("agent1", DurationSeconds=3600)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
            AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
            AWS_SESSION_TOKEN=creds["SessionToken"],
            AWS_CONFIG_FILE="/nonexistent",
            AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        )
        common = [
            "--instance-id",
            world.instance_id,
            "--endpoint-url",
            server.url,
            "--region",
            "us-east-1",
        ]
        ours = [str(BIN / "connectfed"), "get-federation-token", *common]
        theirs = [str(BIN / "aws"), "connect", "get-federation-token", *common]
        timed(ours, env)
        timed(theirs, env)
        ours_times, theirs_times = [], []
        for _ in range(args.runs):
            ours_times.append(timed(ours, env))
            theirs_times.append(timed(theirs, env))
    finally:
        server.stop()
    ours_median = statistics.median(ours_times)
    theirs_median = statistics.median(theirs_times)
    json.dump(
        {
            "connectfed_median_s": round(ours_median, 4),
            "aws_cli_median_s": round(theirs_median, 4),
            "ratio": round(ours_median / theirs_median, 3),
            "runs": args.runs,
        },
        sys.stdout,
        indent=2,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
