"""Workers run: GetFederationToken and GetCallerIdentity with ``serve --workers 1`` and
``--workers 2`` (SQLite, or PostgreSQL with ``--database-url``), driven by ``wrk``; prints
req/s, p50, p99 and the scaling from 1 to N workers.

    .venv/bin/python -m bench.workers [--workers 1,2] [--database-url postgresql://…/db]

Nothing is pinned here (more workers need more cores): on a 2-core machine wrk itself takes
part of the second core, so the 1 → 2 scaling is bounded well below 2x. Say so when reporting.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import uuid
from pathlib import Path

from tests.support.server import start_server

from bench import fixtures
from bench.loadgen import HEADER, Result, load_average, warmed


def _postgres(url: str, statement: str) -> None:
    import psycopg  # only with --database-url

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--client-core", default="0,1", help="cores for wrk (taskset -c)")
    parser.add_argument("--agents", type=int, default=32)
    args = parser.parse_args()
    results: dict[int, tuple[Result, Result]] = {}
    for count in (int(n) for n in args.workers.split(",")):
        data_dir = Path(tempfile.mkdtemp(prefix="connectfed-workers-"))
        database_url = args.database_url
        fresh = None
        if database_url:  # a fresh database per run, dropped after it
            fresh = f"connectfed_bench_{uuid.uuid4().hex[:8]}"
            _postgres(args.database_url, f'CREATE DATABASE "{fresh}"')
            database_url = database_url.rsplit("/", 1)[0] + f"/{fresh}"
        server = start_server(
            data_dir, "--throttle-rate", "0", "--workers", str(count), database_url=database_url
        )
        try:
            bench = fixtures.build_bench(server, args.agents)
            results[count] = (
                warmed(
                    args,
                    f"GetFederationToken x{count} workers",
                    server.url,
                    bench.federation_pool(),
                ),
                warmed(
                    args,
                    f"GetCallerIdentity x{count} workers",
                    server.url,
                    bench.caller_identity_pool(),
                ),
            )
        finally:
            server.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
            if fresh is not None:
                _postgres(args.database_url, f'DROP DATABASE IF EXISTS "{fresh}"')
    print(
        f"backend {'postgresql' if args.database_url else 'sqlite'}; load average {load_average()}"
    )
    print(HEADER)
    for federation, identity in results.values():
        print(federation.row())
        print(identity.row())
    counts = sorted(results)
    for count in counts[1:]:
        print(
            f"scaling 1 -> {count} workers: GetFederationToken "
            f"{results[count][0].rps / results[counts[0]][0].rps:.2f}x, GetCallerIdentity "
            f"{results[count][1].rps / results[counts[0]][1].rps:.2f}x"
        )


if __name__ == "__main__":
    main()
