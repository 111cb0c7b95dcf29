"""Connect instance and user management through boto3."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.server import ACCOUNT_ID, Server


def _instance(server: Server, alias: str, kind: str = "SAML") -> str:
    return str(
        server.client("connect").create_instance(
            IdentityManagementType=kind,
            InstanceAlias=alias,
            InboundCallsEnabled=True,
            OutboundCallsEnabled=False,
        )["Id"]
    )


def _profiles(connect: Any, instance_id: str) -> tuple[str, str]:
    """The first security profile id and the routing profile id of an instance."""
    sp = connect.list_security_profiles(InstanceId=instance_id)["SecurityProfileSummaryList"]
    rp = connect.list_routing_profiles(InstanceId=instance_id)["RoutingProfileSummaryList"]
    return sp[0]["Id"], rp[0]["Id"]


def test_instance_lifecycle_and_default_profiles(server: Server) -> None:
    connect = server.client("connect")
    instance_id = _instance(server, "lifecycle")
    described = connect.describe_instance(InstanceId=instance_id)["Instance"]
    assert described["Arn"] == f"arn:aws:connect:us-east-1:{ACCOUNT_ID}:instance/{instance_id}"
    assert described["IdentityManagementType"] == "SAML"
    assert described["InstanceStatus"] == "ACTIVE"
    names = {
        p["Name"]
        for p in connect.list_security_profiles(InstanceId=instance_id)[
            "SecurityProfileSummaryList"
        ]
    }
    assert names == {"Admin", "Agent", "CallCenterManager", "QualityAnalyst"}
    routing = connect.list_routing_profiles(InstanceId=instance_id)["RoutingProfileSummaryList"]
    assert [r["Name"] for r in routing] == ["Basic Routing Profile"]
    ids = [
        i["Id"]
        for page in connect.get_paginator("list_instances").paginate(
            PaginationConfig={"PageSize": 1}
        )
        for i in page["InstanceSummaryList"]
    ]
    assert instance_id in ids and len(ids) == len(set(ids))
    connect.delete_instance(InstanceId=instance_id)
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.describe_instance(InstanceId=instance_id)


def test_users_create_describe_list_paginate_update_delete(server: Server) -> None:
    connect = server.client("connect")
    instance_id = _instance(server, "users")
    sp, rp = _profiles(connect, instance_id)
    made = {}
    for name in ("dave", "alice", "carol", "bob", "eve"):
        made[name] = connect.create_user(
            InstanceId=instance_id,
            Username=name,
            PhoneConfig={"PhoneType": "SOFT_PHONE"},
            SecurityProfileIds=[sp],
            RoutingProfileId=rp,
        )
    assert made["alice"]["UserArn"].endswith(f"/agent/{made['alice']['UserId']}")
    with pytest.raises(connect.exceptions.DuplicateResourceException):
        connect.create_user(
            InstanceId=instance_id,
            Username="alice",
            PhoneConfig={"PhoneType": "SOFT_PHONE"},
            SecurityProfileIds=[sp],
            RoutingProfileId=rp,
        )
    pages = list(
        connect.get_paginator("list_users").paginate(
            InstanceId=instance_id, PaginationConfig={"PageSize": 2}
        )
    )
    assert len(pages) == 3
    assert [u["Username"] for p in pages for u in p["UserSummaryList"]] == [
        "alice",
        "bob",
        "carol",
        "dave",
        "eve",
    ]
    uid = made["bob"]["UserId"]
    connect.update_user_identity_info(
        InstanceId=instance_id, UserId=uid, IdentityInfo={"FirstName": "Bob", "LastName": "B"}
    )
    user = connect.describe_user(InstanceId=instance_id, UserId=uid)["User"]
    assert user["IdentityInfo"] == {"FirstName": "Bob", "LastName": "B"}
    assert user["SecurityProfileIds"] == [sp] and user["RoutingProfileId"] == rp
    connect.delete_user(InstanceId=instance_id, UserId=uid)
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        connect.describe_user(InstanceId=instance_id, UserId=uid)


@pytest.mark.parametrize(
    "username,ok",
    [("a" * 64, True), ("a" * 65, False), ("first.last@example.com", True), ("no spaces", False)],
)
def test_saml_usernames_follow_connects_rule(server: Server, username: str, ok: bool) -> None:
    connect = server.client("connect")
    instance_id = _instance(server, f"names-{len(username)}-{ok}-{username[:3].strip()}")
    sp, rp = _profiles(connect, instance_id)

    def create() -> None:
        connect.create_user(
            InstanceId=instance_id,
            Username=username,
            PhoneConfig={"PhoneType": "SOFT_PHONE"},
            SecurityProfileIds=[sp],
            RoutingProfileId=rp,
        )

    if ok:
        create()
    else:
        with pytest.raises(connect.exceptions.InvalidParameterException):
            create()


def test_create_user_checks_referenced_profiles(server: Server) -> None:
    connect = server.client("connect")
    instance_id = _instance(server, "refs")
    _, rp = _profiles(connect, instance_id)
    with pytest.raises(connect.exceptions.InvalidParameterException) as caught:
        connect.create_user(
            InstanceId=instance_id,
            Username="x1",
            PhoneConfig={"PhoneType": "SOFT_PHONE"},
            SecurityProfileIds=["not-a-profile"],
            RoutingProfileId=rp,
        )
    assert "not-a-profile" in str(caught.value)


def test_model_enums_are_validated(server: Server) -> None:
    connect = server.client("connect")
    instance_id = _instance(server, "enums")
    sp, rp = _profiles(connect, instance_id)
    with pytest.raises(connect.exceptions.InvalidParameterException) as caught:
        connect.create_user(
            InstanceId=instance_id,
            Username="x1",
            PhoneConfig={"PhoneType": "CARRIER_PIGEON"},
            SecurityProfileIds=[sp],
            RoutingProfileId=rp,
        )
    assert "Member must satisfy enum value set" in str(caught.value)


def test_create_user_without_phone_config_is_created(server: Server) -> None:
    # PhoneConfig is optional in the model (channel-specific configurations may replace it);
    # leaving it out was a 500.
    connect = server.client("connect")
    instance_id = _instance(server, "nophone")
    sp, rp = _profiles(connect, instance_id)
    created = connect.create_user(
        InstanceId=instance_id, Username="nophone", SecurityProfileIds=[sp], RoutingProfileId=rp
    )
    user = connect.describe_user(InstanceId=instance_id, UserId=created["UserId"])["User"]
    assert user["Username"] == "nophone"
    assert user["PhoneConfig"] == {}


def test_a_desk_phone_needs_its_number(server: Server) -> None:
    # DeskPhoneNumber is optional in the model (a softphone has none) but a desk phone cannot
    # be reached without it; CreateUser took one, leaving an agent the CCP could not route to.
    connect = server.client("connect")
    instance_id = _instance(server, "deskphone")
    sp, rp = _profiles(connect, instance_id)

    def create(username: str, phone: dict[str, str]) -> str:
        return str(
            connect.create_user(
                InstanceId=instance_id,
                Username=username,
                PhoneConfig=phone,
                SecurityProfileIds=[sp],
                RoutingProfileId=rp,
            )["UserId"]
        )

    with pytest.raises(connect.exceptions.InvalidParameterException) as caught:
        create("desk1", {"PhoneType": "DESK_PHONE"})
    assert "desk phone" in caught.value.response["Error"]["Message"]
    assert connect.list_users(InstanceId=instance_id)["UserSummaryList"] == []
    user_id = create("desk1", {"PhoneType": "DESK_PHONE", "DeskPhoneNumber": "+15550100"})
    user = connect.describe_user(InstanceId=instance_id, UserId=user_id)["User"]
    assert user["PhoneConfig"] == {"PhoneType": "DESK_PHONE", "DeskPhoneNumber": "+15550100"}


def test_a_next_token_continues_only_the_listing_that_issued_it(server: Server) -> None:
    # AWS's tokens are opaque: a token of another operation, instance or filter is refused. Ours
    # were taken by any listing, which then started after a key it never had.
    connect = server.client("connect")
    first, other = _instance(server, "tokens-a"), _instance(server, "tokens-b")
    page = connect.list_security_profiles(InstanceId=first, MaxResults=1)
    token = page["NextToken"]
    rest = connect.list_security_profiles(InstanceId=first, NextToken=token)
    assert len(page["SecurityProfileSummaryList"] + rest["SecurityProfileSummaryList"]) == 4
    for call in (
        lambda: connect.list_routing_profiles(InstanceId=first, NextToken=token),
        lambda: connect.list_security_profiles(InstanceId=other, NextToken=token),
        lambda: connect.list_users(InstanceId=first, NextToken=token),
        lambda: connect.list_queues(InstanceId=first, NextToken=token),
        lambda: connect.list_queues(InstanceId=first, QueueTypes=["STANDARD"], NextToken=token),
    ):
        with pytest.raises(connect.exceptions.InvalidParameterException) as caught:
            call()
        assert caught.value.response["Error"]["Message"] == "The NextToken is not valid."
    # ListInstances models no InvalidParameterException: its request error, as for its rules.
    with pytest.raises(connect.exceptions.InvalidRequestException):
        connect.list_instances(NextToken=token)
    instances = connect.list_instances(MaxResults=1)["NextToken"]
    with pytest.raises(connect.exceptions.InvalidParameterException):
        connect.list_users(InstanceId=first, NextToken=instances)


def test_create_instance_is_idempotent_by_client_token(server: Server) -> None:
    # The SDKs fill in CreateInstance's ClientToken and resend it on a retry: a retry after a
    # lost answer was refused ("alias already in use") although the first attempt had worked.
    connect = server.client("connect")
    settings: dict[str, Any] = {
        "IdentityManagementType": "SAML",
        "InstanceAlias": "idempotent",
        "InboundCallsEnabled": True,
        "OutboundCallsEnabled": False,
    }
    first = connect.create_instance(ClientToken="retry-me", **settings)
    again = connect.create_instance(ClientToken="retry-me", **settings)
    assert (again["Id"], again["Arn"]) == (first["Id"], first["Arn"])
    listed = connect.get_paginator("list_instances").paginate()
    aliases = [i["InstanceAlias"] for page in listed for i in page["InstanceSummaryList"]]
    assert aliases.count("idempotent") == 1
    with pytest.raises(connect.exceptions.InvalidRequestException) as caught:
        connect.create_instance(
            ClientToken="retry-me", **{**settings, "InboundCallsEnabled": False}
        )
    assert "ClientToken" in caught.value.response["Error"]["Message"]
    # Another token (boto3 makes a new one per call) for the same alias is still refused.
    with pytest.raises(connect.exceptions.InvalidRequestException) as caught:
        connect.create_instance(**settings)
    assert "already in use" in caught.value.response["Error"]["Message"]


def test_an_alias_taken_in_another_case_is_in_use(server: Server) -> None:
    # The alias is the instance's host name (<alias>.my.connect.aws): Sales-Desk and
    # sales-desk would be one host for two instances.
    connect = server.client("connect")
    settings: dict[str, Any] = {
        "IdentityManagementType": "SAML",
        "InboundCallsEnabled": True,
        "OutboundCallsEnabled": False,
    }
    first = connect.create_instance(InstanceAlias="Case-Desk", **settings)
    with pytest.raises(connect.exceptions.InvalidRequestException) as caught:
        connect.create_instance(InstanceAlias="case-DESK", **settings)
    assert caught.value.response["Error"]["Message"] == "The alias case-DESK is already in use."
    described = connect.describe_instance(InstanceId=first["Id"])["Instance"]
    assert described["InstanceAlias"] == "Case-Desk"  # kept as given
