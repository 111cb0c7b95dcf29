"""``connectfed`` entry point."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from connectfed import __version__


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
    serve.add_argument("--test-idp", action="store_true",
                       help="with --demo: run the built-in test IdP at /idp (browser SSO)")
    serve.add_argument("--tls-cert", type=Path)
    serve.add_argument("--tls-key", type=Path)
    serve.add_argument(
        "--tls-self-signed",
        action="store_true",
        help="serve HTTPS with a generated CA; prints the CA bundle path",
    )
    serve.add_argument("--allow-multiple-roles-per-user", action="store_true")
    serve.add_argument("--saml-single-use", action="store_true",
                       help="AssumeRoleWithSAML accepts each assertion once (AWS allows reuse)")
    serve.add_argument("--allow-saml-sha1", action="store_true",
                       help="accept SAML signatures made with RSA-SHA1 and SHA-1 digests "
                            "(refused by default; for IdPs that still sign with SHA-1)")
    serve.add_argument(
        "--throttle-rate",
        type=float,
        default=2.0,
        help="GetFederationToken requests/s per account and Region (0: off)",
    )
    serve.add_argument("--throttle-burst", type=int, default=5)
    serve.add_argument("--access-token-seconds", type=int, default=3600)
    serve.add_argument("--refresh-token-seconds", type=int, default=12 * 3600,
                       help="the refresh horizon: no agent session outlives it")
    serve.add_argument("--refresh-reuse-grace-seconds", type=float, default=0.0,
                       help="a rotated refresh token presented again within this window gets "
                            "new tokens instead of ending the session (default 0)")
    serve.add_argument("--token-gc-seconds", type=float, default=300.0,
                       help="delete expired tokens at most this often (default 300)")
    serve.add_argument("--body-timeout", type=float, default=30.0,
                       help="seconds a client may take to send a request body (then 408)")
    serve.add_argument("--streams-dir", default=os.environ.get("CONNECTFED_STREAMS_DIR"),
                       help="the installed amazon-connect-streams npm package (default: "
                            "web-assets/node_modules/amazon-connect-streams)")
    serve.add_argument("--ccp-frame-ancestors", default=None,
                       help="CSP frame-ancestors of the CCP page: who may embed it with "
                            "initCCP (default 'self'; with --demo: *)")

    serve.add_argument("--max-header-bytes", type=int, default=32 * 1024,
                       help="request line and headers larger than this get 431")
    serve.add_argument("--max-header-count", type=int, default=100,
                       help="more header fields than this get 431")
    serve.add_argument("--head-timeout", type=float, default=10.0,
                       help="seconds a client may take to send the request head (then 408)")
    serve.add_argument("--keep-alive-timeout", type=int, default=5,
                       help="seconds an idle kept-alive connection stays open")
    serve.add_argument("--log-level", default="warning",
                       choices=["critical", "error", "warning", "info", "debug", "trace"],
                       help="for connectfed's and uvicorn's loggers; others stay at warning")
    serve.add_argument("--log-level-of", action="append", default=[], metavar="LOGGER=LEVEL",
                       help="a level for one named logger, e.g. signxml=debug (may print "
                            "assertion text); repeatable")
    serve.add_argument("--access-log", action="store_true",
                       help="log one line per request (tokens and signatures redacted)")
    # Execution (issue 9): processes, store threads, a quota shared through the database.
    serve.add_argument("--workers", type=int, default=1,
                       help="server processes sharing the port (and nothing but the database)")
    serve.add_argument("--store-threads", type=int, default=8,
                       help="threads per process that run store calls off the event loop")
    serve.add_argument("--throttle-shared", action="store_true",
                       help="keep the GetFederationToken quota in the database: exact across "
                            "all workers and servers sharing it (default: per process)")

def _rotate_key_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rotate = sub.add_parser(
        "rotate-token-key",
        help="make a new token key current; live tokens keep working (servers pick it up)")
    rotate.add_argument("--data-dir", type=Path, default=None)
    rotate.add_argument("--database-url", default=None)


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
    sub.add_parser("get-federation-token", add_help=False,
                   help="call Amazon Connect GetFederationToken (options as the AWS CLI's)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        from connectfed.cli.serve import serve

        return serve(args)
    if args.command == "rotate-token-key":
        from connectfed.cli.keys import rotate_token_key

        return rotate_token_key(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
