"""Data at rest: a private data directory and database files, secrets sealed under a master key
that never enters the database, and a clear refusal to start with a wrong or missing key."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from connectfed.saml.testidp import SigningKey, TestIdp
from connectfed.store import KeyFile, StaticKey, open_store
from connectfed.store.sealing import decode_key
from tests.conftest import postgres_or_skip
from tests.support.server import (
    ACCOUNT_ID,
    ROOT_KEY,
    ROOT_SECRET,
    SHARED_MASTER_KEY,
    Server,
    free_port,
    start_server,
)
from tests.support.world import build_world


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _secrets_through_the_api(server: Server) -> tuple[list[str], list[str]]:
    """Create keys, sessions and tokens; return (secrets, key ids that are stored in clear)."""
    world = build_world(server, "rest")
    iam = server.client("iam")
    iam.create_user(UserName="second")
    extra = iam.create_access_key(UserName="second")["AccessKey"]
    secrets = [ROOT_SECRET, world.caller_secret, extra["SecretAccessKey"]]
    ids = [ROOT_KEY, world.caller_key, extra["AccessKeyId"]]
    for agent in ("agent1", "agent2"):
        creds = world.assume(agent)
        secrets += [creds["SecretAccessKey"], creds["SessionToken"]]
        ids.append(creds["AccessKeyId"])
        connect = server.client(
            "connect", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        )
        tokens = connect.get_federation_token(InstanceId=world.instance_id)["Credentials"]
        secrets += [tokens["AccessToken"], tokens["RefreshToken"]]
    # A SAML provider's private key (for encrypted assertions) is a secret kept recoverably too.
    sp = SigningKey.generate("at rest")
    iam.create_saml_provider(
        Name="AtRest", SAMLMetadataDocument=TestIdp().metadata(), AddPrivateKey=sp.key_pem.decode()
    )
    pem_body = "".join(sp.key_pem.decode().splitlines()[1:-1])
    secrets += [sp.key_pem.decode(), pem_body[:64], pem_body[-64:]]
    return secrets, ids


def _token_key_forms(url: str, master_key: Any) -> list[bytes]:
    store = open_store(url, master_key)
    try:
        hex_key = store.meta_secret_setdefault("token_hmac_key", "00" * 32)
    finally:
        store.close()
    raw = bytes.fromhex(hex_key)
    return [hex_key.encode(), hex_key.upper().encode(), raw, base64.b64encode(raw)]


def _assert_absent(
    haystack: bytes, secrets: list[str], key_forms: list[bytes], ids: list[str]
) -> None:
    for key_id in ids:  # the search does see the stored rows
        assert key_id.encode() in haystack
    for secret in secrets:
        assert secret.encode() not in haystack, "a secret is readable in the database"
    for form in key_forms:
        assert form not in haystack, "the token HMAC key is readable in the database"


def test_sqlite_files_are_private_and_hold_no_secret(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data, "--throttle-rate", "0")
    try:
        secrets, ids = _secrets_through_the_api(server)
        files = [
            data / name for name in ("connectfed.db", "connectfed.db-wal", "connectfed.db-shm")
        ]
        assert _mode(data) == 0o700
        for path in [*files, data / "master.key"]:
            assert _mode(path) == 0o600, path
        haystack = b"".join(path.read_bytes() for path in files)
    finally:
        server.stop()
    url = f"sqlite://{data / 'connectfed.db'}"
    key_forms = _token_key_forms(url, KeyFile(data / "master.key"))
    _assert_absent(haystack, secrets, key_forms, ids)


def test_postgres_rows_hold_no_secret(tmp_path: Path) -> None:
    url = postgres_or_skip()
    server = start_server(tmp_path / "pg", "--throttle-rate", "0", database_url=url)
    try:
        secrets, ids = _secrets_through_the_api(server)
    finally:
        server.stop()
    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ]
        dump = "\n".join(
            repr(conn.execute(f'SELECT * FROM "{table}"').fetchall()) for table in tables
        )
    key_forms = _token_key_forms(url, StaticKey(decode_key(SHARED_MASTER_KEY, "test")))
    text_forms = [form for form in key_forms if form.isascii()]  # the rows are dumped as text
    _assert_absent(dump.encode(), secrets, text_forms, ids)
    assert not (tmp_path / "pg" / "master.key").exists()  # the operator's key was used


def test_loose_permissions_are_tightened_on_start(tmp_path: Path) -> None:
    data = tmp_path / "loose"
    start_server(data, "--throttle-rate", "0").stop()
    data.chmod(0o755)
    (data / "connectfed.db").chmod(0o644)
    server = start_server(data, "--throttle-rate", "0")
    try:
        assert _mode(data) == 0o700
        assert _mode(data / "connectfed.db") == 0o600
        assert any("tightened permissions" in line for line in server.output)
    finally:
        server.stop()


def _serve_once(data: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = dict(
        os.environ,
        CONNECTFED_ACCOUNT_ID=ACCOUNT_ID,
        CONNECTFED_ROOT_ACCESS_KEY_ID=ROOT_KEY,
        CONNECTFED_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
        **env,
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "connectfed.cli.main",
            "serve",
            "--data-dir",
            str(data),
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "case", ["missing file", "other file", "wrong env key", "malformed env key"]
)
def test_a_wrong_or_missing_master_key_stops_the_server_with_one_line(
    tmp_path: Path, case: str
) -> None:
    data = tmp_path / "keyed"
    start_server(data, "--throttle-rate", "0").stop()
    key_file = data / "master.key"
    original = key_file.read_text()
    env: dict[str, str] = {}
    if case == "missing file":
        key_file.unlink()
    elif case == "other file":
        key_file.write_text(base64.urlsafe_b64encode(b"o" * 32).decode())
    elif case == "wrong env key":
        env["CONNECTFED_MASTER_KEY"] = base64.b64encode(b"e" * 32).decode()
    else:
        env["CONNECTFED_MASTER_KEY"] = "not a key"
    result = _serve_once(data, **env)
    assert result.returncode == 2
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stdout + result.stderr
    expected = {"missing file": "is missing", "malformed env key": "must hold a base64"}
    assert expected.get(case, "does not match") in lines[0]
    assert "Traceback" not in result.stderr
    if case == "missing file":
        assert not key_file.exists()  # never silently regenerated
    key_file.write_text(original)
    start_server(data, "--throttle-rate", "0").stop()  # the right key still opens it
