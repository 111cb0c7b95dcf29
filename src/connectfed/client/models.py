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


@dataclass(frozen=True, slots=True)
class FederationToken:
    """GetFederationToken's result. ``repr`` never shows the tokens, nor the sign-in URL: its
    one-time code opens a browser session as the agent."""

    access_token: str = field(repr=False)
    access_token_expiration: datetime
    refresh_token: str = field(repr=False)
    refresh_token_expiration: datetime
    sign_in_url: str | None = field(repr=False)
    user_arn: str | None
    user_id: str | None
    request_id: str | None = None

    @classmethod
    def from_response(cls, body: dict[str, Any], request_id: str | None) -> FederationToken:
        creds = body.get("Credentials") or {}
        return cls(
            access_token=creds.get("AccessToken", ""),
            access_token_expiration=_timestamp(creds.get("AccessTokenExpiration", 0)),
            refresh_token=creds.get("RefreshToken", ""),
            refresh_token_expiration=_timestamp(creds.get("RefreshTokenExpiration", 0)),
            sign_in_url=body.get("SignInUrl"),
            user_arn=body.get("UserArn"),
            user_id=body.get("UserId"),
            request_id=request_id,
        )
