"""The hot path in one process, without sockets: how many microseconds each operation costs
inside the server (the edge middlewares, SigV4, policy evaluation, the store), and where they go.

Builds a demo world on a temporary SQLite database, signs one request per operation, then calls
the ASGI application directly, one request after another, and reports µs per request. With
``--profile OP`` it prints the cProfile of that operation instead (the top functions by own
time): the place to look before changing anything on the hot path.

    .venv/bin/python -m bench.hot_path [--requests 3000] [--profile GetFederationToken]

Complements ``bench.side_by_side`` (wrk over real connections): this one is steadier on a busy
machine, and its ratios between operations move the same way. One request at a time, each
GetFederationToken's token family is a batch of its own for the store's writer thread
(``store/deferred.py``): its figure here is a lone federation's cost, without the batching that
concurrent requests share (measure that with ``bench.side_by_side``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from tests.support.asgi import asgi_call

from connectfed.app import build_services, create_edge
from connectfed.demo import demo_caller, ensure_demo
from connectfed.offload import Offload
from connectfed.settings import Settings
from connectfed.store.records import Tag

HOST = "127.0.0.1:8000"


class _Inline(Offload):
    def __init__(self) -> None:
        super().__init__(1)

    async def run(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)


FORM = "application/x-www-form-urlencoded; charset=utf-8"


class Request(NamedTuple):
    method: str
    path: str
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _signed(
    method: str, path: str, service: str, creds: Credentials, body: bytes = b"", form: bool = False
) -> Request:
    request = AWSRequest(method=method, url=f"http://{HOST}{path}", data=body)
    if form:
        request.headers["Content-Type"] = FORM
    SigV4Auth(creds, service, "us-east-1").add_auth(request)
    headers = [(b"host", HOST.encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    return Request(method, path, headers, body)


async def _call(app: Any, request: Request) -> int:
    sent = await asgi_call(app, request.method, request.path, request.headers, request.body)
    return int(sent[0]["status"])


def _requests(services: Any, role_tags: int = 0) -> dict[str, Request]:
    demo = ensure_demo(services)
    if role_tags:  # the role's tags: its sessions' aws:PrincipalTag/<key>, on every request
        account, name = demo.role_arn.split(":")[4], demo.role_arn.rsplit("/", 1)[1]
        role = services.store.get_role(account, name)
        tags = [Tag(f"key{i}", f"value{i}") for i in range(role_tags)]
        services.store.tag_owner("role", role.role_id, tags)
    c = services.sts.assume_role(demo_caller(services, demo), demo.role_arn, "agent1").credentials
    session = Credentials(c.access_key_id, c.secret_access_key, c.session_token)
    identity = b"Action=GetCallerIdentity&Version=2011-06-15"
    return {
        "health": _signed("GET", "/_connectfed/health", "sts", session),
        "GetCallerIdentity": _signed("POST", "/", "sts", session, identity, form=True),
        "GetFederationToken": _signed(
            "GET", f"/user/federate/{demo.instance_id}", "connect", session
        ),
    }


async def _measure(app: Any, request: Request, count: int) -> tuple[float, float]:
    """(wall µs, CPU µs) per request; CPU time is the whole process's, every thread's (the
    store threads, the audit writer), and moves much less than wall time on a busy machine."""
    for _ in range(min(200, count)):  # warm the caches
        assert await _call(app, request) == 200
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        await _call(app, request)
    wall = (time.perf_counter() - start) / count * 1e6
    return wall, (time.process_time() - cpu) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profile", metavar="OPERATION")
    parser.add_argument("--sort", default="tottime", help="cProfile order: tottime, cumulative")
    parser.add_argument("--role-tags", type=int, default=0, help="tags on the demo role")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite://{Path(tmp) / 'db.sqlite'}", throttle_rate=0)
        services = build_services(settings)
        if args.profile:
            # cProfile sees one thread: run the store calls on this one.
            services = dataclasses.replace(services, offload=_Inline())
        app = create_edge(services)
        requests = _requests(services, args.role_tags)

        async def run() -> None:
            if args.profile:
                request = requests[args.profile]
                await _measure(app, request, 200)
                profile = cProfile.Profile()
                profile.enable()
                await _measure(app, request, args.requests)
                profile.disable()
                pstats.Stats(profile).sort_stats(args.sort).print_stats(45)
                return
            print(f"{'':20} {'wall µs':>9} {'CPU µs':>9}  per request, {args.requests} requests")
            for name, request in requests.items():
                wall, cpu = await _measure(app, request, args.requests)
                print(f"{name:20} {wall:9.1f} {cpu:9.1f}")

        asyncio.run(run())
        services.close()


if __name__ == "__main__":
    main()
