"""The demo dataset for ``connectfed serve --demo``: a SAML instance with two agents, a
federation role, an IAM user allowed only to assume it (the federation-only user, as the
application that signs agents in would be), and an administrator IAM user for everything else.
Idempotent across restarts: the users' keys live in the database (secrets sealed) and are
printed again at every start."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from connectfed.identity.principal import Principal
from connectfed.identity.providers import ProviderChange
from connectfed.saml.testidp import SigningKey, TestIdp
from connectfed.store.records import AccessKey
from connectfed.web.testidp_site import IdpUser, TestIdpSite

if TYPE_CHECKING:
    from connectfed.app import Services

DEMO_ALIAS = "connectfed-demo"
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


def _root(services: Services) -> Principal:
    boot = services.bootstrap
    return Principal(
        kind="root",
        account_id=boot.account_id,
        arn=f"arn:aws:iam::{boot.account_id}:root",
        user_id=boot.account_id,
        name="root",
        access_key_id=boot.root_access_key_id,
    )


def ensure_demo(services: Services) -> DemoData:
    stored = services.store.meta_get("demo")
    if stored is not None:
        info = json.loads(stored)
        key = services.store.get_access_key(info["access_key_id"])
        if key is not None and services.store.get_instance(info["instance_id"]) is not None:
            return DemoData(
                info["instance_id"],
                info["role_arn"],
                key.access_key_id,
                key.secret_access_key,
                DEMO_AGENTS,
            )
    root = _root(services)
    account, region = root.account_id, services.settings.region
    created = services.instances.create_instance(
        root,
        {
            "IdentityManagementType": "SAML",
            "InstanceAlias": f"{DEMO_ALIAS}-{account}",
            "InboundCallsEnabled": True,
            "OutboundCallsEnabled": True,
        },
    )
    instance_id = created["Id"]
    profiles = services.instances.list_profiles(root, "security", {"InstanceId": instance_id})
    agent_profile = next(
        p["Id"] for p in profiles["SecurityProfileSummaryList"] if p["Name"] == "Agent"
    )
    routing = services.instances.list_profiles(root, "routing", {"InstanceId": instance_id})
    routing_id = routing["RoutingProfileSummaryList"][0]["Id"]
    for agent in DEMO_AGENTS:
        services.instances.create_user(
            root,
            {
                "InstanceId": instance_id,
                "Username": agent,
                "PhoneConfig": {"PhoneType": "SOFT_PHONE"},
                "SecurityProfileIds": [agent_profile],
                "RoutingProfileId": routing_id,
                "IdentityInfo": {"FirstName": agent.title(), "LastName": "Demo"},
            },
        )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    if services.store.get_role(account, DEMO_ROLE) is None:
        services.iam.create_role(
            root, {"RoleName": DEMO_ROLE, "AssumeRolePolicyDocument": json.dumps(trust)}
        )
    role_arn = f"arn:aws:iam::{account}:role/{DEMO_ROLE}"
    federate = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "connect:GetFederationToken",
                "Resource": f"arn:aws:connect:{region}:{account}:instance/{instance_id}"
                "/user/${aws:userid}",
            }
        ],
    }
    services.iam.put_policy(
        root,
        "role",
        {"RoleName": DEMO_ROLE, "PolicyName": "federate", "PolicyDocument": json.dumps(federate)},
    )
    if services.store.get_user(account, DEMO_USER) is None:
        services.iam.create_user(root, {"UserName": DEMO_USER})
    assume = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
    }
    services.iam.put_policy(
        root,
        "user",
        {"UserName": DEMO_USER, "PolicyName": "assume-agent", "PolicyDocument": json.dumps(assume)},
    )
    key = services.iam.create_access_key(root, {"UserName": DEMO_USER})["AccessKey"]
    services.store.meta_setdefault(
        "demo",
        json.dumps(
            {"instance_id": instance_id, "role_arn": role_arn, "access_key_id": key["AccessKeyId"]}
        ),
    )
    return DemoData(instance_id, role_arn, key["AccessKeyId"], key["SecretAccessKey"], DEMO_AGENTS)


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
            services.iam.create_user(root, {"UserName": DEMO_ADMIN})
        services.iam.put_policy(root, "user", {
            "UserName": DEMO_ADMIN, "PolicyName": "AdministratorAccess",
            "PolicyDocument": json.dumps(ADMINISTRATOR_ACCESS)})
        user = store.get_user(root.account_id, DEMO_ADMIN)
        assert user is not None
        existing = [k for k in store.list_access_keys(root.account_id, user.user_id)
                    if k.status == "Active"]
        created = None
        if not existing:
            created = services.iam.create_access_key(
                root, {"UserName": DEMO_ADMIN})["AccessKey"]["AccessKeyId"]
        mine = json.dumps({"access_key_id": created or existing[-1].access_key_id})
        # Replace only what was seen: another server sharing the database may have won.
        won = store.update_meta("demo_admin",
                                lambda old: mine if old is None or old == seen else old)
        if won != mine and created is not None:
            services.iam.delete_access_key(root, {"UserName": DEMO_ADMIN,
                                                  "AccessKeyId": created})
        key = _admin_key(services, won)
        if key is None:
            return ensure_demo_admin(services)
    assert key.user_name is not None
    return DemoAdmin(key.user_name, key.access_key_id, key.secret_access_key)


SUPERVISOR_ROLE = "ConnectSupervisorFederation"
NO_ACCESS_ROLE = "ConnectNoAccess"
TEST_IDP_PROVIDER = "connectfed-test-idp"


def _signing_key(folder: Path) -> SigningKey:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key_path, cert_path = folder / "key.pem", folder / "cert.pem"
    if key_path.exists() and cert_path.exists():
        key = load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        return SigningKey(key, cert)  # type: ignore[arg-type]
    folder.mkdir(parents=True, exist_ok=True)
    generated = SigningKey.generate("connectfed test IdP")
    key_path.write_bytes(generated.key_pem)
    key_path.chmod(0o600)
    cert_path.write_bytes(generated.cert_pem)
    return generated


def ensure_test_idp(services: Services, demo: DemoData, folder: Path) -> TestIdpSite:
    """Register the test IdP as a SAML provider and trust it from the demo roles.

    Users: agent1 (one role), agent2 (two roles: the role chooser), stranger (not a Connect
    user), agent1-denied (a role without permission)."""
    root = _root(services)
    account = root.account_id
    saml_url = f"{services.settings.public_url}/saml"
    idp = TestIdp(entity_id=f"{services.settings.public_url}/idp/metadata",
                  keys=[_signing_key(folder)])
    provider_arn = f"arn:aws:iam::{account}:saml-provider/{TEST_IDP_PROVIDER}"
    if services.store.get_saml_provider(provider_arn) is None:
        services.providers.create(root, TEST_IDP_PROVIDER, idp.metadata())
    else:
        services.providers.update(root, provider_arn, ProviderChange(document=idp.metadata()))
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"Federated": provider_arn},
         "Action": "sts:AssumeRoleWithSAML",
         "Condition": {"StringEquals": {"SAML:aud": saml_url}}}]})
    federate = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "connect:GetFederationToken", "Resource": "*",
        "Condition": {"StringEquals": {"connect:InstanceId": demo.instance_id}}}]}
    for name, policy in ((DEMO_ROLE, None), (SUPERVISOR_ROLE, federate), (NO_ACCESS_ROLE, None)):
        if services.store.get_role(account, name) is None:
            services.iam.create_role(root, {"RoleName": name, "AssumeRolePolicyDocument": trust})
        services.iam.update_assume_role_policy(root, {"RoleName": name,
                                                      "PolicyDocument": trust})
        if policy is not None:
            services.iam.put_policy(root, "role", {"RoleName": name, "PolicyName": "federate",
                                                   "PolicyDocument": json.dumps(policy)})
    relay = (f"{services.settings.public_url}/connect/federate/{demo.instance_id}"
             "?destination=%2Fccp-v2")
    role = f"arn:aws:iam::{account}:role/"
    users = [
        IdpUser("agent1", "agent1", (demo.role_arn,), relay),
        IdpUser("agent2", "agent2", (demo.role_arn, role + SUPERVISOR_ROLE), relay),
        IdpUser("stranger", "stranger", (demo.role_arn,), relay),
        IdpUser("agent1-denied", "agent1", (role + NO_ACCESS_ROLE,), relay),
    ]
    return TestIdpSite(idp, provider_arn, {u.name: described(u) for u in users}, saml_url)


# What each test IdP user demonstrates, shown beside it on /idp.
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
