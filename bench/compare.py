"""Before/after on a noisy machine: this tree's server against another git revision's, measured
alternately (round after round, the same wrk load, the same core), so that load from elsewhere
hits both alike; prints each round and the median ratio (this tree / the revision).

    .venv/bin/python -m bench.compare --rev 41db0c6 [--rounds 5] [--seconds 5]

The revision's ``src/`` is exported to a temporary directory (``git archive``) and put first on
the server's ``PYTHONPATH``; both servers use this environment's dependencies.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import tarfile
import tempfile
from pathlib import Path

from bench import fixtures
from bench.loadgen import HEADER, Result, load_average, run

ROOT = Path(__file__).resolve().parent.parent


def export(rev: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--agents", type=int, default=32)
    parser.add_argument(
        "--serve-arg",
        action="append",
        default=[],
        help="extra option for this tree's server (repeatable)",
    )
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="connectfed-compare-"))
    base_src = export(args.rev, scratch / "rev")
    servers = {}
    previous = os.environ.get("PYTHONPATH")
    try:
        servers["this"] = fixtures.start_connectfed(scratch / "this", 1, *args.serve_arg)
        os.environ["PYTHONPATH"] = str(base_src)
        servers[args.rev] = fixtures.start_connectfed(scratch / "rev-data", 1)
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous
    try:
        benches = {
            name: fixtures.build_bench(server, args.agents) for name, server in servers.items()
        }
        results: dict[str, dict[str, list[Result]]] = {
            name: {"fed": [], "gci": []} for name in servers
        }
        print(f"load average before {load_average()}")
        print(HEADER)
        for _ in range(args.rounds):
            for name, bench in benches.items():
                for kind, pool in (
                    ("fed", bench.federation_pool()),
                    ("gci", bench.caller_identity_pool()),
                ):
                    result = run(
                        f"{name} {kind}",
                        bench.server.url,
                        pool,
                        core=0,
                        threads=args.threads,
                        connections=args.connections,
                        seconds=args.seconds,
                    )
                    results[name][kind].append(result)
                    print(result.row(), flush=True)
        print(f"load average after {load_average()}")
        for kind in ("fed", "gci"):
            ratios = [
                a.rps / b.rps
                for a, b in zip(results["this"][kind], results[args.rev][kind], strict=True)
            ]
            p99 = [
                a.p99_ms / b.p99_ms
                for a, b in zip(results["this"][kind], results[args.rev][kind], strict=True)
            ]
            print(
                f"{kind}: req/s this/{args.rev} median {statistics.median(ratios):.2f} "
                f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}); p99 ratio median "
                f"{statistics.median(p99):.2f}"
            )
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
