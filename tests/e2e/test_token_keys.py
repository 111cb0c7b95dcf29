"""Rotating the server's token key (``connectfed rotate-token-key``) with servers running: live
tokens keep working, new ones are hashed with the new key, and a server whose copy of the key
ring is older still verifies them. Also: Streams' worker reads ``/auth/authorize``'s expiration
the way we mean it (``new Date(response.expiration)`` in node)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import IN_CI
from tests.support.browser import Browser
from tests.support.server import Server, start_server
from tests.support.world import build_world


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_rotating_the_token_key_keeps_live_tokens(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_server(data, "--throttle-rate", "0")
    second: Server | None = None
    try:
        world = build_world(first, "keys")
        signed_in = Browser(first.url)
        assert (
            signed_in.get(
                _path(
                    world.connect_as("agent1").get_federation_token(InstanceId=world.instance_id)[
                        "SignInUrl"
                    ]
                )
            ).status
            == 303
        )
        unused = world.connect_as("agent2").get_federation_token(InstanceId=world.instance_id)
        rotated = _rotate(data, env={})
        assert rotated.returncode == 0, rotated.stderr
        assert rotated.stdout.startswith("token key k1 is now current (still verifying: k0)")
        # The running server keeps honouring what it issued with the old key...
        assert signed_in.get("/auth/authorize").status == 200
        # ...and a server started after the rotation hashes new tokens with the new key,
        second = start_server(data, "--throttle-rate", "0")
        via_second = replace(world, server=second)
        fresh = via_second.connect_as("agent1").get_federation_token(InstanceId=world.instance_id)
        browser = Browser(first.url)  # spent at the first server, which may not have k1 yet
        assert browser.get(_path(fresh["SignInUrl"])).status == 303
        assert browser.get("/auth/authorize").status == 200
        # while the old key still verifies the tokens it hashed, at the new server too.
        old = Browser(second.url)
        assert old.get(_path(unused["SignInUrl"])).status == 303
        with sqlite3.connect(data / "connectfed.db") as db:
            keys = {row[0] for row in db.execute("SELECT DISTINCT key_id FROM tokens")}
        assert keys == {"k0", "k1"}
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_rotate_token_key_without_a_database_says_so(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "connectfed.cli.main",
            "rotate-token-key",
            "--data-dir",
            str(tmp_path / "nothing-here"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout.startswith("error: no database at ")
    assert not (tmp_path / "nothing-here" / "connectfed.db").exists()


def _rotate(data: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "connectfed.cli.main",
            "rotate-token-key",
            "--data-dir",
            str(data),
            *args,
        ],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "CONNECTFED_MASTER_KEY"} | env,
        timeout=60,
    )


@pytest.mark.parametrize("given_by", ["--master-key-file", "CONNECTFED_MASTER_KEY"])
def test_rotate_token_key_opens_the_database_with_the_servers_master_key(
    tmp_path: Path, given_by: str
) -> None:
    """A server whose master key is not ``<data-dir>/master.key`` (always so on PostgreSQL)."""
    data = tmp_path / "data"
    key = base64.b64encode(os.urandom(32)).decode()
    key_file = tmp_path / "elsewhere" / "master.key"
    key_file.parent.mkdir()
    key_file.write_text(key)
    args, env = (
        (("--master-key-file", str(key_file)), {})
        if given_by == "--master-key-file"
        else ((), {"CONNECTFED_MASTER_KEY": key})
    )
    start_server(data, "--throttle-rate", "0", *args, env=env).stop()
    assert not (data / "master.key").exists()

    without = _rotate(data, env={})
    assert without.returncode == 2
    assert without.stdout.startswith("error: ") and len(without.stdout.splitlines()) == 1
    assert "Traceback" not in without.stderr, without.stderr

    rotated = _rotate(data, *args, env=env)
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert rotated.stdout.startswith("token key k1 is now current (still verifying: k0)")
    start_server(data, "--throttle-rate", "0", *args, env=env).stop()


def _node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            raise RuntimeError("node is required in CI (scripts/test installs it)")
        pytest.skip("node is not installed")
    return node


def test_streams_reads_the_authorize_expiration_as_meant(server: Server) -> None:
    node = _node_or_skip()
    world = build_world(server, "keys-streams")
    browser = Browser(server.url)
    browser.get(
        _path(
            world.connect_as("agent1").get_federation_token(InstanceId=world.instance_id)[
                "SignInUrl"
            ]
        )
    )
    response = browser.get("/auth/authorize").json()
    # What Streams' worker does with the response (ClientEngine.prototype.authorize).
    script = (
        "const r = JSON.parse(process.argv[1]);"
        "const e = new Date(r.expiration); const f = new Date(r.refreshTokenExpiration);"
        "console.log(JSON.stringify([e.getTime(), f.getTime(), typeof r.accessToken]));"
    )
    out = subprocess.run(
        [node, "-e", script, json.dumps(response)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    access_ms, refresh_ms, kind = json.loads(out)
    assert kind == "string"
    expected = datetime.fromisoformat(response["expiration"].replace("Z", "+00:00"))
    assert access_ms == int(expected.timestamp() * 1000)
    assert refresh_ms >= access_ms
