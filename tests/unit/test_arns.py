"""Every ARN the server makes comes from connectfed.arns: its formats, table-driven."""

from __future__ import annotations

import pytest

from connectfed import arns
from connectfed.arns import ConnectResource

ACCOUNT = "123456789012"
INSTANCE = f"arn:aws:connect:eu-west-2:{ACCOUNT}:instance/i-1"


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        (arns.iam_root(ACCOUNT), f"arn:aws:iam::{ACCOUNT}:root"),
        (arns.iam_user(ACCOUNT, "bob"), f"arn:aws:iam::{ACCOUNT}:user/bob"),
        (arns.iam_user(ACCOUNT, "bob", "/ops/"), f"arn:aws:iam::{ACCOUNT}:user/ops/bob"),
        (arns.iam_user(ACCOUNT, ""), f"arn:aws:iam::{ACCOUNT}:user/"),
        (arns.iam_role(ACCOUNT, "Agent", "/fed/"), f"arn:aws:iam::{ACCOUNT}:role/fed/Agent"),
        (arns.saml_provider(ACCOUNT, "idp"), f"arn:aws:iam::{ACCOUNT}:saml-provider/idp"),
        (
            arns.assumed_role(ACCOUNT, "Agent", "agent1"),
            f"arn:aws:sts::{ACCOUNT}:assumed-role/Agent/agent1",
        ),
        (
            arns.connect_service_role(ACCOUNT),
            f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/connect.amazonaws.com/"
            "AWSServiceRoleForAmazonConnect",
        ),
        (arns.connect_instance("eu-west-2", ACCOUNT, "i-1"), INSTANCE),
        (arns.connect_user(INSTANCE, "u-1"), f"{INSTANCE}/agent/u-1"),
        (arns.security_profile(INSTANCE, "s"), f"{INSTANCE}/security-profile/s"),
        (arns.routing_profile(INSTANCE, "r"), f"{INSTANCE}/routing-profile/r"),
        (arns.queue(INSTANCE, "q"), f"{INSTANCE}/queue/q"),
        (arns.agent_status(INSTANCE, "*"), f"{INSTANCE}/agent-state/*"),
        (
            arns.connect_resource(INSTANCE, ConnectResource.FEDERATION_USER, "AROA:agent1"),
            f"{INSTANCE}/user/AROA:agent1",
        ),
        (arns.within_instance(INSTANCE), f"{INSTANCE}/*"),
    ],
)
def test_formats(made: str, expected: str) -> None:
    assert made == expected


@pytest.mark.parametrize(
    ("arn", "role"),
    [
        (f"arn:aws:iam::{ACCOUNT}:role/Agent", (ACCOUNT, "Agent")),
        (f"arn:aws:iam::{ACCOUNT}:role/path/to/Agent", (ACCOUNT, "Agent")),
        (f"arn:aws:iam::{ACCOUNT}:user/Agent", None),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/Agent/s", None),
        ("Agent", None),
    ],
)
def test_role_of_takes_a_role_arn_apart(arn: str, role: tuple[str, str] | None) -> None:
    assert arns.role_of(arn) == role


def test_a_session_of_a_role_is_named_after_the_role_and_session() -> None:
    role = arns.iam_role(ACCOUNT, "Agent", "/fed/")
    assert arns.session_of_role(role, "agent1") == arns.assumed_role(ACCOUNT, "Agent", "agent1")
    assert arns.session_of_role(arns.iam_user(ACCOUNT, "bob"), "x") is None


def test_account_of() -> None:
    assert arns.account_of(arns.saml_provider(ACCOUNT, "idp")) == ACCOUNT
    assert arns.account_of("not-an-arn") is None
    assert arns.account_of(None) is None
