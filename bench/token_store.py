"""The token lifecycle's store cost, in process, measured in one run: what a federation writes
(``Store.create_token_family``, and ``TokenService.open_family`` around it), what a sign-in
code's use (``spend``) and a refresh (``rotate``) write, and what every CTI call reads
(``verify``). Prints wall and CPU microseconds per call (CPU is the steadier figure on a busy
machine), for SQLite and, with ``--postgres URL`` (an empty database), PostgreSQL.

    .venv/bin/python -m bench.token_store [--calls 3000] [--postgres postgresql://…/db]

Run it on two revisions alternately (``git stash``, or two worktrees) to compare them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from connectfed.clock import SystemClock
from connectfed.store import StaticKey, Store, open_store
from connectfed.store.sealing import new_key
from connectfed.tokens import FamilyOwner, MintedFamily, TokenKeys, TokenKind, TokenService

OWNER = FamilyOwner("i-1", "u-1", "ASIA1", "arn:aws:iam::123456789012:role/Agent")
FEDERATION = {
    TokenKind.ACCESS: timedelta(hours=1),
    TokenKind.REFRESH: timedelta(hours=12),
    TokenKind.SIGNIN: timedelta(minutes=5),
}


class _Recorder:
    """The store as ``open_family`` sees it, keeping what it would write instead."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.writes: list[tuple[Any, ...]] = []

    def create_token_family(self, *args: Any) -> None:
        self.writes.append(args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _per_call(calls: int, function: Callable[[int], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for index in range(calls):
        function(index)
    return (
        (time.perf_counter() - wall) / calls * 1e6,
        (time.process_time() - cpu) / calls * 1e6,
    )


def measure(store: Store, calls: int) -> Iterator[tuple[str, float, float]]:
    clock = SystemClock()
    keys = TokenKeys(store, clock, ttl=3600)
    horizon = clock.now() + timedelta(hours=12)
    recorder = _Recorder(store)
    minting = TokenService(recorder, clock, keys, gc_interval_seconds=1e9)
    for _ in range(calls):
        minting.open_family(OWNER, horizon, FEDERATION)
    tokens = TokenService(store, clock, keys, gc_interval_seconds=1e9)
    families: list[MintedFamily] = []

    def write(index: int) -> None:
        store.create_token_family(*recorder.writes[index])

    def federate(index: int) -> None:
        families.append(tokens.open_family(OWNER, horizon, FEDERATION))

    def token(index: int, kind: TokenKind) -> str:
        return families[index].tokens[kind].token

    yield "create_token_family", *_per_call(calls, write)
    yield "open_family", *_per_call(calls, federate)
    yield (
        "verify (access)",
        *_per_call(calls, lambda i: tokens.verify(token(i, TokenKind.ACCESS), TokenKind.ACCESS)),
    )
    yield (
        "spend (sign-in code)",
        *_per_call(calls, lambda i: tokens.spend(token(i, TokenKind.SIGNIN), TokenKind.SIGNIN)),
    )
    yield (
        "rotate (refresh)",
        *_per_call(calls, lambda i: tokens.rotate(token(i, TokenKind.REFRESH), timedelta(hours=1))),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--postgres", metavar="URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("SQLite", f"sqlite://{Path(tmp) / 'tokens.db'}")]
        if args.postgres:
            backends.append(("PostgreSQL", args.postgres))
        for name, url in backends:
            store = open_store(url, StaticKey(new_key(), "the benchmark's key"))
            try:
                print(f"{name:24} {'wall µs':>9} {'CPU µs':>9}  per call, {args.calls} calls")
                for label, wall, cpu in measure(store, args.calls):
                    print(f"{label:24} {wall:9.1f} {cpu:9.1f}")
            finally:
                store.close()


if __name__ == "__main__":
    main()
