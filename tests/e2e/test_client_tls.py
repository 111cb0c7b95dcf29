"""The CA bundle connectfed.client verifies TLS with, found as botocore finds it (argument,
``AWS_CA_BUNDLE``, the profile's ``ca_bundle``, ``REQUESTS_CA_BUNDLE``), against the real server
over TLS; boto3 with the same environment is the reference."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest

from connectfed.auth.sigv4 import Credentials
from connectfed.client import (
    AsyncConnectClient,
    ConfigurationError,
    ConnectClient,
    ConnectfedError,
    TransportError,
)
from tests.support.world import World

MISSING = "/nonexistent/ca.pem"


def _environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, values: dict[str, str], profile_bundle: str
) -> None:
    """The process environment (boto3 reads it, and so do our clients when given no ``env``),
    with a default profile whose ``ca_bundle`` is ``profile_bundle`` (none when empty)."""
    for name in (
        "AWS_CA_BUNDLE",
        "REQUESTS_CA_BUNDLE",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "HTTPS_PROXY",
        "https_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("[default]\n" + (f"ca_bundle = {profile_bundle}\n" if profile_bundle else ""))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def _outcome(call: Any) -> str:
    try:
        result = call()
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    except (ConfigurationError, botocore.exceptions.InvalidConfigError) as exc:
        return f"refused: {str(exc).removeprefix('Invalid configuration value: ')[:40]}"
    except (TransportError, botocore.exceptions.SSLError):
        return "TLS failed"
    return "ok"


@pytest.mark.parametrize(
    ("values", "profile_bundle", "expected"),
    [
        ({"REQUESTS_CA_BUNDLE": "{good}"}, "", "ok"),
        ({"REQUESTS_CA_BUNDLE": MISSING}, "", "TLS failed"),
        ({"AWS_CA_BUNDLE": MISSING, "REQUESTS_CA_BUNDLE": "{good}"}, "", "TLS failed"),
        ({"AWS_CA_BUNDLE": "{good}", "REQUESTS_CA_BUNDLE": MISSING}, "", "ok"),
        ({"REQUESTS_CA_BUNDLE": "{good}"}, MISSING, "TLS failed"),
        ({"REQUESTS_CA_BUNDLE": MISSING}, "{good}", "ok"),
        ({"AWS_CA_BUNDLE": "{good}"}, MISSING, "ok"),
        # Set to nothing is not unset: it is refused, never read as "the next one".
        ({"AWS_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": "{good}"}, "", "refused"),
        ({"REQUESTS_CA_BUNDLE": " "}, "", "refused"),
    ],
)
def test_the_ca_bundle_is_found_as_botocore_finds_it(
    tls_world: World,
    tls_agent: Credentials,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    values: dict[str, str],
    profile_bundle: str,
    expected: str,
) -> None:
    good = tls_world.server.ca_bundle
    assert good
    values = {name: value.replace("{good}", good) for name, value in values.items()}
    _environment(monkeypatch, tmp_path, values, profile_bundle.replace("{good}", good))

    def reference() -> Any:
        # A new session, not boto3.client's default one, which read the files long ago.
        return (
            boto3.session.Session()
            .client(
                "connect",
                endpoint_url=tls_world.server.url,
                region_name="us-east-1",
                aws_access_key_id=tls_agent.access_key_id,
                aws_secret_access_key=tls_agent.secret_access_key,
                aws_session_token=tls_agent.session_token,
            )
            .get_federation_token(InstanceId=tls_world.instance_id)
        )

    outcomes = [_outcome(reference)]
    for make in (ConnectClient, AsyncConnectClient):

        def ours(make: Any = make) -> Any:
            client = make(
                endpoint_url=tls_world.server.url,
                region="us-east-1",
                credentials=tls_agent,
                max_attempts=1,
            )
            return client.get_federation_token(tls_world.instance_id)

        outcomes.append(_outcome(ours))
    assert outcomes[0].startswith(expected), outcomes
    assert outcomes == [outcomes[0]] * 3


def test_an_explicit_verify_beats_every_bundle_in_the_environment(
    tls_world: World, tls_agent: Credentials, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert tls_world.server.ca_bundle
    _environment(monkeypatch, tmp_path, {"AWS_CA_BUNDLE": MISSING}, MISSING)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", MISSING)
    client = ConnectClient(
        endpoint_url=tls_world.server.url,
        region="us-east-1",
        credentials=tls_agent,
        verify=tls_world.server.ca_bundle,
    )
    assert client.get_federation_token(tls_world.instance_id).user_id
    with pytest.raises(ConnectfedError):
        ConnectClient(
            endpoint_url=tls_world.server.url, region="us-east-1", credentials=tls_agent, verify=""
        )
