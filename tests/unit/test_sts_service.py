"""StsService called with typed values: AssumeRole answers a RoleSession."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connectfed import arns
from connectfed.auth.verify import SignatureClaim
from connectfed.cache import NotCached
from connectfed.errors import AccessDenied, UnrecognizedClient
from connectfed.identity.credentials import CredentialResolver
from connectfed.identity.errors import DurationLimit, DurationTooLong
from connectfed.identity.policy import MalformedPolicy
from connectfed.identity.principal import Origin, Principal
from connectfed.identity.sts_values import CallerIdentity
from connectfed.store.records import Role
from tests.support.domain import START, Domain, domain


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Domain]:
    made = domain(tmp_path)
    yield made
    made.services.close()


def _role(world: Domain, caller: Principal, condition: dict[str, Any] | None = None) -> Role:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": caller.arn},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    return world.services.iam.create_role(world.root, "Agent", trust, max_session_duration=7200)


def test_assume_role_answers_a_session_of_the_role(world: Domain) -> None:
    bob = world.user("bob")
    role = _role(world, bob)  # naming bob itself: no identity policy needed (same account)
    session = world.services.sts.assume_role(bob, role.arn, "agent1", duration_seconds=1800)
    assert session.arn == arns.assumed_role(role.account_id, "Agent", "agent1")
    assert session.assumed_role_id == f"{role.role_id}:agent1"
    creds = session.credentials
    assert creds.access_key_id.startswith("ASIA")
    assert creds.expiration == START + timedelta(seconds=1800)
    assert creds.secret_access_key not in repr(creds) and creds.session_token not in repr(creds)
    caller = world.services.resolver.principal_of_session(creds.access_key_id)
    assert world.services.sts.get_caller_identity(caller) == CallerIdentity(
        f"{role.role_id}:agent1", role.account_id, session.arn
    )


def test_an_external_id_is_checked_when_the_trust_asks_for_one(world: Domain) -> None:
    bob = world.user("bob")
    role = _role(world, bob, {"StringEquals": {"sts:ExternalId": "shared"}})
    sts = world.services.sts
    with pytest.raises(AccessDenied):
        sts.assume_role(bob, role.arn, "agent1")
    with pytest.raises(AccessDenied):
        sts.assume_role(bob, role.arn, "agent1", external_id="other")
    assert sts.assume_role(bob, role.arn, "agent1", external_id="shared").arn.endswith("/agent1")


@pytest.mark.parametrize(
    ("kwargs", "refusal"),
    [
        ({"duration_seconds": 7201}, DurationTooLong),
        ({"policy": "{"}, MalformedPolicy),
    ],
)
def test_refusals(world: Domain, kwargs: dict[str, Any], refusal: type[Exception]) -> None:
    bob = world.user("bob")
    role = _role(world, bob)
    with pytest.raises(refusal):
        world.services.sts.assume_role(bob, role.arn, "agent1", **kwargs)


def test_a_chained_session_is_held_to_one_hour(world: Domain) -> None:
    bob = world.user("bob")
    role = _role(world, bob)
    issued = world.services.sts.assume_role(bob, role.arn, "agent1")
    session = world.services.resolver.principal_of_session(issued.credentials.access_key_id)
    trust = {  # the role's own sessions may assume it again
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": role.arn}, "Action": "sts:AssumeRole"}
        ],
    }
    world.services.iam.update_assume_role_policy(world.root, "Agent", json.dumps(trust))
    with pytest.raises(DurationTooLong) as caught:
        world.services.sts.assume_role(session, role.arn, "again", duration_seconds=3601)
    assert caught.value.limit is DurationLimit.ROLE_CHAINING


def test_root_may_not_assume_roles(world: Domain) -> None:
    role = _role(world, world.root)
    with pytest.raises(AccessDenied):
        world.services.sts.assume_role(world.root, role.arn, "agent1")


def _claim(access_key_id: str, token: str | None) -> SignatureClaim:
    return SignatureClaim(
        access_key_id, "20260101", "us-east-1", "sts", ("host",), "0" * 64, "", False, None, token
    )


def test_a_session_resolves_only_with_its_own_token_however_often_it_was_proven(
    world: Domain,
) -> None:
    bob = world.user("bob")
    role = _role(world, bob)
    creds = world.services.sts.assume_role(bob, role.arn, "agent1").credentials
    resolver = world.services.resolver
    for _ in range(3):  # the first proves the token, the others compare with the proven one
        secret, principal = resolver.resolve(_claim(creds.access_key_id, creds.session_token))
        assert secret == creds.secret_access_key and principal.session_name == "agent1"
    other = world.services.sts.assume_role(bob, role.arn, "agent2").credentials
    for token in (other.session_token, creds.session_token[:-1] + "x", "é" * 40, ""):
        with pytest.raises(UnrecognizedClient):
            resolver.resolve(_claim(creds.access_key_id, token))
    with pytest.raises(NotCached):  # this world caches nothing (a TTL of 0)
        resolver.resolve(_claim(creds.access_key_id, creds.session_token), cached_only=True)
    store = world.services.store
    key = bytes.fromhex(store.meta_secret_setdefault("token_hmac_key", "unused"))
    caching = CredentialResolver(store, world.clock, key, ttl=60)
    caching.resolve(_claim(creds.access_key_id, creds.session_token))
    secret, _ = caching.resolve(_claim(creds.access_key_id, creds.session_token), cached_only=True)
    assert secret == creds.secret_access_key
    with pytest.raises(UnrecognizedClient):  # from memory, but still its own token only
        caching.resolve(_claim(creds.access_key_id, other.session_token), cached_only=True)
    with pytest.raises(NotCached):  # never looked up: memory alone cannot answer
        caching.resolve(_claim(other.access_key_id, other.session_token), cached_only=True)


def test_a_principal_signing_a_request_keeps_every_field_but_its_origin() -> None:
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Principal):
        if field.name == "origin":
            continue
        values[field.name] = (
            START if "expiration" in field.name or "issued" in field.name else f"v-{field.name}"
        )
    principal = Principal(**values)
    origin = Origin("192.0.2.1", True, "req-1")
    assert principal.signing(origin) == dataclasses.replace(principal, origin=origin)
    assert principal.signing(origin).origin == origin
