"""Connect instances, profiles and users between the wire and the domain: request members to
typed values, and the stored records :class:`~connectfed.connect.instances.InstanceService`
answers with as the botocore model's output shapes."""

from __future__ import annotations

import json
from typing import Any

from connectfed import arns
from connectfed.clock import utc
from connectfed.connect.federation import FederationToken
from connectfed.connect.instances import NewInstance, NewUser
from connectfed.connect.resource_tags import checked_tags, tag_map
from connectfed.store.records import ConnectUser, Instance, Profile
from connectfed.wire.registry import Params


# -- requests ------------------------------------------------------------------------------------
def new_instance(params: Params) -> NewInstance:
    return NewInstance(
        identity_management_type=params["IdentityManagementType"],
        alias=params.get("InstanceAlias"),
        inbound_calls=params["InboundCallsEnabled"],
        outbound_calls=params["OutboundCallsEnabled"],
        client_token=params.get("ClientToken"),
        tags=checked_tags(params.get("Tags")),
    )


def new_user(params: Params) -> NewUser:
    return NewUser(
        username=params["Username"],
        security_profile_ids=tuple(params["SecurityProfileIds"]),
        routing_profile_id=params["RoutingProfileId"],
        # Optional in the model since the channel-specific configurations came: none is kept
        # as none (Streams' configuration then reads the user as a softphone user).
        phone_config=params.get("PhoneConfig", {}),
        identity_info=params.get("IdentityInfo", {}),
        password=params.get("Password"),
        directory_user_id=params.get("DirectoryUserId"),
        hierarchy_group_id=params.get("HierarchyGroupId"),
        tags=checked_tags(params.get("Tags")),
    )


# -- responses -----------------------------------------------------------------------------------
def instance(record: Instance) -> dict[str, Any]:
    """DescribeInstance's Instance; ListInstances' summaries are the same members, fewer."""
    return {
        "Id": record.instance_id,
        "Arn": record.arn,
        "IdentityManagementType": record.identity_management_type,
        "InstanceAlias": record.alias,
        "CreatedTime": utc(record.created),
        "ServiceRole": arns.connect_service_role(record.account_id),
        "InstanceStatus": record.status,
        "InboundCallsEnabled": record.inbound_calls,
        "OutboundCallsEnabled": record.outbound_calls,
        "InstanceAccessUrl": f"https://{record.alias}.my.connect.aws",
        "Tags": tag_map(record.tags),
    }


def profile_summary(profile: Profile) -> dict[str, Any]:
    return {"Id": profile.profile_id, "Arn": profile.arn, "Name": profile.name}


def user(record: ConnectUser, region: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Id": record.user_id,
        "Arn": record.arn,
        "Username": record.username,
        "IdentityInfo": json.loads(record.identity_info),
        "PhoneConfig": json.loads(record.phone_config),
        "SecurityProfileIds": list(record.security_profile_ids),
        "RoutingProfileId": record.routing_profile_id,
        "Tags": tag_map(record.tags),
        "LastModifiedTime": utc(record.modified),
        "LastModifiedRegion": region,
    }
    if record.directory_user_id:
        out["DirectoryUserId"] = record.directory_user_id
    if record.hierarchy_group_id:
        out["HierarchyGroupId"] = record.hierarchy_group_id
    return out


def user_summary(record: ConnectUser, region: str) -> dict[str, Any]:
    return {
        "Id": record.user_id,
        "Arn": record.arn,
        "Username": record.username,
        "LastModifiedTime": utc(record.modified),
        "LastModifiedRegion": region,
    }


def federation_token(token: FederationToken) -> dict[str, Any]:
    return {
        "Credentials": {
            "AccessToken": token.access.token,
            "AccessTokenExpiration": token.access.expires,
            "RefreshToken": token.refresh.token,
            "RefreshTokenExpiration": token.refresh.expires,
        },
        "SignInUrl": token.sign_in_url,
        "UserArn": token.user_arn,
        "UserId": token.user_id,
    }
