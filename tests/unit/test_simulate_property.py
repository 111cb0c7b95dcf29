"""The policy simulator is the live evaluator: for random role policies and requests,
SimulatePrincipalPolicy's decision, given the live request's context, is the decision the live
authorisation (``Authorizer.decide``) takes for that role's session. In-process with a fixed
clock, so hundreds of cases run in seconds; tests/e2e/test_simulate.py holds boto3's side."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from connectfed.app import Services, build_services
from connectfed.clock import FixedClock
from connectfed.demo import ensure_demo
from connectfed.identity.errors import IdentityError
from connectfed.identity.explain import DECISION_WORDS
from connectfed.identity.iam import OwnerKind
from connectfed.identity.policy import MalformedPolicy
from connectfed.identity.principal import Principal
from connectfed.identity.simulate import ContextEntry, Simulation
from connectfed.settings import Settings

ACCOUNT = "123456789012"
INSTANCE = f"arn:aws:connect:us-east-1:{ACCOUNT}:instance/i-1"
ACTIONS = [
    "connect:GetFederationToken",
    "connect:*",
    "connect:Describe*",
    "iam:*",
    "*",
    "sts:AssumeRole",
]
RESOURCES = [
    "*",
    f"{INSTANCE}/user/*",
    f"{INSTANCE}/user/${{aws:userid}}",
    f"{INSTANCE}/*",
    f"arn:aws:iam::{ACCOUNT}:user/*",
]
CONDITIONS = [
    ("StringEquals", "connect:InstanceId", ["i-1", "i-2"]),
    ("StringNotEquals", "connect:InstanceId", ["i-1"]),
    ("StringLike", "aws:userid", ["*:agent1", "AROA*"]),
    ("StringEqualsIgnoreCase", "aws:PrincipalType", ["assumedrole"]),
    ("ArnLike", "aws:PrincipalArn", [f"arn:aws:iam::{ACCOUNT}:role/*"]),
    ("Bool", "aws:SecureTransport", ["true"]),
    ("IpAddress", "aws:SourceIp", ["127.0.0.0/8"]),
    ("DateGreaterThan", "aws:CurrentTime", ["2025-01-01T00:00:00Z"]),
    ("StringEqualsIfExists", "x:absent", ["v"]),
    ("Null", "x:absent", ["true"]),
    ("ForAnyValue:StringEquals", "x:tags", ["a"]),
]


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    statements = []
    for index in range(draw(st.integers(1, 3))):
        statement: dict[str, Any] = {
            "Sid": f"S{index}",
            "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
            "Action": draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2, unique=True)),
            "Resource": draw(
                st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2, unique=True)
            ),
        }
        chosen = [
            CONDITIONS[i]
            for i in draw(st.lists(st.integers(0, len(CONDITIONS) - 1), max_size=2, unique=True))
        ]
        if chosen:
            block: dict[str, dict[str, Any]] = {}
            for operator, key, values in chosen:
                block.setdefault(operator, {})[key] = values
            statement["Condition"] = block
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Services, Principal, Principal, str]]:
    with tempfile.TemporaryDirectory() as directory:
        clock = FixedClock(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
        services = build_services(
            Settings(
                database_url=f"sqlite://{Path(directory) / 'db'}",
                throttle_rate=0,
                cache_ttl_seconds=0,
            ),
            clock,
        )
        demo = ensure_demo(services)
        account = services.bootstrap.account_id
        root = Principal.root(account, services.bootstrap.root_access_key_id)
        key = services.store.get_access_key(demo.access_key_id)
        assert key is not None and key.user_name is not None
        user = services.store.get_user(key.account_id, key.user_name)
        assert user is not None
        caller = Principal(
            "user", account, user.arn, user.user_id, user.user_name, demo.access_key_id
        )
        # Naming the caller itself: no identity policy of its own is needed (same account).
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": user.arn}, "Action": "sts:AssumeRole"}
            ],
        }
        role_arn = services.iam.create_role(root, "Simulated", json.dumps(trust)).arn
        creds = services.sts.assume_role(caller, role_arn, "agent1").credentials
        session = services.resolver.principal_of_session(creds.access_key_id)
        yield services, root, session, role_arn
        services.close()


def _entries(context: dict[str, Any]) -> tuple[ContextEntry, ...]:
    return tuple(
        ContextEntry(
            k,
            (v,) if isinstance(v, str) else tuple(v),
            "string" if isinstance(v, str) else "stringList",
        )
        for k, v in context.items()
    )


@settings(max_examples=150, deadline=None)
@given(
    policy=policies(),
    action=st.sampled_from(
        ["connect:GetFederationToken", "connect:DescribeInstance", "iam:CreateUser"]
    ),
    resource=st.sampled_from(
        [f"{INSTANCE}/user/{{userid}}", f"{INSTANCE}", f"arn:aws:iam::{ACCOUNT}:user/bob"]
    ),
    keys=st.fixed_dictionaries(
        {},
        optional={
            "connect:InstanceId": st.sampled_from(["i-1", "i-2"]),
            "x:tags": st.lists(st.sampled_from(["a", "b"]), max_size=2),
        },
    ),
)
def test_simulate_principal_policy_decides_as_the_live_call(
    world: tuple[Services, Principal, Principal, str],
    policy: dict[str, Any],
    action: str,
    resource: str,
    keys: dict[str, Any],
) -> None:
    services, root, session, role_arn = world
    role_name = role_arn.rsplit("/", 1)[-1]
    try:
        services.iam.put_policy(root, OwnerKind.ROLE, role_name, "p", json.dumps(policy))
    except (MalformedPolicy, IdentityError):
        assume(False)  # a document IAM refuses on write is no live policy
    resource = resource.format(userid=session.user_id)
    live = services.authz.decide(session, action, resource, keys)
    context = dict(services.authz.facts(session, action, resource, keys).context)
    [result] = services.simulator.simulate_principal(
        root, role_arn, [], [], Simulation((action,), (resource,), _entries(context))
    )
    assert result.overall.decision == DECISION_WORDS[live]
    assert result.per_resource[0].decision == DECISION_WORDS[live]
    # The role's only policy, passed in instead: the same answer.
    custom = services.simulator.simulate_custom(
        root, [json.dumps(policy)], [], Simulation((action,), (resource,), _entries(context))
    )
    assert custom[0].overall.decision == DECISION_WORDS[live]
