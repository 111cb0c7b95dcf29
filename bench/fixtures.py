"""What the wrk benchmarks replay: servers pinned to a core, a federation world, and pools of
signed requests (SigV4 by botocore, SAML assertions by the test IdP), built just before a run."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from tests.support.saml_world import SamlWorld, saml_trust
from tests.support.server import Server, free_port, start_server
from tests.support.world import build_world, trust_account

from bench.loadgen import raw_request
from connectfed.saml.testidp import TestIdp

CALLER_IDENTITY = b"Action=GetCallerIdentity&Version=2011-06-15"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


@contextlib.contextmanager
def pinned(core: int) -> Iterator[None]:
    """Processes started inside inherit this affinity (``taskset -c core``)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def start_connectfed(
    data_dir: Path, core: int, *args: str, database_url: str | None = None
) -> Server:
    with pinned(core):
        return start_server(data_dir, "--throttle-rate", "0", *args, database_url=database_url)


def start_process(command: list[str], core: int, ready_url: str) -> subprocess.Popen[bytes]:
    with pinned(core):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(ready_url, timeout=1)  # noqa: S310 (a local URL)
            return process
        except urllib.error.HTTPError:
            return process  # answering, even if with an error
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{command[0]} did not start")


def start_hello(core: int) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    return url, start_process(
        [sys.executable, "-m", "bench.hello", "--port", str(port)], core, url + "/"
    )


def host_of(url: str) -> str:
    return urlsplit(url).netloc


def signed(
    url: str,
    method: str,
    path: str,
    service: str,
    key: str,
    secret: str,
    token: str | None,
    body: bytes = b"",
    content_type: str | None = None,
) -> bytes:
    headers = {"Content-Type": content_type} if content_type else {}
    request = AWSRequest(method=method, url=url + path, data=body, headers=headers)
    SigV4Auth(Credentials(key, secret, token), service, "us-east-1").add_auth(request)
    return raw_request(method, host_of(url), path, dict(request.headers.items()), body)


@dataclass
class Bench:
    """A SAML federation world with ``agents`` Connect users, and their role sessions."""

    server: Server
    saml: SamlWorld
    sessions: list[dict[str, str]]

    @property
    def instance_id(self) -> str:
        return self.saml.world.instance_id

    def federation_pool(self) -> list[bytes]:
        path = f"/user/federate/{self.instance_id}"
        return [
            signed(
                self.server.url,
                "GET",
                path,
                "connect",
                s["AccessKeyId"],
                s["SecretAccessKey"],
                s["SessionToken"],
            )
            for s in self.sessions
        ]

    def caller_identity_pool(self) -> list[bytes]:
        return [
            signed(
                self.server.url,
                "POST",
                "/",
                "sts",
                s["AccessKeyId"],
                s["SecretAccessKey"],
                s["SessionToken"],
                CALLER_IDENTITY,
                FORM,
            )
            for s in self.sessions
        ]

    def saml_pool(self, count: int, workers: int = 2) -> list[bytes]:
        """``count`` distinct signed assertions (the browser flow accepts each once), POSTed to
        /saml with a RelayState into the instance, as an IdP's auto-submitting form does."""
        relay = (
            f"{self.server.url}/connect/federate/{self.instance_id}"
            f"?destination={quote('/ccp-v2/', safe='')}"
        )
        names = [s["session_name"] for s in self.sessions]
        jobs = [(names[i % len(names)], i) for i in range(count)]
        chunk = max(1, count // (workers * 8))
        global _SAML
        _SAML = self.saml
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            assertions = list(pool.map(_assertion, [j[0] for j in jobs], chunksize=chunk))
        host = host_of(self.server.url)
        return [
            raw_request(
                "POST",
                host,
                "/saml",
                {"Content-Type": FORM},
                urlencode({"SAMLResponse": a, "RelayState": relay}).encode(),
            )
            for a in assertions
        ]


_SAML: SamlWorld | None = None


def _assertion(session_name: str) -> str:
    assert _SAML is not None
    return _SAML.assertion(session_name, lifetime=timedelta(minutes=15))


def build_bench(server: Server, agents: int) -> Bench:
    """Through the real API: an instance, ``agents`` users agent1…, a role federating them, a
    SAML provider trusted by it, and one role session per user."""
    world = build_world(server, "bench")
    idp = TestIdp(entity_id="https://idp.example.test/bench")
    iam = server.client("iam")
    provider = iam.create_saml_provider(SAMLMetadataDocument=idp.metadata(), Name="idp-bench")[
        "SAMLProviderArn"
    ]
    # Both ways in: the IAM caller's AssumeRole (the API pools) and the IdP's SAML (sign-in).
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            json.loads(trust_account())["Statement"][0],
            json.loads(saml_trust(provider))["Statement"][0],
        ],
    }
    iam.update_assume_role_policy(
        RoleName=world.role_arn.rsplit("/", 1)[1], PolicyDocument=json.dumps(trust)
    )
    saml = SamlWorld(world, idp, provider, world.role_arn)
    for number in range(3, agents + 1):  # build_world made agent1 and agent2
        world.add_agent(f"agent{number}")
    sessions = []
    for number in range(1, agents + 1):
        creds = world.assume(f"agent{number}", DurationSeconds=3600)
        sessions.append({**creds, "session_name": f"agent{number}"})
    return Bench(server, saml, sessions)
