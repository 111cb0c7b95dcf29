"""Side by side, in one run: hello-world, connectfed's health, GetCallerIdentity,
GetFederationToken, SAML browser sign-in, and moto's server, each driven by ``wrk`` on one core
with the server alone on the other; prints requests/s, p50, p99 and the ratios.

    sudo apt-get install wrk                      # once (Debian/Ubuntu)
    .venv/bin/python -m bench.side_by_side [--seconds 10] [--connections 32] [--no-moto]

moto runs from its own virtual environment (``bench/.moto-venv``, created on first use with
``pip install 'moto[server]'``): never a dependency of connectfed. moto has no Amazon Connect
``GetFederationToken``; it is measured on the same ``GetCallerIdentity`` (same signed request)
and, for the federation row, on STS ``GetFederationToken`` (the nearest operation it has: it
also mints temporary credentials), and the report says which.

The machine should be quiet: the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.server import free_port

from bench import fixtures
from bench.loadgen import HEADER, Result, load_average, raw_request, run, warmed

MOTO_VENV = Path(__file__).parent / ".moto-venv"
STS_FEDERATION = b"Action=GetFederationToken&Version=2011-06-15&Name=agent1"


def moto_server() -> Path:
    """``moto_server`` from the benchmark's own virtual environment (created on first use)."""
    binary = MOTO_VENV / "bin" / "moto_server"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(MOTO_VENV)], check=True)
        subprocess.run(
            [str(MOTO_VENV / "bin" / "pip"), "install", "-q", "moto[server]"], check=True
        )
    return binary


def _moto(args: argparse.Namespace, rows: list[Result]) -> dict[str, Result]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = fixtures.start_process(
        [str(moto_server()), "-H", "127.0.0.1", "-p", str(port)],
        args.server_core,
        url + "/moto-api/",
    )
    try:
        key, secret = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        identity = [
            fixtures.signed(
                url, "POST", "/", "sts", key, secret, None, fixtures.CALLER_IDENTITY, fixtures.FORM
            )
        ]
        federation = [
            fixtures.signed(
                url, "POST", "/", "sts", key, secret, None, STS_FEDERATION, fixtures.FORM
            )
        ]
        out = {
            "identity": warmed(args, "moto GetCallerIdentity", url, identity),
            "federation": warmed(args, "moto STS GetFederationToken", url, federation),
        }
    finally:
        process.terminate()
        process.wait()
    rows += out.values()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--agents", type=int, default=32, help="users in the request pools")
    parser.add_argument(
        "--saml-pool",
        type=int,
        default=0,
        help="distinct assertions (default: 1500 per second of run)",
    )
    parser.add_argument("--server-core", type=int, default=1)
    parser.add_argument("--client-core", type=int, default=0)
    parser.add_argument("--no-moto", action="store_true")
    parser.add_argument(
        "--serve-arg",
        action="append",
        default=[],
        help="extra option for connectfed serve (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    rows: list[Result] = []
    load_before = load_average()
    hello_url, hello = fixtures.start_hello(args.server_core)
    try:
        hello_row = warmed(
            args,
            "hello-world (uvicorn+uvloop)",
            hello_url,
            [raw_request("GET", fixtures.host_of(hello_url), "/", {})],
        )
    finally:
        hello.terminate()
        hello.wait()
    rows.append(hello_row)
    data_dir = Path(tempfile.mkdtemp(prefix="connectfed-bench-"))
    server = fixtures.start_connectfed(data_dir, args.server_core, *args.serve_arg)
    try:
        bench = fixtures.build_bench(server, args.agents)
        host = fixtures.host_of(server.url)
        health = warmed(
            args,
            "connectfed health",
            server.url,
            [raw_request("GET", host, "/_connectfed/health", {})],
        )
        identity = warmed(args, "GetCallerIdentity", server.url, bench.caller_identity_pool())
        federation = warmed(args, "GetFederationToken", server.url, bench.federation_pool())
        pool = bench.saml_pool(args.saml_pool or int(1500 * (args.seconds + 1)))
        # One pass through the pool: no assertion is posted twice (the browser flow refuses
        # replays), so no separate warm-up run here.
        saml = run(
            "SAML sign-in (POST /saml)",
            server.url,
            pool,
            core=args.client_core,
            threads=args.threads,
            connections=args.connections,
            seconds=args.seconds,
        )
        rows += [health, identity, federation, saml]
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    moto = None if args.no_moto else _moto(args, rows)
    ratios = {
        "health / hello": health.rps / hello_row.rps,
        "GetCallerIdentity / hello (goal >= 0.40)": identity.rps / hello_row.rps,
        "GetFederationToken / hello (goal >= 0.25)": federation.rps / hello_row.rps,
        "SAML sign-in per second (goal >= 500)": saml.rps,
    }
    if moto is not None:
        ratios["GetCallerIdentity / moto's (goal >= 20)"] = identity.rps / moto["identity"].rps
        ratios["GetFederationToken / moto's STS GetFederationToken"] = (
            federation.rps / moto["federation"].rps
        )
    report = {
        "rows": [r.__dict__ for r in rows],
        "ratios": ratios,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "connections": args.connections,
        "seconds": args.seconds,
    }
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s on core "
        f"{args.client_core}, server on core {args.server_core}; load average before "
        f"{load_before}, after {report['load_average_after']}"
    )
    print(HEADER)
    for row in rows:
        print(row.row())
    for name, value in ratios.items():
        print(f"{name:<52} {value:>8.2f}")


if __name__ == "__main__":
    main()
