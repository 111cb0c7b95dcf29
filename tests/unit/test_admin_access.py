"""Who may use the admin API: off unless asked for, a token required off loopback, and the
token compared exactly (admin/access.py)."""

from __future__ import annotations

import pytest

from connectfed.admin.access import (
    AdminAccess,
    AdminRefused,
    check_authorization,
    decide,
    is_loopback,
)

ANY = "0.0.0.0"  # noqa: S104  (a bind address under test, not a bind)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        (ANY, False),
        ("::", False),
        ("", False),
        ("192.168.1.5", False),
        ("example.test", False),
        ("10.0.0.1", False),
    ],
)
def test_only_loopback_binds_count_as_local(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_api_is_off_unless_asked_for() -> None:
    assert decide(requested=False, implied=False, host="127.0.0.1", token="t").enabled is False


@pytest.mark.parametrize(
    "how", [{"requested": True, "implied": False}, {"requested": False, "implied": True}]
)
def test_a_loopback_bind_opens_it_without_a_token(how: dict[str, bool]) -> None:
    assert decide(host="127.0.0.1", token=None, **how) == AdminAccess(True, None)


def test_a_token_opens_it_on_any_bind() -> None:
    access = decide(requested=True, implied=False, host=ANY, token="s3cret")
    assert access.enabled and access.token == "s3cret"
    assert "s3cret" not in repr(access)


def test_explicit_admin_on_a_public_bind_without_token_refuses_to_start() -> None:
    with pytest.raises(AdminRefused, match="--admin-token"):
        decide(requested=True, implied=False, host=ANY, token=None)


def test_demo_on_a_public_bind_without_token_leaves_it_off() -> None:
    access = decide(requested=False, implied=True, host=ANY, token=None)
    assert access.enabled is False
    assert "--admin-token" in access.reason


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 401),
        ("", 401),
        ("Basic czNjcmV0", 401),
        ("Bearer", 401),
        ("Bearer ", 401),
        ("Bearer wrong", 403),
        ("Bearer s3cret2", 403),
        ("Bearer s3cre", 403),
        ("Bearer s3cret", None),
        ("bearer s3cret", None),
        ("Bearer  s3cret ", None),
    ],
)
def test_requests_need_the_exact_bearer_token(header: str | None, status: int | None) -> None:
    assert check_authorization(AdminAccess(True, "s3cret"), header) == status


def test_without_a_token_any_request_may_use_it() -> None:
    assert check_authorization(AdminAccess(True, None), None) is None
