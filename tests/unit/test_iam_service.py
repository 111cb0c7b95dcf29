"""IamService called with typed values: it answers with the stored records and refuses with
the domain's exceptions (the wire shapes and codes are tested through boto3 in tests/e2e)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectfed import arns
from connectfed.errors import AccessDenied
from connectfed.identity.errors import (
    Entity,
    EntityExists,
    EntityInUse,
    EntityNotFound,
    IdentityError,
    Quota,
    QuotaExceeded,
)
from connectfed.identity.iam import OwnedPolicy, OwnerKind
from connectfed.identity.policy import MalformedPolicy
from tests.support.domain import START, Domain, domain

ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Domain]:
    made = domain(tmp_path)
    yield made
    made.services.close()


def _trust(principal: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _refusal(call: object, *args: object, **kwargs: object) -> Exception:
    with pytest.raises((IdentityError, MalformedPolicy)) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


def _not_found(call: object, *args: object) -> tuple[Entity, str]:
    refusal = _refusal(call, *args)
    assert isinstance(refusal, EntityNotFound)
    return refusal.kind, refusal.name


def test_a_created_user_is_the_stored_record(world: Domain) -> None:
    iam, root = world.services.iam, world.root
    user = iam.create_user(root, "bob", path="/ops/")
    assert user.arn == arns.iam_user(root.account_id, "bob", "/ops/")
    assert user.user_id.startswith("AIDA") and user.created == START.timestamp()
    assert iam.get_user(root, "BOB") == user  # names are case-insensitive, as on IAM
    assert iam.list_users(root, path_prefix="/ops/") == [user]
    assert iam.list_users(root, path_prefix="/dev/") == []
    exists = _refusal(iam.create_user, root, "Bob")
    assert isinstance(exists, EntityExists) and (exists.kind, exists.name) == (Entity.USER, "Bob")
    assert str(exists) == "User with name Bob already exists."


def test_root_asking_for_itself_is_described_as_the_root_user(world: Domain) -> None:
    me = world.services.iam.get_user(world.root)
    assert (me.user_name, me.user_id, me.arn) == ("root", world.root.account_id, world.root.arn)


def test_a_user_without_policies_is_denied(world: Domain) -> None:
    bob = world.user("bob")
    with pytest.raises(AccessDenied):
        world.services.iam.create_user(bob, "eve")
    assert _not_found(world.services.iam.get_user, world.root, "eve") == (Entity.USER, "eve")


def test_access_keys_are_two_at_most_and_root_keys_belong_to_no_user(world: Domain) -> None:
    iam, root = world.services.iam, world.root
    iam.create_user(root, "bob")
    first = iam.create_access_key(root, "bob")
    assert (first.user_name, first.status) == ("bob", "Active")
    iam.create_access_key(root, "bob")
    quota = _refusal(iam.create_access_key, root, "bob")
    assert isinstance(quota, QuotaExceeded)
    assert (quota.quota, quota.limit) == (Quota.ACCESS_KEYS_PER_USER, 2)
    assert {k.access_key_id for k in iam.list_access_keys(root, "bob")} >= {first.access_key_id}
    iam.delete_access_key(root, first.access_key_id, "bob")
    assert _not_found(iam.delete_access_key, root, first.access_key_id, "bob") == (
        Entity.ACCESS_KEY,
        first.access_key_id,
    )
    assert all(k.user_name is None for k in iam.list_access_keys(root))


def test_a_fixed_key_is_created_as_given(world: Domain) -> None:
    iam, root = world.services.iam, world.root
    iam.create_user(root, "bob")
    key = iam.create_access_key(root, "bob", fixed=("AKIAFIXED0000000000X", "s3cret"))
    assert (key.access_key_id, key.secret_access_key) == ("AKIAFIXED0000000000X", "s3cret")


def test_roles_and_their_trust(world: Domain) -> None:
    iam, root = world.services.iam, world.root
    role = iam.create_role(
        root,
        "Agent",
        _trust(root.arn),
        path="/fed/",
        max_session_duration=7200,
        description="agents",
    )
    assert role.arn == arns.iam_role(root.account_id, "Agent", "/fed/")
    assert (role.max_session_duration, role.description) == (7200, "agents")
    assert iam.get_role(root, "agent") == role
    assert iam.list_roles(root, path_prefix="/fed/") == [role]
    iam.update_assume_role_policy(root, "Agent", _trust(arns.iam_root("999999999999")))
    assert "999999999999" in iam.get_role(root, "Agent").trust_policy
    missing = arns.iam_user(root.account_id, "nobody")
    invalid = _refusal(iam.update_assume_role_policy, root, "Agent", _trust(missing))
    assert isinstance(invalid, MalformedPolicy) and "Invalid principal" in str(invalid)
    assert isinstance(_refusal(iam.create_role, root, "Bad", "{"), MalformedPolicy)


def test_inline_policies_name_their_owner_as_stored(world: Domain) -> None:
    iam, root = world.services.iam, world.root
    iam.create_user(root, "bob")
    iam.put_policy(root, OwnerKind.USER, "BOB", "all", ALLOW_ALL)
    assert iam.list_policies(root, OwnerKind.USER, "bob") == ["all"]
    assert iam.get_policy(root, OwnerKind.USER, "bob", "all") == OwnedPolicy(
        OwnerKind.USER, "bob", "all", ALLOW_ALL
    )
    assert isinstance(_refusal(iam.delete_user, root, "bob"), EntityInUse)
    iam.delete_policy(root, OwnerKind.USER, "bob", "all")
    assert _not_found(iam.get_policy, root, OwnerKind.USER, "bob", "all") == (
        Entity.USER_POLICY,
        "all",
    )
    assert _not_found(iam.put_policy, root, OwnerKind.ROLE, "bob", "all", ALLOW_ALL) == (
        Entity.ROLE,
        "bob",
    )
    iam.delete_user(root, "bob")
    assert _not_found(iam.get_user, root, "bob") == (Entity.USER, "bob")
