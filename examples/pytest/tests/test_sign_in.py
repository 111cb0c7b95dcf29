"""Our sign-in backend against connectfed: the happy path, throttling, expiry, SAML."""

from __future__ import annotations

import pytest
from backend import Busy
from botocore.exceptions import ClientError


def test_an_agent_signs_in(backend, instance_id) -> None:
    token = backend.sign_in("alice")
    assert token.access_token
    assert instance_id in token.sign_in_url


def test_someone_who_is_not_an_agent_is_refused(backend) -> None:
    with pytest.raises(ClientError) as caught:
        backend.sign_in("mallory")
    assert caught.value.response["Error"]["Code"] == "UserNotFoundException"


def test_one_throttled_call_is_retried_unnoticed(connectfed, backend) -> None:
    connectfed.faults.add("connect", "GetFederationToken", error="ThrottlingException", count=1)
    assert backend.sign_in("alice").access_token


def test_persistent_throttling_answers_busy(connectfed, backend) -> None:
    # Three throttled answers: botocore's standard mode gives up after three attempts.
    connectfed.faults.add("connect", "GetFederationToken", error="ThrottlingException", count=3)
    with pytest.raises(Busy):
        backend.sign_in("alice")
    assert backend.sign_in("alice").access_token  # the faults are spent


def test_an_expired_role_session_is_renewed(connectfed, backend) -> None:
    first = backend.sign_in("bob")
    connectfed.clock.advance(2 * 3600)  # the role session (1 h) is over on the server
    second = backend.sign_in("bob")
    assert second.expires > first.expires


def test_an_agent_added_by_a_test(connectfed, backend, instance_id) -> None:
    connectfed.world(
        {
            "connect": {
                "instances": [
                    {
                        "ref": "support",
                        "id": instance_id,
                        "alias": "example-support",
                        "users": [{"username": "carol", "first_name": "Carol"}],
                    }
                ]
            }
        }
    )
    assert backend.sign_in("carol").access_token


def test_an_agent_signs_in_through_the_idp(connectfed, instance_id) -> None:
    # What the browser would post to AWS: a SAMLResponse from the company's IdP.
    creds = connectfed.assume_role_with_saml("AgentFederation", "bob")
    connect = connectfed.client("connect", credentials=creds)
    answer = connect.get_federation_token(InstanceId=instance_id)
    assert answer["UserArn"].endswith(answer["UserId"])


def test_the_world_has_the_declared_ids(connectfed, instance_id) -> None:
    connect = connectfed.client("connect")
    instance = connect.describe_instance(InstanceId=instance_id)["Instance"]
    assert instance["InstanceAlias"] == "example-support"
    users = connect.list_users(InstanceId=instance_id)["UserSummaryList"]
    assert {"alice", "bob"} <= {u["Username"] for u in users}
