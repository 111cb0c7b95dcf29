"""InstanceService and FederationService called with typed values: records, pages, and the
typed refusals callers tell apart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectfed import arns
from connectfed.connect.errors import (
    InvalidParameter,
    InvalidRequest,
    ResourceKind,
    ResourceNotFound,
)
from connectfed.connect.federation import ConnectUserNotFound
from connectfed.connect.instances import NewInstance, NewUser, ProfileKind
from connectfed.connect.pages import PageRequest
from connectfed.errors import AccessDenied
from connectfed.identity.iam import OwnerKind
from connectfed.identity.principal import Principal
from connectfed.store.records import Instance
from tests.support.domain import Domain, domain

PHONE = {"PhoneType": "SOFT_PHONE"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Domain]:
    made = domain(tmp_path)
    yield made
    made.services.close()


def _instance(world: Domain, alias: str = "acme", kind: str = "SAML") -> Instance:
    return world.services.instances.create_instance(
        world.root, NewInstance(kind, alias, inbound_calls=True, outbound_calls=False)
    )


def _agent(
    world: Domain, instance: Instance, username: str, password: str | None = None
) -> NewUser:
    instances = world.services.instances
    page = PageRequest(100)
    security = instances.list_profiles(world.root, instance.instance_id, ProfileKind.SECURITY, page)
    routing = instances.list_profiles(world.root, instance.instance_id, ProfileKind.ROUTING, page)
    agent = next(p.profile_id for p in security.items if p.name == "Agent")
    return NewUser(username, (agent,), routing.items[0].profile_id, PHONE, password=password)


def test_a_created_instance_is_the_stored_record(world: Domain) -> None:
    instance = _instance(world)
    region = world.services.settings.region
    assert instance.arn == arns.connect_instance(
        region, world.root.account_id, instance.instance_id
    )
    assert (instance.alias, instance.inbound_calls, instance.outbound_calls) == (
        "acme",
        True,
        False,
    )
    assert world.services.instances.describe_instance(world.root, instance.instance_id) == instance
    with pytest.raises(InvalidRequest, match="EXISTING_DIRECTORY is not supported"):
        _instance(world, "other", "EXISTING_DIRECTORY")


def test_instances_page_by_id(world: Domain) -> None:
    made = sorted((_instance(world, f"a{i}") for i in range(3)), key=lambda i: i.instance_id)
    instances, root = world.services.instances, world.root
    first = instances.list_instances(root, PageRequest(2))
    assert first.items == tuple(made[:2]) and first.resume_after == made[1].instance_id
    rest = instances.list_instances(root, PageRequest(2, lambda: first.resume_after))
    assert rest.items == (made[2],) and rest.resume_after is None


def test_the_page_position_is_read_only_once_the_caller_is_authorised(world: Domain) -> None:
    instance = _instance(world)
    bob = world.user("bob")

    def position() -> str | None:
        raise AssertionError("read before authorisation")

    with pytest.raises(AccessDenied):
        world.services.instances.list_users(bob, instance.instance_id, PageRequest(10, position))


def test_users_of_a_saml_instance(world: Domain) -> None:
    instances, root = world.services.instances, world.root
    instance = _instance(world)
    iid = instance.instance_id
    with pytest.raises(InvalidParameter, match="Password is not supported"):
        instances.create_user(root, iid, _agent(world, instance, "agent1", password="pw"))
    user = instances.create_user(root, iid, _agent(world, instance, "agent1"))
    assert user.arn == arns.connect_user(instance.arn, user.user_id)
    assert json.loads(user.phone_config) == PHONE
    instances.update_identity_info(root, iid, user.user_id, {"FirstName": "Ada"})
    described = instances.describe_user(root, iid, user.user_id)
    assert json.loads(described.identity_info) == {"FirstName": "Ada"}
    instances.create_user(root, iid, _agent(world, instance, "agent2"))
    first = instances.list_users(root, iid, PageRequest(1))
    assert [u.username for u in first.items] == ["agent1"] and first.resume_after == "agent1"
    rest = instances.list_users(root, iid, PageRequest(1, lambda: "agent1"))
    assert [u.username for u in rest.items] == ["agent2"] and rest.resume_after is None
    instances.delete_user(root, iid, user.user_id)
    with pytest.raises(ResourceNotFound) as caught:
        instances.describe_user(root, iid, user.user_id)
    assert (caught.value.kind, caught.value.resource_id) == (ResourceKind.USER, user.user_id)


def _session(world: Domain, session_name: str) -> Principal:
    """A session of a role allowed GetFederationToken, assumed by a new IAM user."""
    bob = world.user(f"caller-{session_name}")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": bob.arn}, "Action": "sts:AssumeRole"}
        ],
    }
    role = world.services.iam.create_role(world.root, f"Agent-{session_name}", json.dumps(trust))
    issued = world.services.sts.assume_role(bob, role.arn, session_name)
    return world.services.resolver.principal_of_session(issued.credentials.access_key_id)


def test_federation_answers_a_federation_token(world: Domain) -> None:
    instance = _instance(world)
    user = world.services.instances.create_user(
        world.root, instance.instance_id, _agent(world, instance, "agent1")
    )
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "connect:GetFederationToken", "Resource": "*"}],
    }
    session = _session(world, "agent1")
    assert session.role_arn is not None
    world.services.iam.put_policy(
        world.root,
        OwnerKind.ROLE,
        session.role_arn.rsplit("/", 1)[1],
        "federate",
        json.dumps(allow),
    )
    token = world.services.federation.federate(session, instance.instance_id)
    assert (token.user_arn, token.user_id) == (user.arn, user.user_id)
    assert token.sign_in_url.startswith(
        f"{world.services.settings.public_url}/connect/{instance.instance_id}/auth/sign-in?code="
    )
    assert token.access.token not in repr(token) and "code=" not in repr(token)
    stranger = _session(world, "stranger")
    world.services.iam.put_policy(
        world.root,
        OwnerKind.ROLE,
        "Agent-stranger",
        "federate",
        json.dumps(allow),
    )
    with pytest.raises(ConnectUserNotFound):
        world.services.federation.federate(stranger, instance.instance_id)
