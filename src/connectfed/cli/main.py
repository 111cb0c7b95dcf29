"""``connectfed`` entry point."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from connectfed import __version__

# The `server` extra's top-level modules (pyproject.toml): missing, `serve` says how to get them.
SERVER_MODULES = frozenset(
    {
        "uvicorn",
        "httptools",
        "uvloop",
        "platformdirs",
        "cryptography",
        "psycopg",
        "psycopg_pool",
        "signxml",
        "lxml",
        "prometheus_client",
    }
)


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the connectfed server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where the SQLite database and TLS files live (default: a per-user data folder)",
    )
    serve.add_argument(
        "--database-url",
        default=None,
        help="sqlite:///path or postgresql://... (overrides the SQLite file)",
    )
    serve.add_argument(
        "--master-key-file",
        type=Path,
        default=None,
        help="the key sealing secrets at rest (default: <data-dir>/master.key, created on first "
        "start; or env CONNECTFED_MASTER_KEY). Servers sharing one database need the same key",
    )
    serve.add_argument("--region", default="us-east-1")
    serve.add_argument(
        "--public-url",
        default=None,
        help="the URL clients reach this server at (default: from host/port)",
    )
    serve.add_argument("--demo", action="store_true", help="create and print a demo dataset")
    serve.add_argument(
        "--test-idp",
        action="store_true",
        help="run the built-in test IdP at /idp (browser SSO) for the users of --demo or "
        "of a --seed world's test_idp provider",
    )
    serve.add_argument("--tls-cert", type=Path)
    serve.add_argument("--tls-key", type=Path)
    serve.add_argument(
        "--tls-self-signed",
        action="store_true",
        help="serve HTTPS with a generated CA; prints the CA bundle path",
    )
    serve.add_argument("--allow-multiple-roles-per-user", action="store_true")
    serve.add_argument(
        "--saml-single-use",
        action="store_true",
        help="AssumeRoleWithSAML accepts each assertion once (AWS allows reuse)",
    )
    serve.add_argument(
        "--allow-saml-sha1",
        action="store_true",
        help="accept SAML signatures made with RSA-SHA1 and SHA-1 digests "
        "(refused by default; for IdPs that still sign with SHA-1)",
    )
    serve.add_argument(
        "--throttle-rate",
        type=float,
        default=2.0,
        help="GetFederationToken requests/s per account and Region (0: off)",
    )
    serve.add_argument("--throttle-burst", type=int, default=5)
    serve.add_argument("--access-token-seconds", type=int, default=3600)
    serve.add_argument(
        "--refresh-token-seconds",
        type=int,
        default=12 * 3600,
        help="the refresh horizon: no agent session outlives it",
    )
    serve.add_argument(
        "--refresh-reuse-grace-seconds",
        type=float,
        default=0.0,
        help="a rotated refresh token presented again within this window gets "
        "new tokens instead of ending the session (default 0)",
    )
    serve.add_argument(
        "--token-gc-seconds",
        type=float,
        default=300.0,
        help="delete ended token families (and their tokens) at most this often (default 300)",
    )
    serve.add_argument(
        "--body-timeout",
        type=float,
        default=30.0,
        help="seconds a client may take to send a request body (then 408)",
    )
    serve.add_argument(
        "--streams-dir",
        default=os.environ.get("CONNECTFED_STREAMS_DIR"),
        help="the installed amazon-connect-streams npm package (default: "
        "web-assets/node_modules/amazon-connect-streams)",
    )
    serve.add_argument(
        "--ccp-frame-ancestors",
        default=None,
        help="CSP frame-ancestors of the CCP page: who may embed it with "
        "initCCP (default 'self'; with --demo: *)",
    )

    serve.add_argument(
        "--max-header-bytes",
        type=int,
        default=32 * 1024,
        help="request line and headers larger than this get 431",
    )
    serve.add_argument(
        "--max-header-count", type=int, default=100, help="more header fields than this get 431"
    )
    serve.add_argument(
        "--head-timeout",
        type=float,
        default=10.0,
        help="seconds a client may take to send the request head (then 408)",
    )
    serve.add_argument(
        "--keep-alive-timeout",
        type=int,
        default=5,
        help="seconds an idle kept-alive connection stays open",
    )
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="for connectfed's and uvicorn's loggers; others stay at warning",
    )
    serve.add_argument(
        "--log-level-of",
        action="append",
        default=[],
        metavar="LOGGER=LEVEL",
        help="a level for one named logger, e.g. signxml=debug (may print "
        "assertion text); repeatable",
    )
    # Execution (issue 9): processes, store threads, a quota shared through the database.
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (and nothing but the database); POSIX only",
    )
    serve.add_argument(
        "--store-threads",
        type=int,
        default=8,
        help="threads per process that run store calls off the event loop",
    )
    serve.add_argument(
        "--throttle-shared",
        action="store_true",
        help="keep the GetFederationToken quota in the database: exact across all workers "
        "and servers sharing it (default: one bucket per process)",
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log one line per request (tokens and signatures redacted)",
    )
    serve.add_argument(
        "--admin",
        action="store_true",
        help="turn on the admin API (/_connectfed/clock, /_connectfed/faults: "
        "time travel and fault injection, for tests; implied by --demo)",
    )
    serve.add_argument(
        "--admin-token",
        default=os.environ.get("CONNECTFED_ADMIN_TOKEN"),
        help="bearer token the admin API requires (env CONNECTFED_ADMIN_TOKEN); "
        "needed on a non-loopback --host",
    )

    serve.add_argument(
        "--explain-keep-seconds",
        type=float,
        default=24 * 3600,
        help="how long explanations of denied requests are kept (default 1 day)",
    )
    serve.add_argument(
        "--seed",
        action="append",
        type=Path,
        default=[],
        metavar="WORLD.yaml",
        help="apply a declared world before serving (idempotent; repeatable; schema: docs/seed.md)",
    )
    serve.add_argument(
        "--cache-ttl",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="how long a change made by another process sharing the database "
        "may stay unseen (default 2; 0 for tests that seed while serving)",
    )
    serve.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="json: every log line one JSON object, with one structured line "
        "per request (request id, operation, principal, status, duration)",
    )
    serve.add_argument(
        "--audit-retention-days",
        type=float,
        default=90.0,
        help="keep audit events (CloudTrail LookupEvents) this long (default 90)",
    )
    serve.add_argument(
        "--audit-max-events",
        type=int,
        default=1_000_000,
        help="keep at most this many audit events, the newest (0: no bound)",
    )
    serve.add_argument(
        "--stop-when-stdin-closes",
        action="store_true",
        help="stop (as on SIGTERM) once standard input is closed: a test harness that starts "
        "the server with a pipe as its stdin and dies takes the server along (the pytest "
        "plugin does)",
    )
    serve.add_argument(
        "--audit-reads",
        action="store_true",
        help="record read-only API calls (Get*, List*, Describe*, LookupEvents, "
        "GetCallerIdentity) in the audit trail too; writes are always recorded",
    )


def _rotate_key_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rotate = sub.add_parser(
        "rotate-token-key",
        help="make a new token key current; live tokens keep working (servers pick it up)",
    )
    rotate.add_argument("--data-dir", type=Path, default=None)
    rotate.add_argument("--database-url", default=None)
    rotate.add_argument(
        "--master-key-file",
        type=Path,
        default=None,
        help="the servers' master key (default: <data-dir>/master.key; or env "
        "CONNECTFED_MASTER_KEY)",
    )


def _admin_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from connectfed.cli.admin import add_parser

    add_parser(sub)


def _seed_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    seed = sub.add_parser("seed", help="apply declared worlds (YAML) to a database; idempotent")
    seed.add_argument("worlds", nargs="+", type=Path, metavar="WORLD.yaml")
    seed.add_argument("--data-dir", type=Path, default=None)
    seed.add_argument("--database-url", default=None)
    seed.add_argument("--master-key-file", type=Path, default=None)
    seed.add_argument("--region", default="us-east-1")
    seed.add_argument(
        "--public-url",
        default="http://127.0.0.1:8000",
        help="the server's URL: what {{ public_url }} and the test IdP's entityID are made of",
    )
    seed.add_argument(
        "--check", action="store_true", help="only validate the files; touch no database"
    )


def _explain_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    explain = sub.add_parser("explain", help="why a request was refused, by its request id")
    explain.add_argument(
        "request_id", metavar="REQUEST-ID", help="the x-amzn-RequestId of the refused request"
    )
    explain.add_argument("--data-dir", type=Path, default=None)
    explain.add_argument("--database-url", default=None)
    explain.add_argument(
        "--endpoint-url",
        default=None,
        help="ask a running server instead (its admin API: --admin or --demo)",
    )
    explain.add_argument("--ca-bundle", default=None, help="for an https --endpoint-url")
    explain.add_argument("--output", choices=["text", "json"], default="text")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["get-federation-token"]:
        # The client command stays off the server's imports: it must start fast.
        from connectfed.cli.federation import main as federate

        try:
            return federate(argv[1:])
        except KeyboardInterrupt:
            sys.stdout.write("\n")
            return 130
    parser = argparse.ArgumentParser(prog="connectfed")
    parser.add_argument("--version", action="version", version=f"connectfed {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    _rotate_key_parser(sub)
    _admin_parser(sub)
    _seed_parser(sub)
    _explain_parser(sub)
    sub.add_parser(
        "get-federation-token",
        add_help=False,
        help="call Amazon Connect GetFederationToken (options as the AWS CLI's)",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            from connectfed.cli.serve import serve

            return serve(args)
        if args.command == "rotate-token-key":
            from connectfed.cli.keys import rotate_token_key

            return rotate_token_key(args)
        if args.command == "explain":
            from connectfed.cli.explain import explain

            return explain(args)
        if args.command == "admin":
            from connectfed.cli.admin import run

            return run(args)
        if args.command == "seed":
            from connectfed.cli.seed import seed

            return seed(args)
    except KeyboardInterrupt:  # Ctrl-C: the shell's 128 + SIGINT, no traceback (as above)
        sys.stdout.write("\n")
        return 130
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in SERVER_MODULES:
            raise
        sys.stderr.write(
            f"error: connectfed {args.command} needs the server's packages ({exc.name}"
            " is not installed): pip install 'connectfed[server]'\n"
        )
        return 2
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
