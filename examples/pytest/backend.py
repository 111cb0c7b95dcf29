"""The code under test: a customer's sign-in backend for Amazon Connect agents.

It runs as an IAM user, assumes the federation role with the agent's username as the role
session name (Connect finds the user whose username equals it), and calls GetFederationToken.
It keeps one role session per agent; when AWS says the session has expired, it assumes the role
again and retries once. Throttling is retried by botocore (standard mode); when Connect still
throttles, the backend answers "busy" instead of failing with a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

THROTTLED = ("ThrottlingException", "TooManyRequestsException")


class Busy(Exception):
    """Amazon Connect keeps throttling: ask the agent to try again shortly."""


@dataclass(frozen=True)
class AgentToken:
    access_token: str
    expires: datetime
    sign_in_url: str


class SignInBackend:
    def __init__(
        self,
        session: boto3.Session,
        *,
        instance_id: str,
        role_arn: str,
        endpoint_url: str | None = None,
        max_attempts: int = 3,
    ) -> None:
        self._session = session
        self._instance_id = instance_id
        self._role_arn = role_arn
        self._endpoint = endpoint_url
        self._config = Config(retries={"mode": "standard", "total_max_attempts": max_attempts})
        self._sts = session.client("sts", endpoint_url=endpoint_url, config=self._config)
        self._agents: dict[str, Any] = {}  # agent -> Connect client on that agent's role session

    def _connect(self, agent: str) -> Any:
        if agent not in self._agents:
            creds = self._sts.assume_role(RoleArn=self._role_arn, RoleSessionName=agent)[
                "Credentials"
            ]
            self._agents[agent] = self._session.client(
                "connect",
                endpoint_url=self._endpoint,
                config=self._config,
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            )
        return self._agents[agent]

    def sign_in(self, agent: str) -> AgentToken:
        for attempt in (1, 2):
            try:
                answer = self._connect(agent).get_federation_token(InstanceId=self._instance_id)
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                if code == "ExpiredTokenException" and attempt == 1:
                    del self._agents[agent]  # the role session expired: assume the role again
                    continue
                if code in THROTTLED:
                    raise Busy(f"Amazon Connect is busy, try again ({code})") from exc
                raise
            credentials = answer["Credentials"]
            return AgentToken(
                credentials["AccessToken"],
                credentials["AccessTokenExpiration"],
                answer["SignInUrl"],
            )
        raise AssertionError("unreachable")
