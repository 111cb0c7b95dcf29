"""``connectfed admin``: the admin API of a running server (time travel, fault injection) from
the shell, through :class:`connectfed.client.AdminClient`. Prints the API's JSON.

    connectfed admin clock [--advance SECONDS | --offset SECONDS]
    connectfed admin faults add --service connect --operation GetFederationToken \\
        (--error ThrottlingException | --latency-ms 500 | --drop) [--count N | --rate R]
    connectfed admin faults list
    connectfed admin faults clear [--id FAULT_ID]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import asdict
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8000"


def _finite(text: str) -> float:
    """A number of the admin API: JSON has no NaN or infinity to send it as."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = sub.add_parser(
        "admin",
        help="time travel and fault injection on a running server "
        "(its admin API: serve --admin or --demo)",
    )
    admin.add_argument(
        "--endpoint-url",
        default=os.environ.get("CONNECTFED_ENDPOINT_URL")
        or os.environ.get("AWS_ENDPOINT_URL")
        or DEFAULT_URL,
        help=f"the server (default: CONNECTFED_ENDPOINT_URL, AWS_ENDPOINT_URL, {DEFAULT_URL})",
    )
    admin.add_argument(
        "--admin-token",
        default=os.environ.get("CONNECTFED_ADMIN_TOKEN"),
        help="the server's --admin-token (env CONNECTFED_ADMIN_TOKEN)",
    )
    admin.add_argument("--ca-bundle", default=None, help="CA bundle to verify TLS with")
    commands = admin.add_subparsers(dest="admin_command", required=True)

    clock = commands.add_parser("clock", help="show the server's clock, or move it")
    move = clock.add_mutually_exclusive_group()
    move.add_argument(
        "--advance", type=_finite, metavar="SECONDS", help="move the clock forward by SECONDS"
    )
    move.add_argument(
        "--offset",
        type=_finite,
        metavar="SECONDS",
        help="set the clock's offset from the real time (0: back to real time)",
    )

    faults = commands.add_parser("faults", help="inject, list and clear faults")
    actions = faults.add_subparsers(dest="faults_command", required=True)
    add = actions.add_parser("add", help="inject a fault")
    add.add_argument("--service", required=True, choices=["connect", "sts", "iam", "cti"])
    add.add_argument(
        "--operation",
        default=None,
        help="e.g. GetFederationToken, AssumeRole (default: every operation)",
    )
    kind = add.add_mutually_exclusive_group(required=True)
    kind.add_argument(
        "--error",
        help="ThrottlingException or InternalServiceException (or Throttling, InternalFailure)",
    )
    kind.add_argument("--latency-ms", type=int, help="add this much latency")
    kind.add_argument("--drop", action="store_true", help="close the connection unanswered")
    times = add.add_mutually_exclusive_group()
    times.add_argument("--count", type=int, help="the next N matching calls (default: all)")
    times.add_argument("--rate", type=_finite, help="this share of matching calls (0-1]")
    actions.add_parser("list", help="list the faults")
    clear = actions.add_parser("clear", help="remove every fault, or one")
    clear.add_argument("--id", default=None, help="remove only this fault")


def _print(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")


def run(args: argparse.Namespace) -> int:
    from connectfed.client.admin import AdminClient, AdminError, FaultSpec
    from connectfed.client.errors import TransportError

    try:
        client = AdminClient(args.endpoint_url, args.admin_token, verify=args.ca_bundle or True)
    except ValueError as exc:  # not an http(s) URL
        sys.stderr.write(f"error: {exc}\n")
        return 1
    try:
        if args.admin_command == "clock":
            if args.advance is not None:
                state = client.advance(args.advance)
            elif args.offset is not None:
                state = client.set_offset(args.offset)
            else:
                state = client.clock()
            _print(
                {
                    "now": state.now.isoformat().replace("+00:00", "Z"),
                    "offset_seconds": state.offset_seconds,
                }
            )
        elif args.faults_command == "add":
            fault = client.add_fault(
                FaultSpec(
                    service=args.service,
                    operation=args.operation,
                    error=args.error,
                    latency_ms=args.latency_ms,
                    drop=args.drop,
                    count=args.count,
                    rate=args.rate,
                )
            )
            _print(asdict(fault))
        elif args.faults_command == "list":
            _print({"faults": [asdict(f) for f in client.faults()]})
        elif args.id is not None:
            client.remove_fault(args.id)
        else:
            client.clear_faults()
    except (AdminError, TransportError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return 0
