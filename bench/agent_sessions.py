"""Cost of checking an agent's bearer token, in-process, measured in one run.

For each backend (SQLite; PostgreSQL when ``--postgres URL`` is given) builds the demo dataset,
issues one token family, then times: a primary-key read (``store.get_instance``, the baseline),
``TokenService.verify`` (one keyed-hash lookup joined with the family) and
``AgentSessions.authenticate`` (verify, then the user, session, role and binding checks). Prints
microseconds per call and the ratios to the baseline.

    .venv/bin/python -m bench.agent_sessions [--calls 2000] [--postgres postgresql://…/db]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from connectfed.app import build_services
from connectfed.demo import demo_caller, ensure_demo
from connectfed.settings import Settings
from connectfed.tokens import TokenKind


def _per_call(function: Callable[[], object], calls: int) -> float:
    function()
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def run(url: str, calls: int) -> None:
    services = build_services(Settings(database_url=url, throttle_rate=0))
    demo = ensure_demo(services)
    caller = demo_caller(services, demo)
    creds = services.sts.assume_role(caller, demo.role_arn, "agent1").credentials
    session = services.resolver.principal_of_session(creds.access_key_id)
    token = services.federation.federate(session, demo.instance_id).access.token
    base = _per_call(lambda: services.store.get_instance(demo.instance_id), calls)
    verify = _per_call(lambda: services.tokens.verify(token, TokenKind.ACCESS), calls)
    auth = _per_call(lambda: services.agent_sessions.authenticate(token), calls)
    print(
        f"{url.split(':')[0]:>10}: get_instance {base:7.1f} µs | verify {verify:7.1f} µs "
        f"({verify / base:4.1f}x) | authenticate {auth:7.1f} µs ({auth / base:4.1f}x)"
    )
    services.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite://{Path(tmp) / 'bench.db'}", args.calls)
    if args.postgres:
        run(args.postgres, args.calls)


if __name__ == "__main__":
    main()
