"""The URL and signature the client would send to real AWS, held against botocore's (the AWS CLI's
and boto3's) for every partition and the FIPS and dual-stack settings. AWS cannot be reached from
the tests: botocore's request is caught before it is sent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from connectfed.auth.sigv4 import Credentials
from connectfed.client import ConfigurationError, resolve_config
from connectfed.client.connect import prepare

KEY, SECRET, TOKEN = "AKIDEXAMPLE000000000", "s" * 40, "session-token"
REGIONS = [
    "us-east-1",
    "eu-west-2",
    "ap-southeast-5",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-west-1",
    "us-gov-east-1",
    "us-iso-east-1",
    "us-isob-east-1",
    "eu-isoe-west-1",
    "us-isof-south-1",
    "eusc-de-east-1",
    "aws-global",
    "aws-cn-global",
    "xx-unknown-1",
]
VARIANTS = [(False, False), (True, False), (False, True), (True, True)]


def botocore_request(
    region: str, fips: bool, dual_stack: bool, endpoint_url: str | None = None
) -> Any:
    """The request boto3 would send, caught before it leaves."""
    client = boto3.session.Session().client(
        "connect",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        aws_session_token=TOKEN,
        config=Config(
            use_fips_endpoint=fips, use_dualstack_endpoint=dual_stack, retries={"max_attempts": 0}
        ),
    )
    caught: list[Any] = []

    class Caught(Exception):
        pass

    def catch(request: Any, **_: Any) -> None:
        caught.append(request)
        raise Caught

    client.meta.events.register("before-send.connect.GetFederationToken", catch)
    with pytest.raises(Caught):
        client.get_federation_token(InstanceId="inst/1")
    return caught[0]


def rule_set_url(region: str, fips: bool, dual_stack: bool) -> str:
    """The endpoint connect's rule set gives (botocore's EndpointProvider)."""
    import botocore.session
    from botocore.endpoint_provider import EndpointProvider

    loader = botocore.session.get_session().get_component("data_loader")
    provider = EndpointProvider(
        loader.load_service_model("connect", "endpoint-rule-set-1"),
        loader.load_data("partitions"),
    )
    return str(provider.resolve_endpoint(Region=region, UseFIPS=fips, UseDualStack=dual_stack).url)


# botocore's older endpoints.json refuses dual-stack in these two partitions before the rule set
# is consulted (EndpointVariantError); the client follows the rule set there.
NO_BOTO3_CLIENT = {("eu-isoe-west-1", True), ("us-isof-south-1", True)}


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(("fips", "dual_stack"), VARIANTS)
def test_url_and_signature_are_botocores(region: str, fips: bool, dual_stack: bool) -> None:
    if (region, dual_stack) in NO_BOTO3_CLIENT:
        config = resolve_config(
            region=region,
            sign=False,
            env={"AWS_USE_FIPS_ENDPOINT": str(fips), "AWS_USE_DUALSTACK_ENDPOINT": "true"},
        )
        assert config.endpoint_url == rule_set_url(region, fips, dual_stack)
        return
    theirs = botocore_request(region, fips, dual_stack)
    env = {
        "AWS_USE_FIPS_ENDPOINT": str(fips).lower(),
        "AWS_USE_DUALSTACK_ENDPOINT": str(dual_stack),
    }
    config = resolve_config(
        region=region,
        credentials=Credentials(KEY, SECRET, TOKEN),
        env=env,
    )
    moment = datetime.strptime(theirs.headers["X-Amz-Date"].decode(), "%Y%m%dT%H%M%SZ")
    ours = prepare(config, "inst/1", moment.replace(tzinfo=UTC))
    assert ours.url == theirs.url
    assert ours.headers["Authorization"] == theirs.headers["Authorization"].decode()


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://gateway.example.com/base?tenant=7",
        "https://gateway.example.com?b=2&a=1&a=0",
        "https://gateway.example.com/?flag",
        "http://127.0.0.1:9/p/?a=b%20c&z=%2F&e=",
    ],
)
def test_an_endpoints_query_is_kept_and_signed_as_botocore_does(endpoint: str) -> None:
    theirs = botocore_request("us-east-1", False, False, endpoint)
    config = resolve_config(
        region="us-east-1",
        endpoint_url=endpoint,
        credentials=Credentials(KEY, SECRET, TOKEN),
        env={},
    )
    moment = datetime.strptime(theirs.headers["X-Amz-Date"].decode(), "%Y%m%dT%H%M%SZ")
    ours = prepare(config, "inst/1", moment.replace(tzinfo=UTC))
    assert ours.url == theirs.url
    assert ours.headers["Authorization"] == theirs.headers["Authorization"].decode()


@pytest.mark.parametrize(("fips", "dual_stack"), VARIANTS)
def test_fips_and_dual_stack_from_the_shared_config(
    tmp_path: Path, fips: bool, dual_stack: bool
) -> None:
    (tmp_path / "config").write_text(
        "[default]\nregion = cn-north-1\n"
        f"use_fips_endpoint = {str(fips).lower()}\nuse_dualstack_endpoint = {dual_stack}\n"
    )
    env = {"AWS_CONFIG_FILE": str(tmp_path / "config"), "HOME": str(tmp_path)}
    config = resolve_config(sign=False, env=env)
    assert (
        config.endpoint_url
        == botocore_request("cn-north-1", fips, dual_stack).url.rsplit("/user/", 1)[0]
    )


def test_an_endpoint_url_is_taken_as_given_whatever_fips_says() -> None:
    config = resolve_config(
        region="us-east-1",
        endpoint_url="http://127.0.0.1:9/base/",
        sign=False,
        env={"AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "true"},
    )
    assert config.endpoint_url == "http://127.0.0.1:9/base"


@pytest.mark.parametrize("region", ["us east", "-bad", "a" * 64, "123", "us_east_1"])
def test_a_region_that_is_no_host_label_is_refused_as_botocore_refuses_it(region: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_config(region=region, sign=False, env={})
    assert str(caught.value) == f"Provided region_name '{region}' doesn't match a supported format."


def test_a_mistyped_scheme_sends_nothing() -> None:
    from connectfed.client import ConnectClient
    from tests.support.canned import canned_server

    with canned_server(200, b"{}") as (url, seen):
        mistyped = url.replace("http://", "htps://")
        with pytest.raises(ConfigurationError) as caught:
            ConnectClient(endpoint_url=mistyped, region="us-east-1", sign=False, env={})
    assert str(caught.value) == (
        "An HTTP Client raised an unhandled exception: Not supported URL scheme htps"
    )
    assert seen == []
