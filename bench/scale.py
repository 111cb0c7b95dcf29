"""Scale run: GetFederationToken and GetCallerIdentity latency with 1k, 100k and 1M Connect
users and IAM users in the store (SQLite), each size in a fresh server, driven by ``wrk`` as in
``bench.side_by_side``; prints req/s, p50, p99 per size and the p50 ratio to the smallest
(goal: within 1.2x).

    .venv/bin/python -m bench.scale [--sizes 1000,100000,1000000] [--seconds 8]

The extra rows are written straight into the SQLite file in one transaction of bulk inserts
(``executemany``), beside the world built through the API, while the server runs (WAL: its
readers are not disturbed). Their keys are generated in index order (ids and names numbered
with leading zeros), so every insert appends to its B-trees instead of landing at a random page:
a million rows per table take seconds, not minutes. Lookups are by the pool's own users, whose
keys are random like any real user's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from tests.support.server import ACCOUNT_ID

from bench import fixtures
from bench.loadgen import HEADER, Result, load_average, warmed


def seed(database: Path, instance_id: str, count: int) -> float:
    """``count`` Connect users in the instance and ``count`` IAM users; returns seconds."""
    began = time.perf_counter()
    conn = sqlite3.connect(str(database), timeout=60)
    conn.execute("PRAGMA synchronous = OFF")  # a benchmark's seed: nothing to lose on a crash
    conn.execute("PRAGMA cache_size = -200000")  # 200 MB
    region = "us-east-1"
    now = time.time()
    profile = conn.execute(
        "SELECT security_profile_ids, routing_profile_id FROM connect_users"
        " WHERE instance_id = ? LIMIT 1",
        (instance_id,),
    ).fetchone()
    with conn:
        conn.executemany(
            "INSERT INTO connect_users (instance_id, user_id, username, arn,"
            " security_profile_ids, routing_profile_id, identity_info, phone_config,"
            " directory_user_id, hierarchy_group_id, created, modified)"
            " VALUES (?, ?, ?, ?, ?, ?, '{}', '{\"PhoneType\": \"SOFT_PHONE\"}', NULL, NULL,"
            " ?, ?)",
            (
                (
                    instance_id,
                    user_id,
                    f"scale-{n:08d}",
                    f"arn:aws:connect:{region}:{ACCOUNT_ID}:instance/{instance_id}/agent/{user_id}",
                    profile[0],
                    profile[1],
                    now,
                    now,
                )
                for n in range(count)
                for user_id in (f"00000000-5ca1-4000-8000-{n:012d}",)
            ),
        )
        conn.executemany(
            "INSERT INTO iam_users (account_id, user_name_key, user_name, user_id, path, arn,"
            " created) VALUES (?, ?, ?, ?, '/', ?, ?)",
            (
                (
                    ACCOUNT_ID,
                    f"scale-{n:08d}",
                    f"scale-{n:08d}",
                    f"AIDASCALE{n:012d}",
                    f"arn:aws:iam::{ACCOUNT_ID}:user/scale-{n:08d}",
                    now,
                )
                for n in range(count)
            ),
        )
    # Copy the seed's WAL (hundreds of MB at 1M rows) into the database file now: left to the
    # server's checkpointer it would be copied during the measured run, whose writers wait for
    # that copy (a p99 of ~600 ms at 1M that no store of that size shows once settled).
    # It may find the server reading an older snapshot (busy): try again until all is copied.
    for _ in range(300):
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            break
        time.sleep(0.1)
    conn.close()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--agents", type=int, default=32)
    parser.add_argument("--server-core", type=int, default=1)
    parser.add_argument("--client-core", type=int, default=0)
    args = parser.parse_args()
    rows: list[tuple[int, float, Result, Result]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        data_dir = Path(tempfile.mkdtemp(prefix="connectfed-scale-"))
        server = fixtures.start_connectfed(data_dir, args.server_core)
        try:
            bench = fixtures.build_bench(server, args.agents)
            seconds = seed(data_dir / "connectfed.db", bench.instance_id, size)

            federation = warmed(
                args, f"GetFederationToken @{size}", server.url, bench.federation_pool()
            )
            identity = warmed(
                args, f"GetCallerIdentity @{size}", server.url, bench.caller_identity_pool()
            )
            rows.append((size, seconds, federation, identity))
        finally:
            server.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
    print(f"load average {load_average()}")
    print(HEADER + "   seed s")
    for _, seconds, federation, identity in rows:
        print(federation.row() + f" {seconds:8.1f}")
        print(identity.row())
    base = rows[0]
    ratios = {
        f"p50 ratio {size} / {base[0]} ({kind}, goal <= 1.2)": (
            fed if kind == "federation" else ident
        ).p50_ms
        / (base[2] if kind == "federation" else base[3]).p50_ms
        for size, _, fed, ident in rows[1:]
        for kind in ("federation", "identity")
    }
    print(json.dumps(ratios, indent=2))


if __name__ == "__main__":
    main()
