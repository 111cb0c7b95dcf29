"""The demo dataset for ``connectfed serve --demo``: a SAML instance with two agents, a
federation role, an IAM user allowed only to assume it (the federation-only user, as the
application that signs agents in would be), and an administrator IAM user for everything else;
with ``--test-idp`` also the built-in test IdP, trusted by the demo roles. The world is declared
in files shipped with the package (``connectfed/seed/demo.yaml``, ``demo-test-idp.yaml``) and
applied idempotently on every start; the administrator's key lives in the database (secret
sealed) and is printed again at every start."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from importlib import resources
from typing import TYPE_CHECKING

from connectfed.identity.iam import OwnerKind
from connectfed.identity.principal import Principal
from connectfed.seed import apply_world, parse
from connectfed.seed.schema import World
from connectfed.store.records import AccessKey
from connectfed.web.testidp_site import IdpUser, TestIdpSite

if TYPE_CHECKING:
    from connectfed.app import Services

DEMO_ROLE = "ConnectAgentFederation"
DEMO_USER = "demo-federation"  # may only assume DEMO_ROLE: the federation-only user
DEMO_ADMIN = "demo-administrator"  # AdministratorAccess: the demo's administrator
DEMO_AGENTS = ("agent1", "agent2")


@dataclass(frozen=True, slots=True)
class DemoData:
    instance_id: str
    role_arn: str
    access_key_id: str
    secret_access_key: str
    agents: tuple[str, ...]
    idp: TestIdpSite | None = None  # the test IdP's pages, with ``test_idp``


def demo_world(test_idp: bool = False) -> World:
    """The demo's declared world, as shipped in the package."""
    name = "demo-test-idp.yaml" if test_idp else "demo.yaml"
    text = resources.files("connectfed.seed").joinpath(name).read_text(encoding="utf-8")
    return parse(text, name)


def ensure_demo(services: Services, test_idp: bool = False) -> DemoData:
    applied = apply_world(services, demo_world(test_idp))
    key = applied.access_keys(DEMO_USER)[0]
    idp = applied.test_idp
    if idp is not None:  # say on /idp what each user demonstrates
        idp = replace(idp, users={name: described(user) for name, user in idp.users.items()})
    return DemoData(
        applied.instance("demo").instance_id,
        applied.role_arn(DEMO_ROLE),
        key.access_key_id,
        key.secret_access_key,
        DEMO_AGENTS,
        idp,
    )


def demo_caller(services: Services, demo: DemoData) -> Principal:
    """The demo's federation-only IAM user, as its access key authenticates it (for code that
    calls the services directly: benchmarks, in-process tests)."""
    key = services.store.get_access_key(demo.access_key_id)
    assert key is not None and key.user_name is not None
    user = services.store.get_user(key.account_id, key.user_name)
    assert user is not None
    return Principal(
        "user", key.account_id, user.arn, user.user_id, user.user_name, key.access_key_id
    )


def _root(services: Services) -> Principal:
    boot = services.bootstrap
    return Principal.root(boot.account_id, boot.root_access_key_id)


@dataclass(frozen=True, slots=True)
class DemoAdmin:
    """The demo's administrator: an IAM user with an ``AdministratorAccess`` policy (every
    action on every resource), so nothing in the demo needs the account's root keys."""

    user_name: str
    access_key_id: str
    secret_access_key: str


ADMINISTRATOR_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _admin_key(services: Services, stored: str | None) -> AccessKey | None:
    if stored is None:
        return None
    key = services.store.get_access_key(json.loads(stored)["access_key_id"])
    return key if key is not None and key.user_name is not None else None


def ensure_demo_admin(services: Services) -> DemoAdmin:
    """The administrator user and its access key, created on the first start; later starts find
    the key (its secret sealed in the store) through the ``demo_admin`` meta entry. A key deleted
    since is replaced by another of the user's keys, or a new one."""
    store = services.store
    seen = store.meta_get("demo_admin")
    key = _admin_key(services, seen)
    if key is None:
        root = _root(services)
        if store.get_user(root.account_id, DEMO_ADMIN) is None:
            services.iam.create_user(root, DEMO_ADMIN)
        services.iam.put_policy(
            root,
            OwnerKind.USER,
            DEMO_ADMIN,
            "AdministratorAccess",
            json.dumps(ADMINISTRATOR_ACCESS),
        )
        user = store.get_user(root.account_id, DEMO_ADMIN)
        assert user is not None
        existing = [
            k for k in store.list_access_keys(root.account_id, user.user_id) if k.status == "Active"
        ]
        created = None
        if not existing:
            created = services.iam.create_access_key(root, DEMO_ADMIN).access_key_id
        mine = json.dumps({"access_key_id": created or existing[-1].access_key_id})
        # Replace only what was seen: another server sharing the database may have won.
        won = store.update_meta(
            "demo_admin", lambda old: mine if old is None or old == seen else old
        )
        if won != mine and created is not None:
            services.iam.delete_access_key(root, created, DEMO_ADMIN)
        key = _admin_key(services, won)
        if key is None:
            return ensure_demo_admin(services)
    assert key.user_name is not None
    return DemoAdmin(key.user_name, key.access_key_id, key.secret_access_key)


IDP_USER_NOTES = {
    "agent1": "The whole flow: one role (`ConnectAgentFederation`), a Connect user of the "
    "same name, straight to the CCP.",
    "agent2": "Two roles in the assertion: the role chooser. The first role agent2 signs in "
    "with stays bound to it; choosing the other role later is refused (one role per "
    "Connect user, as on AWS, unless the server runs with "
    "`--allow-multiple-roles-per-user`).",
    "stranger": "A valid SAML sign-in for someone with no Connect user of that name: "
    "GetFederationToken refuses it (user not onboarded).",
    "agent1-denied": "agent1 through a role (`ConnectNoAccess`) whose policies do not allow "
    "`connect:GetFederationToken`: access denied.",
}


def described(user: IdpUser) -> IdpUser:
    return replace(user, description=IDP_USER_NOTES.get(user.name, user.description))
