"""Typed results of GetFederationToken."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _timestamp(value: Any) -> datetime:
    """As botocore reads a timestamp: a number, or text of one, is epoch seconds; other text
    is ISO 8601. ValueError, TypeError or OverflowError for anything else."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError):
        pass
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _optional_timestamp(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool):  # JSON true is no time, though Python counts it as 1
        raise TypeError(f"{name} is not a timestamp: {value!r}")
    return _timestamp(value)


def _optional_string(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{name} is not a string: {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class FederationToken:
    """GetFederationToken's result. ``repr`` never shows the tokens, nor the sign-in URL: its
    one-time code opens a browser session as the agent.

    Every member is optional in the service's model (botocore's ``connect`` 2017-08-08: no
    member of the output or of its ``Credentials`` is required; the typed OCaml bindings among
    the seeds make each an option): one the answer leaves out, or sends as null (which botocore
    drops), is None here, never a made-up value. A member of the wrong type (``Credentials``
    not an object, a token not a string, an expiration that is no time) makes the answer
    untrustworthy: :meth:`from_response` raises TypeError or ValueError, which the clients
    raise as their ``InvalidResponse`` :class:`~connectfed.client.ServiceError`."""

    access_token: str | None = field(repr=False)
    access_token_expiration: datetime | None
    refresh_token: str | None = field(repr=False)
    refresh_token_expiration: datetime | None
    sign_in_url: str | None = field(repr=False)
    user_arn: str | None
    user_id: str | None
    request_id: str | None = None

    @classmethod
    def from_response(cls, body: dict[str, Any], request_id: str | None) -> FederationToken:
        creds = body.get("Credentials")
        if creds is None:
            creds = {}
        elif not isinstance(creds, dict):
            raise TypeError(f"Credentials is not an object: {type(creds).__name__}")
        return cls(
            access_token=_optional_string(creds.get("AccessToken"), "AccessToken"),
            access_token_expiration=_optional_timestamp(
                creds.get("AccessTokenExpiration"), "AccessTokenExpiration"
            ),
            refresh_token=_optional_string(creds.get("RefreshToken"), "RefreshToken"),
            refresh_token_expiration=_optional_timestamp(
                creds.get("RefreshTokenExpiration"), "RefreshTokenExpiration"
            ),
            sign_in_url=_optional_string(body.get("SignInUrl"), "SignInUrl"),
            user_arn=_optional_string(body.get("UserArn"), "UserArn"),
            user_id=_optional_string(body.get("UserId"), "UserId"),
            request_id=request_id,
        )
