"""Credential, profile, region and endpoint resolution, as the AWS CLI and SDKs do it."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectfed.client.config import ConfigurationError, resolve_config


def files(tmp_path: Path, credentials: str = "", config: str = "") -> dict[str, str]:
    (tmp_path / "credentials").write_text(credentials)
    (tmp_path / "config").write_text(config)
    return {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "HOME": str(tmp_path),
    }


def test_environment_credentials_with_session_token(tmp_path: Path) -> None:
    env = files(tmp_path) | {
        "AWS_ACCESS_KEY_ID": "AKIA1",
        "AWS_SECRET_ACCESS_KEY": "s1",
        "AWS_SESSION_TOKEN": "t1",
        "AWS_REGION": "eu-west-1",
    }
    config = resolve_config(env=env)
    assert config.credentials is not None
    assert (config.credentials.access_key_id, config.credentials.session_token) == ("AKIA1", "t1")
    assert config.region == "eu-west-1"
    assert config.endpoint_url == "https://connect.eu-west-1.amazonaws.com"


def test_default_profile_from_shared_files(tmp_path: Path) -> None:
    env = files(
        tmp_path,
        "[default]\naws_access_key_id = AKIA2\naws_secret_access_key = s2\n",
        "[default]\nregion = ap-southeast-2\n",
    )
    config = resolve_config(env=env)
    assert config.credentials and config.credentials.access_key_id == "AKIA2"
    assert config.region == "ap-southeast-2"


def test_explicit_profile_wins_over_environment_credentials(tmp_path: Path) -> None:
    env = files(
        tmp_path,
        "[dev]\naws_access_key_id = AKIA3\naws_secret_access_key = s3\n",
        "[profile dev]\nregion = us-west-2\nendpoint_url = http://127.0.0.1:9\n",
    )
    env |= {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "senv"}
    config = resolve_config(profile="dev", env=env)
    assert config.credentials and config.credentials.access_key_id == "AKIA3"
    assert config.endpoint_url == "http://127.0.0.1:9"


def test_aws_profile_variable_selects_the_profile(tmp_path: Path) -> None:
    env = files(tmp_path, "[ops]\naws_access_key_id = AKIA4\naws_secret_access_key = s4\n")
    env |= {"AWS_PROFILE": "ops", "AWS_DEFAULT_REGION": "us-east-2"}
    config = resolve_config(env=env)
    assert config.credentials and config.credentials.access_key_id == "AKIA4"
    assert config.region == "us-east-2"


def test_endpoint_precedence(tmp_path: Path) -> None:
    env = files(tmp_path, config="[default]\nendpoint_url = http://from-config\n")
    env |= {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
    assert resolve_config(env=env).endpoint_url == "http://from-config"
    assert (
        resolve_config(env=env | {"AWS_ENDPOINT_URL": "http://global"}).endpoint_url
        == "http://global"
    )
    both = env | {"AWS_ENDPOINT_URL": "http://global", "AWS_ENDPOINT_URL_CONNECT": "http://svc"}
    assert resolve_config(env=both).endpoint_url == "http://svc"
    assert resolve_config(endpoint_url="http://arg", env=both).endpoint_url == "http://arg"
    ignored = both | {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert resolve_config(env=ignored).endpoint_url == "https://connect.us-east-1.amazonaws.com"


def test_missing_region_and_unknown_profile_are_clear_errors(tmp_path: Path) -> None:
    env = files(tmp_path) | {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
    with pytest.raises(ConfigurationError, match="You must specify a region"):
        resolve_config(env=env)
    with pytest.raises(ConfigurationError, match="could not be found"):
        resolve_config(profile="ghost", region="us-east-1", env=env)


def test_unsigned_needs_no_credentials(tmp_path: Path) -> None:
    config = resolve_config(sign=False, region="us-east-1", env=files(tmp_path))
    assert config.credentials is None


def test_ca_bundle_and_max_attempts_from_environment(tmp_path: Path) -> None:
    env = files(tmp_path) | {
        "AWS_CA_BUNDLE": "/tmp/ca.pem",
        "AWS_MAX_ATTEMPTS": "7",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "a",
        "AWS_SECRET_ACCESS_KEY": "b",
    }
    config = resolve_config(env=env)
    assert config.verify == "/tmp/ca.pem" and config.max_attempts == 7


def test_a_configs_repr_shows_no_secret(tmp_path: Path) -> None:
    # A config shown in a log line or a traceback's locals must not carry the proxy's password
    # (the proxy URL is there for the transport alone).
    env = files(tmp_path) | {
        "AWS_ACCESS_KEY_ID": "AKIA1",
        "AWS_SECRET_ACCESS_KEY": "the-secret-key",
        "AWS_REGION": "eu-west-1",
        "HTTPS_PROXY": "http://proxyuser:the-proxy-password@proxy.example:3128",
    }
    config = resolve_config(env=env)
    assert config.proxy_url is not None and "the-proxy-password" in config.proxy_url
    assert "the-proxy-password" not in repr(config)
    assert "the-secret-key" not in repr(config)  # nor the credentials' secret
