"""The admin API's HTTP contract (docs/admin.md), through the real server: shapes of the clock
and fault routes, 400 for bad input, 404 when off, 401/403 around the token, the typed clients
(blocking and asyncio) and ``connectfed admin``."""

from __future__ import annotations

import asyncio
import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectfed.client import AdminClient, AdminError, AsyncAdminClient, FaultSpec
from tests.support.admin import start_admin_server
from tests.support.server import Server, free_port, start_server

TOKEN = "test-admin-token-0123456789"


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_admin_server(tmp_path_factory.mktemp("admin"))
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _reset(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "admin_server" in request.fixturenames:
        client = AdminClient(request.getfixturevalue("admin_server").url)
        client.set_offset(0)
        client.clear_faults()


def _http(
    server: Server,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, dict[str, str], Any]:
    port = int(server.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    payload = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    try:
        conn.request(method, path, body=payload, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return (
        response.status,
        {k.lower(): v for k, v in response.getheaders()},
        json.loads(data) if data else None,
    )


def test_the_clock_reads_and_moves(admin_server: Server) -> None:
    status, headers, document = _http(admin_server, "GET", "/_connectfed/clock")
    assert status == 200 and headers["content-type"] == "application/json"
    assert set(document) == {"now", "offset_seconds"} and document["offset_seconds"] == 0
    now = datetime.fromisoformat(document["now"].replace("Z", "+00:00"))
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=60)
    status, _, moved = _http(admin_server, "POST", "/_connectfed/clock", {"advance_seconds": 90})
    assert status == 200 and moved["offset_seconds"] == 90
    status, _, moved = _http(admin_server, "POST", "/_connectfed/clock", {"advance_seconds": 10})
    assert moved["offset_seconds"] == 100
    moved_now = datetime.fromisoformat(moved["now"].replace("Z", "+00:00"))
    assert moved_now - now > timedelta(seconds=99)
    status, _, moved = _http(admin_server, "POST", "/_connectfed/clock", {"offset_seconds": -30})
    assert status == 200 and moved["offset_seconds"] == -30
    assert _http(admin_server, "GET", "/_connectfed/clock")[2]["offset_seconds"] == -30


def test_a_fault_is_created_listed_and_deleted(admin_server: Server) -> None:
    spec = {
        "service": "connect",
        "operation": "GetFederationToken",
        "error": "ThrottlingException",
        "count": 2,
    }
    status, _, fault = _http(admin_server, "POST", "/_connectfed/faults", spec)
    assert status == 201
    assert fault == {**spec, "id": fault["id"], "latency_ms": None, "drop": False, "rate": None}
    _, _, other = _http(
        admin_server,
        "POST",
        "/_connectfed/faults",
        {"service": "sts", "latency_ms": 500, "rate": 0.5},
    )
    assert other["operation"] is None and other["rate"] == 0.5 and other["count"] is None
    status, _, listing = _http(admin_server, "GET", "/_connectfed/faults")
    assert status == 200 and listing == {"faults": [fault, other]}
    status, _, body = _http(admin_server, "DELETE", f"/_connectfed/faults/{fault['id']}")
    assert (status, body) == (204, None)
    assert _http(admin_server, "DELETE", f"/_connectfed/faults/{fault['id']}")[0] == 404
    assert _http(admin_server, "GET", "/_connectfed/faults")[2] == {"faults": [other]}
    assert _http(admin_server, "DELETE", "/_connectfed/faults")[0] == 204
    assert _http(admin_server, "GET", "/_connectfed/faults")[2] == {"faults": []}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_connectfed/clock", {}),
        ("/_connectfed/clock", {"advance_seconds": 1, "offset_seconds": 2}),
        ("/_connectfed/clock", {"advance_seconds": "60"}),
        ("/_connectfed/clock", {"advance_seconds": True}),
        ("/_connectfed/clock", {"advance_seconds": -5}),
        ("/_connectfed/clock", {"offset_seconds": 1e300}),
        ("/_connectfed/clock", {"advanceSeconds": 5}),
        ("/_connectfed/clock", [1]),
        ("/_connectfed/faults", {"operation": "GetFederationToken", "drop": True}),
        ("/_connectfed/faults", {"service": "connect", "error": "Boom"}),
        ("/_connectfed/faults", {"service": "connect", "operation": "Nope", "drop": True}),
        ("/_connectfed/faults", {"service": "connect", "drop": "yes"}),
        ("/_connectfed/faults", {"service": "connect", "drop": True, "count": 1.5}),
        ("/_connectfed/faults", {"service": "connect", "drop": True, "count": 2, "rate": 0.5}),
        ("/_connectfed/faults", {"service": "connect", "latency": 500}),
        ("/_connectfed/faults", "connect"),
    ],
)
def test_bad_input_is_a_400_with_a_message(admin_server: Server, path: str, body: Any) -> None:
    status, headers, document = _http(admin_server, "POST", path, body)
    assert status == 400, document
    assert headers["content-type"] == "application/json"
    assert isinstance(document["message"], str) and document["message"]
    assert _http(admin_server, "GET", "/_connectfed/faults")[2] == {"faults": []}


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b"[" * 200 + b"]" * 200])
def test_a_body_that_is_not_json_is_a_400(admin_server: Server, raw: bytes) -> None:
    for path in ("/_connectfed/clock", "/_connectfed/faults"):
        status, _, document = _http(admin_server, "POST", path, raw=raw)
        assert status == 400 and document["message"]


def test_other_methods_are_a_405(admin_server: Server) -> None:
    status, headers, _ = _http(admin_server, "DELETE", "/_connectfed/clock")
    assert status == 405 and headers["allow"] == "GET, POST"
    assert _http(admin_server, "GET", "/_connectfed/faults/fault-1")[0] == 405


def test_the_admin_api_is_off_unless_asked_for(server: Server) -> None:
    for method, path in (
        ("GET", "/_connectfed/clock"),
        ("POST", "/_connectfed/clock"),
        ("GET", "/_connectfed/faults"),
        ("DELETE", "/_connectfed/faults/x"),
    ):
        status, _, document = _http(server, method, path, {"advance_seconds": 60})
        assert status == 404, (method, path)
        assert "--admin" in document["message"]
    with pytest.raises(AdminError) as caught:
        AdminClient(server.url).advance(60)
    assert caught.value.status == 404


def test_demo_on_a_public_bind_without_token_says_the_token_is_missing(tmp_path: Path) -> None:
    """--demo implies --admin, except on a public bind without a token: the 404 says so."""
    srv = start_server(tmp_path, "--demo", "--host", "0.0.0.0")  # noqa: S104
    try:
        status, _, document = _http(srv, "GET", "/_connectfed/clock")
        assert status == 404 and "--admin-token" in document["message"], document
    finally:
        srv.stop()


def test_a_public_bind_needs_the_bearer_token(tmp_path: Path) -> None:
    srv = start_admin_server(
        tmp_path,
        "--host",
        "0.0.0.0",  # noqa: S104
        env={"CONNECTFED_ADMIN_TOKEN": TOKEN},
    )
    try:
        status, headers, _ = _http(srv, "GET", "/_connectfed/clock")
        assert status == 401 and headers["www-authenticate"].startswith("Bearer")
        wrong = {"Authorization": "Bearer not-the-token"}
        assert (
            _http(srv, "POST", "/_connectfed/faults", {"service": "connect", "drop": True}, wrong)[
                0
            ]
            == 403
        )
        with pytest.raises(AdminError) as caught:
            AdminClient(srv.url).clock()
        assert caught.value.status == 401
        client = AdminClient(srv.url, TOKEN)
        assert client.advance(30).offset_seconds == 30
        assert client.faults() == []
    finally:
        srv.stop()


def test_admin_on_a_public_bind_without_token_does_not_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "connectfed.cli.main",
            "serve",
            "--admin",
            "--host",
            "0.0.0.0",  # noqa: S104
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "error: --admin on a non-loopback bind (0.0.0.0) needs a token" in result.stdout


def test_the_typed_client(admin_server: Server) -> None:
    client = AdminClient(admin_server.url)
    assert client.clock().offset_seconds == 0
    state = client.advance(3600)
    assert state.offset_seconds == 3600 and state.now.tzinfo is not None
    assert client.set_offset(-60).offset_seconds == -60
    fault = client.add_fault(FaultSpec("connect", "GetFederationToken", latency_ms=250, count=3))
    assert (fault.service, fault.latency_ms, fault.count, fault.drop) == ("connect", 250, 3, False)
    assert client.faults() == [fault]
    client.remove_fault(fault.id)
    with pytest.raises(AdminError) as caught:
        client.remove_fault(fault.id)
    assert caught.value.status == 404
    with pytest.raises(AdminError) as caught:
        client.add_fault(FaultSpec("connect", error="Nope"))
    assert caught.value.status == 400 and "error must be one of" in caught.value.message
    client.add_fault(FaultSpec("iam", drop=True, rate=0.25))
    client.clear_faults()
    assert client.faults() == []
    with pytest.raises(ValueError, match="finite"):  # never sent as JSON's non-JSON NaN
        client.advance(float("nan"))


def test_the_asyncio_client(admin_server: Server) -> None:
    async def scenario() -> None:
        client = AsyncAdminClient(admin_server.url)
        assert (await client.advance(120)).offset_seconds == 120
        fault = await client.add_fault(FaultSpec("cti", error="ThrottlingException", count=1))
        assert await client.faults() == [fault]
        await client.clear_faults()
        assert (await client.set_offset(0)).offset_seconds == 0
        assert await client.faults() == []

    asyncio.run(scenario())


def _cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "connectfed.cli.main", "admin", "--endpoint-url", server.url, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_admin_command(admin_server: Server) -> None:
    moved = _cli(admin_server, "clock", "--advance", "600")
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["offset_seconds"] == 600
    added = _cli(
        admin_server,
        "faults",
        "add",
        "--service",
        "connect",
        "--operation",
        "GetFederationToken",
        "--error",
        "ThrottlingException",
        "--count",
        "2",
    )
    assert added.returncode == 0, added.stderr
    fault = json.loads(added.stdout)
    assert fault["count"] == 2 and fault["error"] == "ThrottlingException"
    listed = json.loads(_cli(admin_server, "faults", "list").stdout)
    assert [f["id"] for f in listed["faults"]] == [fault["id"]]
    assert _cli(admin_server, "faults", "clear", "--id", fault["id"]).returncode == 0
    assert json.loads(_cli(admin_server, "faults", "list").stdout) == {"faults": []}
    bad = _cli(
        admin_server, "faults", "add", "--service", "connect", "--operation", "Nope", "--drop"
    )
    assert bad.returncode == 1 and "no operation 'Nope'" in bad.stderr
    assert json.loads(_cli(admin_server, "clock", "--offset", "0").stdout)["offset_seconds"] == 0
    for args in (("clock", "--advance", "nan"), ("clock", "--offset", "1e400")):
        refused = _cli(admin_server, *args)  # said before sending, not "not valid JSON"
        assert refused.returncode == 2 and "not a finite number" in refused.stderr, refused


def test_the_admin_command_refuses_an_endpoint_that_is_not_a_url() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "connectfed.cli.main",
            "admin",
            "--endpoint-url",
            "localhost:8000",
            "clock",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "error: not an http(s) URL: 'localhost:8000'\n", done.stderr
