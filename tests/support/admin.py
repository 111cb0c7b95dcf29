"""Helpers for tests of the admin API: servers with it on, and boto3 clients that retry in
standard mode (the shared ``Server.client`` makes one attempt only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectfed.client import AdminClient
from tests.support.server import ROOT_KEY, ROOT_SECRET, Server, start_server


def start_admin_server(
    data_dir: Path, *args: str, database_url: str | None = None, env: dict[str, str] | None = None
) -> Server:
    return start_server(
        data_dir, "--throttle-rate", "0", "--admin", *args, database_url=database_url, env=env
    )


def admin(server: Server, token: str | None = None) -> AdminClient:
    return AdminClient(server.url, token)


def retrying(
    server: Server,
    service: str,
    attempts: int = 3,
    key: str = ROOT_KEY,
    secret: str = ROOT_SECRET,
    token: str | None = None,
    **config: Any,
) -> Any:
    """A boto3 client in standard retry mode with ``attempts`` attempts in all."""
    return server.client(service, key, secret, token, attempts=attempts, **config)
