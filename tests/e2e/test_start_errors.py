"""A server, seed or key rotation that cannot start says why in one line (``error: …``, exit 2),
never a traceback: a database URL of another kind, a database that cannot be opened or reached,
a data directory that cannot be made, TLS files that cannot be read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import free_port


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTFED_")}
    return subprocess.run(
        [sys.executable, "-m", "connectfed.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def _one_error_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 2, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    for word in words:
        assert word in lines[0], output


def _bad_databases(tmp_path: Path) -> dict[str, tuple[str, str]]:
    refused = f"postgresql://127.0.0.1:{free_port()}/nothing"  # nothing listens there
    return {
        "another kind": ("mysql://127.0.0.1/db", "mysql"),
        "no such folder": (f"sqlite://{tmp_path}/missing/folder/connectfed.db", "missing"),
        "postgres refused": (refused, "PostgreSQL"),
    }


@pytest.mark.parametrize("case", ["another kind", "no such folder", "postgres refused"])
def test_a_database_that_cannot_be_opened_is_one_line(tmp_path: Path, case: str) -> None:
    url, word = _bad_databases(tmp_path)[case]
    data = str(tmp_path / "data")
    world = tmp_path / "world.yaml"
    world.write_text("connect: {instances: [{ref: main, alias: start-errors}]}\n")
    for command in (
        ["serve", "--port", str(free_port()), "--data-dir", data],
        ["seed", str(world), "--data-dir", data],
        ["rotate-token-key", "--data-dir", data],
        ["explain", "some-request-id", "--data-dir", data],
    ):
        _one_error_line(_run(*command, "--database-url", url), word)


def test_a_data_directory_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("")
    _one_error_line(_run("serve", "--port", str(free_port()), "--data-dir", str(taken)), str(taken))


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_data_directory_that_cannot_be_made_private_is_one_line(tmp_path: Path) -> None:
    """A data directory open to others whose mode this user may not change (another user's
    folder; here /proc/self, whose mode not even root may change) stops the server and the seed
    with one line: the secrets in it would not be private (it was a PermissionError
    traceback)."""
    world = tmp_path / "world.yaml"
    world.write_text("connect: {instances: [{ref: main, alias: start-errors}]}\n")
    for command in (["serve", "--port", str(free_port())], ["seed", str(world)]):
        _one_error_line(_run(*command, "--data-dir", "/proc/self"), "/proc/self", "private")


def test_tls_files_that_cannot_be_read_are_one_line(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.pem")
    result = _run(
        "serve",
        "--port",
        str(free_port()),
        "--data-dir",
        str(tmp_path / "data"),
        "--tls-cert",
        missing,
        "--tls-key",
        missing,
    )
    _one_error_line(result, "--tls-cert")


@pytest.mark.parametrize(
    ("option", "value", "word"),
    [
        ("--port", "99999", "--port"),
        ("--port", "-1", "--port"),
        ("--public-url", "connectfed.example:8000", "--public-url"),
        ("--public-url", "ftp://connectfed.example", "--public-url"),
        ("--throttle-rate", "-1", "--throttle-rate"),
        ("--throttle-rate", "nan", "--throttle-rate"),
        ("--throttle-burst", "0", "--throttle-burst"),
        ("--access-token-seconds", "0", "--access-token-seconds"),
        ("--refresh-token-seconds", "-60", "--refresh-token-seconds"),
        ("--refresh-reuse-grace-seconds", "-1", "--refresh-reuse-grace-seconds"),
        ("--body-timeout", "0", "--body-timeout"),
        ("--max-header-count", "0", "--max-header-count"),
        ("--cache-ttl", "-1", "--cache-ttl"),
        ("--cache-ttl", "nan", "--cache-ttl"),
        ("--audit-retention-days", "-1", "--audit-retention-days"),
        ("--audit-retention-days", "nan", "--audit-retention-days"),
        ("--audit-max-events", "-5", "--audit-max-events"),
    ],
)
def test_an_option_out_of_range_is_one_line(
    tmp_path: Path, option: str, value: str, word: str
) -> None:
    port = ["--port", str(free_port())] if option != "--port" else []
    result = _run("serve", *port, "--data-dir", str(tmp_path / "data"), option, value)
    _one_error_line(result, word)
    assert not (tmp_path / "data").exists()  # refused before anything is made
