"""A real ``connectfed serve`` in a subprocess, on a free loopback port, for tests.

It runs with ``--admin`` (the clock and fault API), ``--cache-ttl 0`` (worlds applied from the
test process are seen at once) and throttling off unless asked for; its bootstrap account and
root key are fixed (:data:`ACCOUNT_ID`, :data:`ROOT_ACCESS_KEY_ID`,
:data:`ROOT_SECRET_ACCESS_KEY`), so tests may hard-code them. The master key is a file in the
temporary folder, shared with the test process that seeds the same database: random for the
temporary SQLite database, :data:`MASTER_KEY` for a database the tests name, which servers of
later scopes and later runs open again.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# AWS's documentation examples: recognisably fake, and valid in form.
ACCOUNT_ID = "123456789012"
ROOT_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
ROOT_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # noqa: S105 (AWS docs)
REGION = "us-east-1"
# Fixed and public like the root keys: every server on a named test database must unseal what
# the first one sealed (a random key per server failed the second with "does not match").
MASTER_KEY = base64.b64encode(b"connectfed pytest plugin test db").decode()


class ServerFailed(RuntimeError):
    """The server exited or did not answer in time; the message holds its output."""


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    url: str
    data_dir: Path
    database_url: str
    master_key_file: Path
    process: subprocess.Popen[str]
    region: str = REGION
    output: list[str] = field(default_factory=list)
    _pump: threading.Thread | None = None

    @classmethod
    def start(
        cls,
        folder: Path,
        *,
        database_url: str | None = None,
        args: Sequence[str] = (),
        timeout: float = 60.0,
    ) -> ServerProcess:
        """Start a server keeping its files in ``folder`` (SQLite there unless
        ``database_url`` names a PostgreSQL database); returns once it answers."""
        folder.mkdir(parents=True, exist_ok=True)
        data_dir = folder / "data"
        key_file = folder / "master.key"
        if not key_file.exists():
            key = MASTER_KEY if database_url else base64.b64encode(os.urandom(32)).decode()
            key_file.write_text(key)
            key_file.chmod(0o600)
        url_db = database_url or f"sqlite://{(data_dir / 'connectfed.db').resolve()}"
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "connectfed.cli.main",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--database-url",
            url_db,
            "--master-key-file",
            str(key_file),
            "--admin",
            "--cache-ttl",
            "0",
            "--throttle-rate",
            "0",
            # The pipe below is its stdin: a test run killed before its teardown (a CI job's
            # timeout, SIGKILL) closes it, and the server stops instead of serving on.
            "--stop-when-stdin-closes",
            *args,
        ]
        env = dict(
            os.environ,
            PYTHONUNBUFFERED="1",
            CONNECTFED_ACCOUNT_ID=ACCOUNT_ID,
            CONNECTFED_ROOT_ACCESS_KEY_ID=ROOT_ACCESS_KEY_ID,
            CONNECTFED_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET_ACCESS_KEY,
        )
        env.pop("CONNECTFED_MASTER_KEY", None)  # the key file above is the one both sides use
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        server = cls(f"http://127.0.0.1:{port}", data_dir, url_db, key_file, process)
        server._wait(timeout)
        return server

    def _wait(self, timeout: float) -> None:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        for line in self.process.stdout:
            self.output.append(line)
            if line.strip() == "READY":
                break
        else:
            self.process.wait()
            raise ServerFailed("connectfed serve exited:\n" + "".join(self.output))
        self._pump = threading.Thread(target=self._drain, daemon=True)
        self._pump.start()
        while time.monotonic() < deadline:
            try:
                health = f"{self.url}/_connectfed/health"
                with urllib.request.urlopen(health, timeout=1):  # noqa: S310 (http URL)
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise ServerFailed("connectfed serve did not answer:\n" + "".join(self.output))

    def _drain(self) -> None:
        """Keep reading the server's output (a full pipe would block it)."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdin is not None:
            self.process.stdin.close()
        if self._pump is not None:
            self._pump.join(timeout=5)
