"""Server CPU per request over real connections: the server's own CPU time (every thread's, from
``/proc/<pid>/stat``) divided by the requests ``wrk`` completed, for the hello-world, the health
endpoint, GetCallerIdentity and GetFederationToken.

Requests/s on a shared machine moves with whatever else runs on the server's core; the CPU the
server process itself spent per request moves much less, so A/B comparisons of a change to the
request path are steadier in these µs than in ``bench.side_by_side``'s rates.

    .venv/bin/python -m bench.wire_cpu [--seconds 5] [--rounds 3] [--hold]

``--hold`` keeps connectfed running after the runs (its pid and URL printed, pools written to
files) for a profiler such as ``py-spy record --pid PID`` under a ``wrk`` you start yourself.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from bench import fixtures
from bench.loadgen import raw_request, run

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU time of process ``pid`` (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / _TICK, int(fields[12]) / _TICK


def measure(
    args: argparse.Namespace, name: str, pid: int, url: str, pool: list[bytes]
) -> list[tuple[float, float]]:
    """(µs of server CPU, µs of it in user mode) per request, one pair per round (after a
    1 s warm-up)."""
    options = {
        "core": args.client_core,
        "threads": args.threads,
        "connections": args.connections,
    }
    run(name, url, pool, seconds=1, **options)
    figures = []
    for _ in range(args.rounds):
        before = cpu_seconds(pid)
        result = run(name, url, pool, seconds=args.seconds, **options)
        after = cpu_seconds(pid)
        if result.errors:
            raise SystemExit(f"{name}: {result.errors} errors")
        user, system = (after[i] - before[i] for i in (0, 1))
        figures.append(((user + system) / result.requests * 1e6, user / result.requests * 1e6))
    return figures


def _report(name: str, figures: list[tuple[float, float]]) -> None:
    total = statistics.median(f[0] for f in figures)
    user = statistics.median(f[1] for f in figures)
    shown = " ".join(f"{f[0]:6.1f}" for f in figures)
    print(f"{name:<14} median {total:6.1f} µs/request, user {user:6.1f}   ({shown})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--agents", type=int, default=32)
    parser.add_argument("--server-core", type=int, default=1)
    parser.add_argument("--client-core", type=int, default=0)
    parser.add_argument("--only", action="append", help="hello, health, identity, federation")
    parser.add_argument("--hold", action="store_true")
    args = parser.parse_args()
    only = set(args.only or ("hello", "health", "identity", "federation"))
    if "hello" in only:
        hello_url, hello = fixtures.start_hello(args.server_core)
        try:
            request = [raw_request("GET", fixtures.host_of(hello_url), "/", {})]
            _report("hello-world", measure(args, "hello", hello.pid, hello_url, request))
        finally:
            hello.terminate()
            hello.wait()
    data_dir = Path(tempfile.mkdtemp(prefix="connectfed-bench-"))
    server = fixtures.start_connectfed(data_dir, args.server_core)
    try:
        bench = fixtures.build_bench(server, args.agents)
        pid, url = server.process.pid, server.url
        pools = {
            "health": [raw_request("GET", fixtures.host_of(url), "/_connectfed/health", {})],
            "identity": bench.caller_identity_pool(),
            "federation": bench.federation_pool(),
        }
        for name, pool in pools.items():
            if name in only:
                _report(name, measure(args, name, pid, url, pool))
        if args.hold:
            for name, pool in pools.items():
                with (data_dir / f"{name}.pool").open("wb") as out:
                    for request in pool:
                        out.write(f"{len(request)}\n".encode() + request)
            print(f"holding: pid {pid} url {url} pools {data_dir}/*.pool; Ctrl-C ends", flush=True)
            server.process.wait()
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
