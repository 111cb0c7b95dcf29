"""The IAM subset users need to set up federation: users, access keys, roles, inline policies.

Every method takes the calling principal, authorises ``iam:<Action>`` on the target's ARN and
returns plain data shaped like the botocore output shape.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from connectfed import arns
from connectfed.clock import Clock
from connectfed.errors import ServiceError, client_error
from connectfed.identity import ids
from connectfed.identity.authorize import Authorizer
from connectfed.identity.credentials import CredentialResolver
from connectfed.identity.policy import MalformedPolicy, PolicyKind, policy_size, validate_policy
from connectfed.identity.policy.validate import (
    ROLE_POLICY_QUOTA,
    TRUST_POLICY_QUOTA,
    USER_POLICY_QUOTA,
    PrincipalExists,
)
from connectfed.identity.principal import Principal
from connectfed.store import Conflict, InUse, NotFound, Store
from connectfed.store.records import AccessKey, IamUser, InlinePolicy, Role


def _no_such(kind: str, name: str) -> ServiceError:
    return client_error("NoSuchEntity", f"The {kind} with name {name} cannot be found.", 404)


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _document(text: str, kind: PolicyKind, principal_exists: PrincipalExists | None = None) -> str:
    """The document, validated as IAM validates one of ``kind`` (MalformedPolicyDocument)."""
    # The Query API may send the document URL-encoded; IAM accepts both.
    candidate = text if text.lstrip().startswith("{") else unquote(text)
    try:
        validate_policy(candidate, kind, principal_exists=principal_exists)
    except MalformedPolicy as exc:
        raise client_error("MalformedPolicyDocument", str(exc)) from None
    if kind is PolicyKind.TRUST and policy_size(candidate) > TRUST_POLICY_QUOTA:
        raise client_error(
            "LimitExceeded", f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_QUOTA}", 409
        )
    return candidate


def _user_out(user: IamUser) -> dict[str, Any]:
    return {
        "Path": user.path,
        "UserName": user.user_name,
        "UserId": user.user_id,
        "Arn": user.arn,
        "CreateDate": _time(user.created),
    }


def _role_out(role: Role) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Path": role.path,
        "RoleName": role.role_name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "CreateDate": _time(role.created),
        "AssumeRolePolicyDocument": role.trust_policy,
        "MaxSessionDuration": role.max_session_duration,
    }
    if role.description is not None:
        out["Description"] = role.description
    return out


class IamService:
    def __init__(
        self, store: Store, clock: Clock, authz: Authorizer, resolver: CredentialResolver
    ) -> None:
        self._store = store
        self._clock = clock
        self._authz = authz
        self._resolver = resolver

    def _principal_exists(self, caller: Principal) -> PrincipalExists:
        """IAM refuses a trust policy naming a user or role of this account that does not exist
        ("Invalid principal in policy"); other accounts' principals cannot be checked here."""

        def exists(principal: str) -> bool:
            parts = principal.split(":", 5)
            if len(parts) != 6 or parts[2] != "iam" or parts[4] != caller.account_id:
                return True
            kind, _, rest = parts[5].partition("/")
            name = rest.rsplit("/", 1)[-1]
            if kind == "user":
                user = self._store.get_user(caller.account_id, name)
                return user is not None and user.arn == principal
            if kind == "role":
                role = self._store.get_role(caller.account_id, name)
                return role is not None and role.arn == principal
            return True

        return exists

    def _require(self, caller: Principal, action: str, resource: str) -> None:
        self._authz.require(caller, f"iam:{action}", resource)

    def _user(self, account: str, name: str) -> IamUser:
        user = self._store.get_user(account, name)
        if user is None:
            raise _no_such("user", name)
        return user

    def _role(self, account: str, name: str) -> Role:
        role = self._store.get_role(account, name)
        if role is None:
            raise _no_such("role", name)
        return role

    # -- users -----------------------------------------------------------------------------------
    def create_user(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        name, path = params["UserName"], params.get("Path", "/")
        arn = arns.iam_user(caller.account_id, name, path)
        self._require(caller, "CreateUser", arn)
        user = IamUser(
            caller.account_id, name, ids.user_unique_id(), path, arn, self._clock.now().timestamp()
        )
        try:
            self._store.create_user(user)
        except Conflict:
            raise client_error(
                "EntityAlreadyExists", f"User with name {name} already exists.", 409
            ) from None
        return {"User": _user_out(user)}

    def get_user(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("UserName")
        if name is None:
            if caller.kind != "user":
                if caller.is_root:
                    return {
                        "User": {
                            "UserId": caller.account_id,
                            "Arn": caller.arn,
                            "CreateDate": self._clock.now(),
                            "Path": "/",
                            "UserName": "root",
                        }
                    }
                raise client_error(
                    "ValidationError",
                    "Must specify userName when calling with non-User credentials",
                )
            name = caller.name
        user = self._user(caller.account_id, name)
        self._require(caller, "GetUser", user.arn)
        return {"User": _user_out(user)}

    def list_users(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        self._require(caller, "ListUsers", arns.iam_user(caller.account_id, ""))
        prefix = params.get("PathPrefix", "/")
        users = [u for u in self._store.list_users(caller.account_id) if u.path.startswith(prefix)]
        return {"Users": [_user_out(u) for u in users], "IsTruncated": False}

    def delete_user(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        user = self._user(caller.account_id, params["UserName"])
        self._require(caller, "DeleteUser", user.arn)
        try:
            # Atomic in the store: refused while keys or policies remain, as on AWS.
            self._store.delete_user(caller.account_id, user.user_name)
        except InUse:
            raise client_error(
                "DeleteConflict",
                "Cannot delete entity, must delete policies and access keys first.",
                409,
            ) from None
        except NotFound:
            raise _no_such("user", user.user_name) from None
        self._resolver.invalidate()
        self._authz.invalidate("user", user.user_id)
        return {}

    # -- access keys -------------------------------------------------------------------------------
    def _key_owner(self, caller: Principal, params: dict[str, Any]) -> IamUser | None:
        name = params.get("UserName")
        if name is None:
            if caller.kind == "user":
                return self._user(caller.account_id, caller.name)
            if caller.is_root:
                return None
            raise client_error(
                "ValidationError", "Must specify userName when calling with non-User credentials"
            )
        return self._user(caller.account_id, name)

    def create_access_key(
        self, caller: Principal, params: dict[str, Any], *, fixed: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        """CreateAccessKey; ``fixed`` (id, secret) instead of generated ones is for declared
        worlds (:mod:`connectfed.seed`), which let tests hard-code keys."""
        owner = self._key_owner(caller, params)
        self._require(
            caller,
            "CreateAccessKey",
            owner.arn if owner else arns.iam_root(caller.account_id),
        )
        existing = self._store.list_access_keys(caller.account_id, owner.user_id if owner else None)
        if len(existing) >= 2:
            raise client_error("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
        key_id, secret = fixed or (ids.long_term_access_key_id(), ids.secret_access_key())
        key = AccessKey(
            key_id,
            secret,
            caller.account_id,
            owner.user_name if owner else None,
            "Active",
            self._clock.now().timestamp(),
            user_id=owner.user_id if owner else None,
        )
        try:
            self._store.create_access_key(key)
        except NotFound:  # the user was deleted meanwhile
            raise _no_such("user", params.get("UserName") or caller.name) from None
        except Conflict:  # only a fixed id can clash
            raise client_error(
                "EntityAlreadyExists", f"The access key {key_id} already exists.", 409
            ) from None
        return {
            "AccessKey": {
                "UserName": owner.user_name if owner else "root",
                "AccessKeyId": key.access_key_id,
                "Status": key.status,
                "SecretAccessKey": key.secret_access_key,
                "CreateDate": _time(key.created),
            }
        }

    def list_access_keys(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        owner = self._key_owner(caller, params)
        self._require(
            caller,
            "ListAccessKeys",
            owner.arn if owner else arns.iam_root(caller.account_id),
        )
        keys = self._store.list_access_keys(caller.account_id, owner.user_id if owner else None)
        return {
            "AccessKeyMetadata": [
                {
                    "UserName": k.user_name or "root",
                    "AccessKeyId": k.access_key_id,
                    "Status": k.status,
                    "CreateDate": _time(k.created),
                }
                for k in keys
            ],
            "IsTruncated": False,
        }

    def delete_access_key(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        owner = self._key_owner(caller, params)
        self._require(
            caller,
            "DeleteAccessKey",
            owner.arn if owner else arns.iam_root(caller.account_id),
        )
        key = self._store.get_access_key(params["AccessKeyId"])
        if (
            key is None
            or key.account_id != caller.account_id
            or key.user_id != (owner.user_id if owner else None)
        ):
            raise client_error(
                "NoSuchEntity",
                f"The Access Key with id {params['AccessKeyId']} cannot be found.",
                404,
            )
        self._store.delete_access_key(key.access_key_id)
        self._resolver.invalidate()
        return {}

    # -- roles -------------------------------------------------------------------------------------
    def create_role(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        name, path = params["RoleName"], params.get("Path", "/")
        arn = arns.iam_role(caller.account_id, name, path)
        self._require(caller, "CreateRole", arn)
        document = _document(
            params["AssumeRolePolicyDocument"], PolicyKind.TRUST, self._principal_exists(caller)
        )
        role = Role(
            caller.account_id,
            name,
            ids.role_unique_id(),
            path,
            arn,
            document,
            params.get("MaxSessionDuration", 3600),
            params.get("Description"),
            self._clock.now().timestamp(),
        )
        try:
            self._store.create_role(role)
        except Conflict:
            raise client_error(
                "EntityAlreadyExists", f"Role with name {name} already exists.", 409
            ) from None
        return {"Role": _role_out(role)}

    def get_role(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        role = self._role(caller.account_id, params["RoleName"])
        self._require(caller, "GetRole", role.arn)
        return {"Role": _role_out(role)}

    def list_roles(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        self._require(caller, "ListRoles", arns.iam_role(caller.account_id, ""))
        prefix = params.get("PathPrefix", "/")
        roles = [r for r in self._store.list_roles(caller.account_id) if r.path.startswith(prefix)]
        return {"Roles": [_role_out(r) for r in roles], "IsTruncated": False}

    def delete_role(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        role = self._role(caller.account_id, params["RoleName"])
        self._require(caller, "DeleteRole", role.arn)
        try:
            # Atomic in the store: refused while inline policies remain, as on AWS.
            self._store.delete_role(caller.account_id, role.role_name)
        except InUse:
            raise client_error(
                "DeleteConflict", "Cannot delete entity, must delete policies first.", 409
            ) from None
        except NotFound:
            raise _no_such("role", role.role_name) from None
        # The role's sessions die with it (they are bound to its unique id).
        self._resolver.invalidate()
        self._authz.invalidate("role", role.role_id)
        return {}

    def update_assume_role_policy(
        self, caller: Principal, params: dict[str, Any]
    ) -> dict[str, Any]:
        role = self._role(caller.account_id, params["RoleName"])
        self._require(caller, "UpdateAssumeRolePolicy", role.arn)
        document = _document(
            params["PolicyDocument"], PolicyKind.TRUST, self._principal_exists(caller)
        )
        self._store.update_role_trust(caller.account_id, role.role_name, document)
        return {}

    # -- inline policies ---------------------------------------------------------------------------
    def _owner(self, caller: Principal, kind: str, name: str) -> tuple[str, str, str]:
        """(name, ARN, unique id) of the user or role owning inline policies."""
        if kind == "user":
            user = self._user(caller.account_id, name)
            return user.user_name, user.arn, user.user_id
        role = self._role(caller.account_id, name)
        return role.role_name, role.arn, role.role_id

    def put_policy(self, caller: Principal, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        owner_name, arn, owner_id = self._owner(caller, kind, params[f"{kind.title()}Name"])
        self._require(caller, f"Put{kind.title()}Policy", arn)
        document = _document(params["PolicyDocument"], PolicyKind.IDENTITY)
        self._check_inline_quota(kind, owner_id, owner_name, params["PolicyName"], document)
        try:
            self._store.put_policy(InlinePolicy(kind, owner_id, params["PolicyName"], document))
        except NotFound:  # the owner was deleted meanwhile
            raise _no_such(kind, owner_name) from None
        self._authz.invalidate(kind, owner_id)
        return {}

    def _check_inline_quota(
        self, kind: str, owner_id: str, owner_name: str, policy_name: str, document: str
    ) -> None:
        """The aggregate of an owner's inline policies is capped (IAM and STS quotas), counted
        without whitespace; a replaced policy of the same name no longer counts."""
        quota = USER_POLICY_QUOTA if kind == "user" else ROLE_POLICY_QUOTA
        others = sum(
            policy_size(p.document)
            for p in self._store.list_policies(kind, owner_id)
            if p.policy_name != policy_name
        )
        if others + policy_size(document) > quota:
            raise client_error(
                "LimitExceeded",
                f"Maximum policy size of {quota} bytes exceeded for {kind} {owner_name}",
                409,
            )

    def get_policy(self, caller: Principal, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        owner_name, arn, owner_id = self._owner(caller, kind, params[f"{kind.title()}Name"])
        self._require(caller, f"Get{kind.title()}Policy", arn)
        policy = self._store.get_policy(kind, owner_id, params["PolicyName"])
        if policy is None:
            raise client_error(
                "NoSuchEntity",
                f"The {kind} policy with name {params['PolicyName']} cannot be found.",
                404,
            )
        return {
            f"{kind.title()}Name": owner_name,
            "PolicyName": policy.policy_name,
            "PolicyDocument": json.dumps(json.loads(policy.document)),
        }

    def list_policies(self, caller: Principal, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        _, arn, owner_id = self._owner(caller, kind, params[f"{kind.title()}Name"])
        self._require(caller, f"List{kind.title()}Policies", arn)
        names = [p.policy_name for p in self._store.list_policies(kind, owner_id)]
        return {"PolicyNames": names, "IsTruncated": False}

    def delete_policy(self, caller: Principal, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        _, arn, owner_id = self._owner(caller, kind, params[f"{kind.title()}Name"])
        self._require(caller, f"Delete{kind.title()}Policy", arn)
        try:
            self._store.delete_policy(kind, owner_id, params["PolicyName"])
        except NotFound:
            raise client_error(
                "NoSuchEntity",
                f"The {kind} policy with name {params['PolicyName']} cannot be found.",
                404,
            ) from None
        self._authz.invalidate(kind, owner_id)
        return {}
