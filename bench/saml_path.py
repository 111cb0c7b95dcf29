"""The SAML browser sign-in in one process, without sockets: CPU µs per ``POST /saml``.

Builds the demo world with its test IdP on a temporary SQLite database, signs a pool of distinct
SAMLResponses for agent1 (each is accepted once), then POSTs them one after another to the ASGI
application, with a RelayState into the demo instance as an IdP's auto-submitting form does (the
answer is a 303 to ``/connect/federate/…``). Each run spends ``--signins`` fresh assertions and
reports CPU µs per sign-in (``time.process_time``: the whole process, every thread's, so the
store threads and the audit writer count), wall µs beside it; the median of ``--runs`` runs is
the number to quote. With ``--profile`` it prints the cProfile of one run instead (top functions
by own time, store calls on the profiled thread).

    .venv/bin/python -m bench.saml_path [--signins 1000] [--runs 3] [--profile]

Signing the pool (RSA, in the test IdP) is done before any timing and costs more than the
sign-ins themselves; it is not measured.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import dataclasses
import pstats
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from tests.support.asgi import asgi_call

from bench.hot_path import FORM, HOST, _Inline
from connectfed.app import build_services, create_edge
from connectfed.demo import ensure_demo
from connectfed.settings import Settings
from connectfed.web.testidp_site import TestIdpSite

HEADERS = [(b"host", HOST.encode()), (b"content-type", FORM.encode())]


def _pool(site: TestIdpSite, instance_id: str, count: int) -> list[bytes]:
    """``count`` distinct signed sign-ins (form bodies) for agent1 into the demo instance."""
    user = site.users["agent1"]
    relay = f"http://{HOST}/connect/federate/{instance_id}?destination={quote('/ccp-v2/')}"
    bodies = []
    for _ in range(count):
        response = site.signed_response(user, lifetime=timedelta(hours=1))
        encoded = base64.b64encode(response).decode()
        bodies.append(urlencode({"SAMLResponse": encoded, "RelayState": relay}).encode())
    return bodies


async def _signin(app: Any, body: bytes) -> int:
    sent = await asgi_call(app, "POST", "/saml", HEADERS, body)
    return int(sent[0]["status"])


async def _measure(app: Any, bodies: list[bytes]) -> tuple[float, float]:
    """(wall µs, CPU µs) per sign-in over ``bodies``; every one must succeed (303)."""
    start, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        status = await _signin(app, body)
        assert status == 303, status
    count = len(bodies)
    return (time.perf_counter() - start) / count * 1e6, (time.process_time() - cpu) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signins", type=int, default=1000, help="sign-ins per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warm", type=int, default=100, help="sign-ins before timing")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime", help="cProfile order: tottime, cumulative")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    runs = 1 if args.profile else args.runs
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite://{Path(tmp) / 'db.sqlite'}",
            throttle_rate=0,
            public_url=f"http://{HOST}",
        )
        services = build_services(settings)
        if args.profile:
            # cProfile sees one thread: run the store calls on this one.
            services = dataclasses.replace(services, offload=_Inline())
        demo = ensure_demo(services, test_idp=True)
        assert demo.idp is not None
        app = create_edge(services, demo.idp)
        print(f"signing {args.warm + runs * args.signins} assertions …", flush=True)
        pool = _pool(demo.idp, demo.instance_id, args.warm + runs * args.signins)

        async def run() -> None:
            await _measure(app, pool[: args.warm])
            batches = [
                pool[args.warm + i * args.signins : args.warm + (i + 1) * args.signins]
                for i in range(runs)
            ]
            if args.profile:
                profile = cProfile.Profile()
                profile.enable()
                await _measure(app, batches[0])
                profile.disable()
                pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
                return
            cpus = []
            for number, batch in enumerate(batches, 1):
                wall, cpu = await _measure(app, batch)
                cpus.append(cpu)
                print(f"run {number}: {wall:8.1f} wall µs {cpu:8.1f} CPU µs per sign-in")
            median = statistics.median(cpus)
            print(f"median CPU µs per sign-in: {median:.1f} ({1e6 / median:.0f} sign-ins/s/core)")

        asyncio.run(run())
        services.close()


if __name__ == "__main__":
    main()
