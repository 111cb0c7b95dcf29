"""Connect instances, their default profiles, and users, validated as Connect does.

A new instance comes with the default security profiles (Admin, Agent, CallCenterManager,
QualityAnalyst) and a "Basic Routing Profile". Every method authorises ``connect:<Action>``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connectfed import arns, jsonsafe
from connectfed.cache import TtlCache
from connectfed.clock import Clock
from connectfed.errors import ServiceError, client_error
from connectfed.identity.authorize import Authorizer
from connectfed.identity.principal import Principal
from connectfed.store import Conflict, NotFound, Store
from connectfed.store.records import ConnectUser, Instance, Profile

DEFAULT_SECURITY_PROFILES = ("Admin", "Agent", "CallCenterManager", "QualityAnalyst")
DEFAULT_ROUTING_PROFILE = "Basic Routing Profile"
# Connect's rule for SAML instances (CreateUser, Username): up to 64 of [a-zA-Z0-9_-.@].
SAML_USERNAME = re.compile(r"[a-zA-Z0-9_\-.@]{1,64}")
SUPPORTED_TYPES = ("SAML", "CONNECT_MANAGED")


def not_found(message: str) -> ServiceError:
    return client_error("ResourceNotFoundException", message, 404)


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def encode_page_token(value: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": value}).encode()).decode()


def decode_page_token(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        after = jsonsafe.loads(base64.urlsafe_b64decode(token.encode()))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise client_error("InvalidParameterException", "The NextToken is not valid.") from None
    if not isinstance(after, str):
        raise client_error("InvalidParameterException", "The NextToken is not valid.")
    return after


class InstanceService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        authz: Authorizer,
        region: str,
        cache_ttl: float,
        on_created: Callable[[Instance], object] | None = None,
    ) -> None:
        self._on_created = on_created  # e.g. creates the instance's default agent data
        self._store = store
        self._clock = clock
        self._authz = authz
        self._region = region
        self._instances: TtlCache[Instance | None] = TtlCache(cache_ttl, clock.monotonic)

    def instance_arn(self, account_id: str, instance_id: str) -> str:
        return arns.connect_instance(self._region, account_id, instance_id)

    def lookup(self, caller: Principal, instance_id: str) -> Instance:
        """The caller's instance, or ResourceNotFoundException (another account's is not found)."""
        instance = self._instances.get(instance_id, lambda: self._store.get_instance(instance_id))
        if (
            instance is None
            or instance.account_id != caller.account_id
            or instance.region != self._region
        ):
            raise not_found(f"Instance not found: {instance_id}")
        return instance

    def _authorize(
        self, caller: Principal, action: str, resource: str, instance_id: str | None = None
    ) -> None:
        context = {"connect:InstanceId": instance_id} if instance_id else None
        self._authz.require(caller, f"connect:{action}", resource, context)

    # -- instances -------------------------------------------------------------------------------
    def create_instance(
        self, caller: Principal, params: dict[str, Any], *, instance_id: str | None = None
    ) -> dict[str, Any]:
        """CreateInstance; a fixed ``instance_id`` is for declared worlds (connectfed.seed)."""
        self._authorize(caller, "CreateInstance", self.instance_arn(caller.account_id, "*"))
        kind = params["IdentityManagementType"]
        if kind not in SUPPORTED_TYPES:
            raise client_error(
                "InvalidRequestException",
                f"IdentityManagementType {kind} is not supported by connectfed; "
                "use SAML or CONNECT_MANAGED.",
            )
        alias = params.get("InstanceAlias")
        if alias is None:
            raise client_error(
                "InvalidRequestException",
                f"InstanceAlias is required for IdentityManagementType {kind}.",
            )
        if instance_id is not None and self._store.get_instance(instance_id) is not None:
            raise client_error(
                "InvalidRequestException", f"The instance id {instance_id} is already in use."
            )
        instance_id = instance_id or str(uuid.uuid4())
        arn = self.instance_arn(caller.account_id, instance_id)
        now = self._clock.now().timestamp()
        instance = Instance(
            instance_id,
            caller.account_id,
            self._region,
            arn,
            alias,
            kind,
            "ACTIVE",
            params["InboundCallsEnabled"],
            params["OutboundCallsEnabled"],
            now,
        )
        profiles = [
            Profile(instance_id, "security", pid, name, arns.security_profile(arn, pid))
            for name in DEFAULT_SECURITY_PROFILES
            for pid in [str(uuid.uuid4())]
        ]
        rid = str(uuid.uuid4())
        profiles.append(
            Profile(
                instance_id, "routing", rid, DEFAULT_ROUTING_PROFILE, arns.routing_profile(arn, rid)
            )
        )
        try:
            self._store.create_instance(instance, profiles)
        except Conflict:
            raise client_error(
                "InvalidRequestException", f"The alias {alias} is already in use."
            ) from None
        if self._on_created is not None:
            self._on_created(instance)
        return {"Id": instance_id, "Arn": arn}

    def _instance_out(self, instance: Instance) -> dict[str, Any]:
        return {
            "Id": instance.instance_id,
            "Arn": instance.arn,
            "IdentityManagementType": instance.identity_management_type,
            "InstanceAlias": instance.alias,
            "CreatedTime": _time(instance.created),
            "ServiceRole": arns.connect_service_role(instance.account_id),
            "InstanceStatus": instance.status,
            "InboundCallsEnabled": instance.inbound_calls,
            "OutboundCallsEnabled": instance.outbound_calls,
            "InstanceAccessUrl": f"https://{instance.alias}.my.connect.aws",
        }

    def describe_instance(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        instance_id = params["InstanceId"]
        self._authorize(
            caller,
            "DescribeInstance",
            self.instance_arn(caller.account_id, instance_id),
            instance_id,
        )
        return {"Instance": self._instance_out(self.lookup(caller, instance_id))}

    def list_instances(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        self._authorize(caller, "ListInstances", self.instance_arn(caller.account_id, "*"))
        after = decode_page_token(params.get("NextToken"))
        limit = params.get("MaxResults", 10)
        mine = [
            i
            for i in self._store.list_instances(caller.account_id)
            if i.region == self._region and (after is None or i.instance_id > after)
        ]
        mine.sort(key=lambda i: i.instance_id)
        page = mine[:limit]
        out: dict[str, Any] = {"InstanceSummaryList": [self._instance_out(i) for i in page]}
        if len(mine) > limit:
            out["NextToken"] = encode_page_token(page[-1].instance_id)
        return out

    def delete_instance(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        instance_id = params["InstanceId"]
        self._authorize(
            caller, "DeleteInstance", self.instance_arn(caller.account_id, instance_id), instance_id
        )
        self.lookup(caller, instance_id)
        try:
            self._store.delete_instance(instance_id)
        except NotFound:
            raise not_found(f"Instance not found: {instance_id}") from None
        self._instances.invalidate(instance_id)
        return {}

    # -- profiles --------------------------------------------------------------------------------
    def list_profiles(self, caller: Principal, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        instance_id = params["InstanceId"]
        action = "ListSecurityProfiles" if kind == "security" else "ListRoutingProfiles"
        self._authorize(
            caller,
            action,
            arns.within_instance(self.instance_arn(caller.account_id, instance_id)),
            instance_id,
        )
        self.lookup(caller, instance_id)
        after = decode_page_token(params.get("NextToken"))
        limit = params.get("MaxResults", 100)
        profiles = [
            p
            for p in self._store.list_profiles(instance_id, kind)
            if after is None or p.name > after
        ]
        page = profiles[:limit]
        key = "SecurityProfileSummaryList" if kind == "security" else "RoutingProfileSummaryList"
        out: dict[str, Any] = {
            key: [{"Id": p.profile_id, "Arn": p.arn, "Name": p.name} for p in page]
        }
        if len(profiles) > limit:
            out["NextToken"] = encode_page_token(page[-1].name)
        return out

    # -- users -----------------------------------------------------------------------------------
    def user_arn(self, instance: Instance, user_id: str) -> str:
        return arns.connect_user(instance.arn, user_id)

    def create_user(
        self, caller: Principal, params: dict[str, Any], *, user_id: str | None = None
    ) -> dict[str, Any]:
        """CreateUser; a fixed ``user_id`` is for declared worlds (:mod:`connectfed.seed`)."""
        instance_id = params["InstanceId"]
        self._authorize(
            caller,
            "CreateUser",
            arns.connect_user(self.instance_arn(caller.account_id, instance_id), "*"),
            instance_id,
        )
        instance = self.lookup(caller, instance_id)
        username = params["Username"]
        if instance.identity_management_type == "SAML":
            if not SAML_USERNAME.fullmatch(username):
                raise client_error(
                    "InvalidParameterException",
                    "For SAML instances the username can include up to 64 characters from "
                    "[a-zA-Z0-9_-.@].",
                )
            if "Password" in params:
                raise client_error(
                    "InvalidParameterException", "Password is not supported for SAML instances."
                )
        elif "Password" not in params:
            raise client_error(
                "InvalidParameterException", "Password is required for CONNECT_MANAGED instances."
            )
        known_security = {p.profile_id for p in self._store.list_profiles(instance_id, "security")}
        for pid in params["SecurityProfileIds"]:
            if pid not in known_security:
                raise client_error(
                    "InvalidParameterException",
                    f"Security profile {pid} does not exist in this instance.",
                )
        known_routing = {p.profile_id for p in self._store.list_profiles(instance_id, "routing")}
        if params["RoutingProfileId"] not in known_routing:
            raise client_error(
                "InvalidParameterException",
                f"Routing profile {params['RoutingProfileId']} does not exist in this instance.",
            )
        if user_id is not None and self._store.get_connect_user(instance_id, user_id):
            raise client_error(
                "DuplicateResourceException", f"User with id {user_id} already exists.", 409
            )
        user_id = user_id or str(uuid.uuid4())
        now = self._clock.now().timestamp()
        user = ConnectUser(
            instance_id=instance_id,
            user_id=user_id,
            username=username,
            arn=self.user_arn(instance, user_id),
            security_profile_ids=tuple(params["SecurityProfileIds"]),
            routing_profile_id=params["RoutingProfileId"],
            identity_info=json.dumps(params.get("IdentityInfo", {})),
            phone_config=json.dumps(params["PhoneConfig"]),
            directory_user_id=params.get("DirectoryUserId"),
            hierarchy_group_id=params.get("HierarchyGroupId"),
            created=now,
            modified=now,
        )
        try:
            self._store.create_connect_user(user)
        except Conflict:
            raise client_error(
                "DuplicateResourceException", f"User with username {username} already exists.", 409
            ) from None
        return {"UserId": user_id, "UserArn": user.arn}

    def _user(
        self, caller: Principal, action: str, instance_id: str, user_id: str
    ) -> tuple[Instance, ConnectUser]:
        self._authorize(
            caller,
            action,
            arns.connect_user(self.instance_arn(caller.account_id, instance_id), user_id),
            instance_id,
        )
        instance = self.lookup(caller, instance_id)
        user = self._store.get_connect_user(instance_id, user_id)
        if user is None:
            raise not_found(f"User not found for UserId: {user_id}")
        return instance, user

    def describe_user(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        _, user = self._user(caller, "DescribeUser", params["InstanceId"], params["UserId"])
        out: dict[str, Any] = {
            "Id": user.user_id,
            "Arn": user.arn,
            "Username": user.username,
            "IdentityInfo": json.loads(user.identity_info),
            "PhoneConfig": json.loads(user.phone_config),
            "SecurityProfileIds": list(user.security_profile_ids),
            "RoutingProfileId": user.routing_profile_id,
            "Tags": {},
            "LastModifiedTime": _time(user.modified),
            "LastModifiedRegion": self._region,
        }
        if user.directory_user_id:
            out["DirectoryUserId"] = user.directory_user_id
        if user.hierarchy_group_id:
            out["HierarchyGroupId"] = user.hierarchy_group_id
        return {"User": out}

    def list_users(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        instance_id = params["InstanceId"]
        self._authorize(
            caller,
            "ListUsers",
            arns.connect_user(self.instance_arn(caller.account_id, instance_id), "*"),
            instance_id,
        )
        self.lookup(caller, instance_id)
        after = decode_page_token(params.get("NextToken"))
        limit = params.get("MaxResults", 100)
        users = self._store.list_connect_users(instance_id, after, limit + 1)
        page = users[:limit]
        out: dict[str, Any] = {
            "UserSummaryList": [
                {
                    "Id": u.user_id,
                    "Arn": u.arn,
                    "Username": u.username,
                    "LastModifiedTime": _time(u.modified),
                    "LastModifiedRegion": self._region,
                }
                for u in page
            ]
        }
        if len(users) > limit:
            out["NextToken"] = encode_page_token(page[-1].username)
        return out

    def delete_user(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        _, user = self._user(caller, "DeleteUser", params["InstanceId"], params["UserId"])
        try:
            self._store.delete_connect_user(user.instance_id, user.user_id)
        except NotFound:
            raise not_found(f"User not found for UserId: {user.user_id}") from None
        return {}

    def update_identity_info(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        _, user = self._user(
            caller, "UpdateUserIdentityInfo", params["InstanceId"], params["UserId"]
        )
        self._store.update_connect_user_identity(
            user.instance_id,
            user.user_id,
            json.dumps(params["IdentityInfo"]),
            self._clock.now().timestamp(),
        )
        return {}
