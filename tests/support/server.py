"""Run a real connectfed server (``connectfed serve``) on a free port for a test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ACCOUNT_ID = "123456789012"
ROOT_KEY = "AKIAROOTEXAMPLE00001"
ROOT_SECRET = "rootSecretExample/abcdefghijklmnopqrstuv"
# Servers sharing one PostgreSQL database need one master key (README, "Secrets at rest").
SHARED_MASTER_KEY = "c2hhcmVkLXRlc3QtbWFzdGVyLWtleS0zMi1ieXRlcyE="


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    data_dir: Path
    region: str = "us-east-1"
    ca_bundle: str | None = None
    output: list[str] = field(default_factory=list)
    pump: threading.Thread | None = None

    def client(
        self,
        service: str,
        key: str = ROOT_KEY,
        secret: str = ROOT_SECRET,
        token: str | None = None,
        **config: Any,
    ) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            verify=self.ca_bundle if self.ca_bundle else None,
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, **config),
        )

    def follow_output(self) -> None:
        """Keep collecting the server's output (stdout and stderr) into ``output``; a server
        that logs a lot would otherwise block on a full pipe. Complete after :meth:`stop`."""

        def pump() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.output.append(line)

        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self.pump is not None:
            self.pump.join(timeout=10)


def start_server(
    data_dir: Path,
    *args: str,
    database_url: str | None = None,
    scheme: str = "http",
    env: dict[str, str] | None = None,
) -> Server:
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
        *args,
    ]
    if database_url:
        command += ["--database-url", database_url]
    environment = dict(
        os.environ,
        CONNECTFED_ACCOUNT_ID=ACCOUNT_ID,
        CONNECTFED_ROOT_ACCESS_KEY_ID=ROOT_KEY,
        CONNECTFED_ROOT_SECRET_ACCESS_KEY=ROOT_SECRET,
        PYTHONUNBUFFERED="1",
    )
    if database_url and database_url.startswith("postgres"):
        environment["CONNECTFED_MASTER_KEY"] = SHARED_MASTER_KEY
    environment.update(env or {})
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment
    )
    server = Server(f"{scheme}://127.0.0.1:{port}", process, data_dir)
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("server exited:\n" + "".join(server.output))
        server.output.append(line)
        if line.startswith("CA bundle for clients:"):
            server.ca_bundle = line.split(":", 1)[1].split()[0]
        if line.strip() == "READY":
            break
    import ssl

    context = ssl.create_default_context(cafile=server.ca_bundle) if server.ca_bundle else None
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(
                f"{server.url}/_connectfed/health",
                timeout=1,
                context=context,
            )
            return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError("server did not become ready")
