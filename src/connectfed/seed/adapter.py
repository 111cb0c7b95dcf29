"""The one place the seed calls domain services that still take and return AWS wire shapes.

:class:`~connectfed.identity.iam.IamService` and
:class:`~connectfed.connect.instances.InstanceService` take botocore-shaped parameter dicts
(``{"UserName": ...}``) and answer likewise; everything here calls them with those shapes and
hands typed records back, so :mod:`connectfed.seed.apply` never sees a wire dict. When those
services move to typed signatures, only this module changes. Reads go to the store's records
directly (no authorisation is involved: the seed acts as each account's root). The typed
services (SAML providers, agent administration) are called from ``apply`` directly.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from connectfed.connect.instances import NewInstance, NewUser
from connectfed.identity.iam import OwnerKind
from connectfed.identity.principal import Principal
from connectfed.seed.schema import ConnectUserSpec, FixedKey, InstanceSpec
from connectfed.store.records import AccessKey, ConnectUser, IamUser, Instance, Profile, Role

if TYPE_CHECKING:
    from connectfed.app import Services


class WireAdapter:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._store = services.store

    # -- IAM users and keys ------------------------------------------------------------------
    def iam_user(self, account_id: str, name: str) -> IamUser | None:
        return self._store.get_user(account_id, name)

    def create_iam_user(self, root: Principal, name: str, path: str) -> IamUser:
        return self._services.iam.create_user(root, name, path=path)

    def access_keys(self, account_id: str, user: IamUser | None) -> list[AccessKey]:
        return self._store.list_access_keys(account_id, user.user_id if user else None)

    def access_key(self, access_key_id: str) -> AccessKey | None:
        return self._store.get_access_key(access_key_id)

    def create_access_key(
        self, root: Principal, user: IamUser | None, fixed: FixedKey | None
    ) -> AccessKey:
        pair = (fixed.access_key_id, fixed.secret_access_key) if fixed else None
        return self._services.iam.create_access_key(
            root, user.user_name if user else None, fixed=pair
        )

    def delete_access_key(self, root: Principal, key: AccessKey) -> None:
        self._services.iam.delete_access_key(root, key.access_key_id, key.user_name)

    # -- roles and inline policies -----------------------------------------------------------
    def role(self, account_id: str, name: str) -> Role | None:
        return self._store.get_role(account_id, name)

    def create_role(
        self,
        root: Principal,
        name: str,
        path: str,
        trust: str,
        description: str | None,
        max_session_duration: int,
    ) -> Role:
        return self._services.iam.create_role(
            root,
            name,
            trust,
            path=path,
            max_session_duration=max_session_duration,
            description=description,
        )

    def update_trust(self, root: Principal, name: str, trust: str) -> None:
        self._services.iam.update_assume_role_policy(root, name, trust)

    def inline_policies(self, kind: str, owner_id: str) -> dict[str, str]:
        return {p.policy_name: p.document for p in self._store.list_policies(kind, owner_id)}

    def put_policy(self, root: Principal, kind: str, owner: str, name: str, document: str) -> None:
        self._services.iam.put_policy(root, OwnerKind(kind), owner, name, document)

    # -- Connect instances and users ---------------------------------------------------------
    def instance(self, instance_id: str) -> Instance | None:
        return self._store.get_instance(instance_id)

    def instance_by_alias(self, account_id: str, region: str, alias: str) -> Instance | None:
        return next(
            (
                i
                for i in self._store.list_instances(account_id)
                if i.alias == alias and i.region == region
            ),
            None,
        )

    def create_instance(self, root: Principal, spec: InstanceSpec, alias: str) -> Instance:
        new = NewInstance(
            spec.identity_management_type, alias, spec.inbound_calls, spec.outbound_calls
        )
        return self._services.instances.create_instance(root, new, instance_id=spec.instance_id)

    def profiles(self, instance_id: str, kind: str) -> list[Profile]:
        return self._store.list_profiles(instance_id, kind)

    def connect_user(self, instance_id: str, username: str) -> ConnectUser | None:
        return self._store.find_connect_user(instance_id, username)

    def create_connect_user(
        self,
        root: Principal,
        instance: Instance,
        spec: ConnectUserSpec,
        security: list[str],
        routing: str,
    ) -> ConnectUser:
        new = NewUser(
            spec.username,
            tuple(security),
            routing,
            spec.phone,
            spec.identity,
            password=spec.password,
        )
        return self._services.instances.create_user(
            root, instance.instance_id, new, user_id=spec.user_id
        )

    def update_identity(self, root: Principal, user: ConnectUser, identity: dict[str, str]) -> None:
        self._services.instances.update_identity_info(
            root, user.instance_id, user.user_id, identity
        )

    @staticmethod
    def identity_of(user: ConnectUser) -> dict[str, str]:
        value = json.loads(user.identity_info)
        return value if isinstance(value, dict) else {}
