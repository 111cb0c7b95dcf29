"""The blocking client for GetFederationToken, with the SDKs' standard retry mode (the asyncio
client, in ``aio``, shares its request preparation and retry policy).

Requests are signed with :mod:`connectfed.auth.sigv4`, the same code the server verifies with.
Retries (standard mode): throttling errors, 5xx and transport failures, at most
``max_attempts`` attempts in all, with full-jitter exponential backoff capped at 20 s.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from connectfed import __version__, jsonsafe
from connectfed.auth import sigv4
from connectfed.client.config import ClientConfig, resolve_config
from connectfed.client.errors import ConnectfedError, ServiceError, TransportError, parse_error
from connectfed.client.models import FederationToken
from connectfed.client.transport import HttpResponse, send

USER_AGENT = f"connectfed/{__version__}"


class ParamValidationError(ConnectfedError):
    pass


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    method: str
    url: str
    headers: dict[str, str]


def prepare(config: ClientConfig, instance_id: str, now: datetime | None = None) -> PreparedRequest:
    if not isinstance(instance_id, str) or not instance_id:
        raise ParamValidationError(
            "Parameter validation failed:\nInvalid length for parameter InstanceId, value: 0, "
            "valid min length: 1")
    parts = urlsplit(config.endpoint_url)
    base_path = parts.path.rstrip("/")
    path = f"{base_path}/user/federate/{quote(instance_id, safe='')}"
    headers = {"Host": parts.netloc, "User-Agent": USER_AGENT}
    if config.credentials is not None:
        moment = now or datetime.now(UTC)
        headers = sigv4.sign_headers(
            method="GET", raw_path=path, raw_query="", headers=headers, body=b"",
            credentials=config.credentials, region=config.region, service="connect",
            amz_date=moment.strftime("%Y%m%dT%H%M%SZ"))
    return PreparedRequest("GET", f"{parts.scheme}://{parts.netloc}{path}", headers)


def _retryable(error: Exception) -> bool:
    if isinstance(error, TransportError):
        return True
    return isinstance(error, ServiceError) and (error.retryable or error.status >= 500
                                                or error.status == 429)


def backoff(config: ClientConfig, attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Full-jitter exponential backoff before retry number ``attempt`` (1-based)."""
    cap = min(config.max_backoff_seconds, config.retry_base_seconds * 2 ** (attempt - 1))
    return float(rng() * cap)


def _result(response: HttpResponse) -> dict[str, Any]:
    if response.status >= 300:
        raise parse_error(response.status, response.headers, response.body)
    try:
        body = jsonsafe.loads(response.body or b"{}")
    except ValueError:
        raise ServiceError("The response body is not valid JSON", status=response.status,
                           request_id=response.headers.get("x-amzn-requestid"),
                           code="InvalidResponse") from None
    if not isinstance(body, dict):
        raise ServiceError("The response body is not a JSON object", status=response.status,
                           request_id=response.headers.get("x-amzn-requestid"),
                           code="InvalidResponse")
    return body


@dataclass(frozen=True, slots=True)
class RawResult:
    body: dict[str, Any]  # the JSON as received (timestamps as sent: epoch numbers)
    request_id: str | None
    status: int
    attempts: int


class ConnectClient:
    """Blocking client. ``ConnectClient()`` resolves configuration as the AWS CLI does."""

    def __init__(self, config: ClientConfig | None = None, **options: Any) -> None:
        self.config = config or resolve_config(**options)
        self.on_exchange: Callable[[PreparedRequest, HttpResponse], None] | None = None

    def get_federation_token_raw(self, instance_id: str) -> RawResult:
        attempt = 0
        while True:
            attempt += 1
            request = prepare(self.config, instance_id)
            try:
                response = send(request.method, request.url, request.headers,
                                verify=self.config.verify,
                                connect_timeout=self.config.connect_timeout,
                                read_timeout=self.config.read_timeout)
                if self.on_exchange is not None:
                    self.on_exchange(request, response)
                body = _result(response)
                return RawResult(body, response.headers.get("x-amzn-requestid"),
                                 response.status, attempt)
            except (ServiceError, TransportError) as error:
                if attempt >= self.config.max_attempts or not _retryable(error):
                    error.attempts = attempt  # type: ignore[union-attr]
                    raise
                time.sleep(backoff(self.config, attempt))

    def get_federation_token(self, instance_id: str) -> FederationToken:
        raw = self.get_federation_token_raw(instance_id)
        return FederationToken.from_response(raw.body, raw.request_id)
