"""Agent sessions in-process with a fixed clock: refresh outlives the access token's expiry, but
no token outlives the refresh horizon nor the IAM session; reuse of a rotated refresh token ends
the family; a browser session keeps getting fresh access; deleting the user or role ends it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectfed.app import Services, build_services
from connectfed.clock import FixedClock
from connectfed.connect.federation import ConnectUserNotFound, FederationToken
from connectfed.demo import DemoData, demo_caller, ensure_demo
from connectfed.identity.iam import OwnerKind
from connectfed.identity.principal import Principal
from connectfed.settings import Settings
from connectfed.tokens import RejectReason, TokenRejected

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class Setup:
    services: Services
    clock: FixedClock
    demo: DemoData

    def federate(self, duration: int = 3600, agent: str = "agent1") -> FederationToken:
        demo = self.demo
        caller = demo_caller(self.services, demo)
        creds = self.services.sts.assume_role(
            caller, demo.role_arn, agent, duration_seconds=duration
        ).credentials
        session = self.services.resolver.principal_of_session(creds.access_key_id)
        return self.services.federation.federate(session, demo.instance_id)


def _setup(tmp_path: Path, **settings: Any) -> Setup:
    clock = FixedClock(START)
    defaults: dict[str, Any] = {"throttle_rate": 0, "cache_ttl_seconds": 0}
    services = build_services(
        Settings(database_url=f"sqlite://{tmp_path / 'db'}", **{**defaults, **settings}), clock
    )
    return Setup(services, clock, ensure_demo(services))


def _reason(call: object, *args: object) -> RejectReason:
    with pytest.raises(TokenRejected) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.reason


def test_refresh_outlives_the_access_token_but_not_the_refresh_horizon(tmp_path: Path) -> None:
    setup = _setup(tmp_path, access_token_seconds=60, refresh_token_seconds=300)
    sessions = setup.services.agent_sessions
    creds = setup.federate()
    assert creds.refresh.expires == START + timedelta(seconds=300)
    sessions.authenticate(creds.access.token, setup.demo.instance_id)
    setup.clock.advance(61)
    assert _reason(sessions.authenticate, creds.access.token) is RejectReason.EXPIRED
    refresh = creds.refresh.token
    for _ in range(3):  # the agent keeps working across several access lifetimes
        issued = sessions.refresh(refresh)
        assert issued.access_expires == setup.clock.now() + timedelta(seconds=60)
        assert issued.refresh_expires == START + timedelta(seconds=300)
        grant = sessions.authenticate(issued.access_token, setup.demo.instance_id)
        assert grant.family_id == issued.family_id
        refresh = issued.refresh_token
        setup.clock.advance(61)
    setup.clock.advance(300 - 61 * 4 + 1)  # past the horizon
    assert _reason(sessions.refresh, refresh) is RejectReason.EXPIRED


def test_no_token_outlives_the_iam_session(tmp_path: Path) -> None:
    setup = _setup(tmp_path, access_token_seconds=3600)
    sessions = setup.services.agent_sessions
    result = setup.federate(duration=900)
    creds = result
    end = START + timedelta(seconds=900)
    assert creds.access.expires == end and creds.refresh.expires == end
    browser = sessions.sign_in_with_code(
        setup.demo.instance_id, result.sign_in_url.split("code=")[1]
    )
    assert browser.expires == end
    setup.clock.advance(600)
    access = sessions.authorize_browser(browser.token, setup.demo.instance_id)
    assert access.access_expires == end and access.refresh_expires == end
    setup.clock.advance(301)
    assert _reason(sessions.refresh, creds.refresh.token) is RejectReason.EXPIRED
    assert _reason(sessions.authorize_browser, browser.token, None) is RejectReason.EXPIRED


def test_a_rotated_refresh_token_presented_again_ends_old_and_new_tokens(tmp_path: Path) -> None:
    setup = _setup(tmp_path)
    sessions = setup.services.agent_sessions
    creds = setup.federate()
    fresh = sessions.refresh(creds.refresh.token)
    assert _reason(sessions.refresh, creds.refresh.token) is RejectReason.REUSED
    for token in (fresh.access_token, creds.access.token):
        assert _reason(sessions.authenticate, token) is RejectReason.EXPIRED
    assert _reason(sessions.refresh, fresh.refresh_token) is RejectReason.EXPIRED


def test_a_browser_session_gets_fresh_access_after_the_access_token_expired(tmp_path: Path) -> None:
    setup = _setup(tmp_path, access_token_seconds=60)
    sessions = setup.services.agent_sessions
    result = setup.federate()
    browser = sessions.sign_in_with_code(
        setup.demo.instance_id, result.sign_in_url.split("code=")[1]
    )
    setup.clock.advance(120)
    access = sessions.authorize_browser(browser.token, None)
    assert access.instance_id == setup.demo.instance_id
    assert access.access_expires == setup.clock.now() + timedelta(seconds=60)
    sessions.authenticate(access.access_token, setup.demo.instance_id)
    assert sessions.refresh(access.refresh_token).family_id == browser.family_id
    assert sessions.sign_out(browser.token)
    assert _reason(sessions.authenticate, access.access_token) is RejectReason.EXPIRED
    assert not sessions.sign_out(browser.token)


def test_deleting_the_user_or_the_role_ends_every_session_of_it(tmp_path: Path) -> None:
    setup = _setup(tmp_path)
    sessions, store = setup.services.agent_sessions, setup.services.store
    first = setup.federate(agent="agent1")
    second = setup.federate(agent="agent2")
    grant = sessions.authenticate(first.access.token)
    store.delete_connect_user(grant.instance_id, grant.user_id)
    assert _reason(sessions.authenticate, first.access.token) is RejectReason.EXPIRED
    assert _reason(sessions.refresh, first.refresh.token) is RejectReason.EXPIRED
    sessions.authenticate(second.access.token)  # another user's session lives on
    role_name = setup.demo.role_arn.rsplit("/", 1)[1]
    role = store.get_role(setup.services.bootstrap.account_id, role_name)
    assert role is not None
    for policy in store.list_policies("role", role.role_id):
        store.delete_policy("role", role.role_id, policy.policy_name)
    store.delete_role(role.account_id, role_name)
    assert _reason(sessions.authenticate, second.access.token) is RejectReason.EXPIRED


def _root(setup: Setup) -> Principal:
    boot = setup.services.bootstrap
    return Principal.root(boot.account_id, boot.root_access_key_id)


def test_a_user_deleted_through_this_server_is_not_federated_again(tmp_path: Path) -> None:
    setup = _setup(tmp_path, cache_ttl_seconds=2)
    token = setup.federate()  # the user is now remembered by name
    setup.services.instances.delete_user(_root(setup), setup.demo.instance_id, token.user_id)
    with pytest.raises(ConnectUserNotFound):
        setup.federate()


def test_a_user_deleted_elsewhere_gets_only_dead_tokens_until_the_cache_forgets_it(
    tmp_path: Path,
) -> None:
    setup = _setup(tmp_path, cache_ttl_seconds=2)
    sessions = setup.services.agent_sessions
    setup.federate()  # binds the role, then the user and its binding are remembered
    first = setup.federate()
    grant = sessions.authenticate(first.access.token)
    # As another server process sharing the database would: this one still remembers the user
    # (for at most the cache TTL), but no token it issues meanwhile is ever accepted.
    setup.services.store.delete_connect_user(grant.instance_id, grant.user_id)
    late = setup.federate()
    assert _reason(sessions.authenticate, late.access.token) is RejectReason.EXPIRED
    code = late.sign_in_url.rsplit("code=", 1)[1]
    assert _reason(sessions.sign_in_with_code, grant.instance_id, code) is RejectReason.EXPIRED
    setup.clock.advance(2.5)
    with pytest.raises(ConnectUserNotFound):
        setup.federate()


def test_a_role_is_bound_only_to_a_user_that_exists_at_that_moment(tmp_path: Path) -> None:
    setup = _setup(tmp_path, cache_ttl_seconds=2, allow_multiple_roles_per_user=True)
    services, root = setup.services, _root(setup)
    token = setup.federate()  # through the demo role: the user is remembered by name
    # agent1 as an IAM user of that name, allowed to federate: another principal to bind.
    services.iam.create_user(root, "agent1")
    allow = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Action":"connect:GetFederationToken","Resource":"*"}]}'
    )
    services.iam.put_policy(root, OwnerKind.USER, "agent1", "federate", allow)
    key = services.iam.create_access_key(root, "agent1")
    user = services.store.get_user(root.account_id, "agent1")
    assert user is not None
    caller = Principal("user", user.account_id, user.arn, user.user_id, "agent1", key.access_key_id)
    services.store.delete_connect_user(setup.demo.instance_id, token.user_id)  # elsewhere
    with pytest.raises(ConnectUserNotFound):
        services.federation.federate(caller, setup.demo.instance_id)
    assert services.store.list_role_bindings(setup.demo.instance_id, token.user_id) == []
