"""The blocking client for GetFederationToken, with botocore's retry modes (``retries``; the
asyncio client, in ``aio``, shares its request preparation and retry policy).

Requests are signed with :mod:`connectfed.auth.sigv4`, the same code the server verifies with.
Retries: as botocore's ``standard`` mode unless configured otherwise (``retry_mode``), at most
``max_attempts`` attempts in all, with full-jitter exponential backoff.

Clock skew is corrected as the AWS SDKs for Java, Go and JavaScript v3 do it: a request refused
because its signature's time is more than 5 minutes from the server's ("Signature expired",
"Signature not yet current") is signed again at once with the time of the answer's ``Date``
header, and later requests of the client keep that offset (a connectfed server whose clock was
moved by its admin API sends its shifted time there).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from connectfed import __version__, jsonsafe
from connectfed.auth import sigv4
from connectfed.auth.sigv4 import Credentials
from connectfed.client.config import ClientConfig, resolve_config
from connectfed.client.errors import (
    ClientClosedError,
    ConnectfedError,
    ServiceError,
    TransportError,
    parse_error,
)
from connectfed.client.models import FederationToken
from connectfed.client.retries import backoff, retryable
from connectfed.client.transport import HttpResponse, send

USER_AGENT = f"connectfed/{__version__}"


class ParamValidationError(ConnectfedError):
    pass


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    method: str
    url: str
    headers: dict[str, str]


def host_header(url: str) -> str:
    """The Host botocore signs and urllib3 sends for ``url``: the host in lower case (an IPv6
    address in brackets) and the port unless it is the scheme's default; never a user or
    password the URL may carry."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


# RFC 3986's query characters (and ``%``, so escapes already there stay as they are).
_QUERY_SAFE = "!$&'()*+,;=:@/?%~-._"


def prepare(
    config: ClientConfig,
    instance_id: str,
    now: datetime | None = None,
    *,
    credentials: Credentials | None = None,
) -> PreparedRequest:
    """The signed request; ``credentials`` are the ones to sign with when the caller fetched
    them already (the asyncio client asks renewable ones in a thread), else the config's."""
    if not isinstance(instance_id, str) or not instance_id:
        raise ParamValidationError(
            "Parameter validation failed:\nInvalid length for parameter InstanceId, value: 0, "
            "valid min length: 1"
        )
    parts = urlsplit(config.endpoint_url)
    base_path = parts.path.rstrip("/")
    path = f"{base_path}/user/federate/{quote(instance_id, safe='')}"
    # The endpoint's query is kept and signed, as botocore keeps it; what may not go on the wire
    # as it is (a space, non-ASCII) is percent-encoded in UTF-8, as urllib3 sends it.
    query = quote(parts.query, safe=_QUERY_SAFE)
    headers = {"Host": host_header(config.endpoint_url), "User-Agent": USER_AGENT}
    credentials = credentials or config.current_credentials()
    if credentials is not None:
        moment = now or datetime.now(UTC)
        headers = sigv4.sign_headers(
            method="GET",
            raw_path=path,
            raw_query=query,
            headers=headers,
            body=b"",
            credentials=credentials,
            region=config.region,
            service="connect",
            amz_date=moment.strftime("%Y%m%dT%H%M%SZ"),
        )
    url = f"{parts.scheme}://{parts.netloc}{path}" + (f"?{query}" if query else "")
    return PreparedRequest("GET", url, headers)


_SKEW_MESSAGES = ("Signature expired", "Signature not yet current")
_SKEW_CODES = ("InvalidSignatureException", "SignatureDoesNotMatch", "RequestTimeTooSkewed")


def clock_skew(
    error: Exception, response: HttpResponse | None, sent_at: datetime
) -> timedelta | None:
    """How far the server's clock is from ours, when ``error`` refused the request for its
    time and the answer carries a ``Date``; None otherwise."""
    if not isinstance(error, ServiceError) or response is None or error.code not in _SKEW_CODES:
        return None
    if error.code != "RequestTimeTooSkewed" and not error.message.startswith(_SKEW_MESSAGES):
        return None
    from email.utils import parsedate_to_datetime  # on this error only: the CLI starts fast

    try:
        server_time = parsedate_to_datetime(response.headers.get("date", ""))
    except (TypeError, ValueError):
        return None
    if server_time.tzinfo is None:
        server_time = server_time.replace(tzinfo=UTC)
    return server_time - sent_at


def _result(response: HttpResponse) -> dict[str, Any]:
    if response.status >= 300:
        raise parse_error(response.status, response.headers, response.body)
    try:
        body = jsonsafe.loads(response.body or b"{}")
    except ValueError:
        raise ServiceError(
            "The response body is not valid JSON",
            status=response.status,
            request_id=response.headers.get("x-amzn-requestid"),
            code="InvalidResponse",
        ) from None
    if not isinstance(body, dict):
        raise ServiceError(
            "The response body is not a JSON object",
            status=response.status,
            request_id=response.headers.get("x-amzn-requestid"),
            code="InvalidResponse",
        )
    return body


def token(body: dict[str, Any], request_id: str | None, status: int) -> FederationToken:
    """The typed result; a value that is not what the model says (a timestamp that is no
    time) is the service's error, as a body that is not JSON."""
    try:
        return FederationToken.from_response(body, request_id)
    except (TypeError, ValueError, OverflowError, OSError, AttributeError) as exc:
        raise ServiceError(
            f"The response does not match GetFederationToken's output: {exc}",
            status=status,
            request_id=request_id,
            code="InvalidResponse",
        ) from None


@dataclass(frozen=True, slots=True)
class RawResult:
    body: dict[str, Any]  # the JSON as received (timestamps as sent: epoch numbers)
    request_id: str | None
    status: int
    attempts: int


class ConnectClient:
    """Blocking client. ``ConnectClient()`` resolves configuration as the AWS CLI does.

    ``with ConnectClient() as client:`` closes it at the end of the block, as ``close()`` does
    (as boto3's clients): a closed client refuses every call with :class:`ClientClosedError`,
    and a call under way makes no other attempt. Each request has its own connection, closed
    when it ends, so closing releases nothing else."""

    def __init__(self, config: ClientConfig | None = None, **options: Any) -> None:
        self.config = config or resolve_config(**options)
        self.on_exchange: Callable[[PreparedRequest, HttpResponse], None] | None = None
        self.clock_skew = timedelta(0)  # the server's clock minus ours, once corrected
        self.closed = False

    def close(self) -> None:
        """Close the client; closing it again does nothing."""
        self.closed = True

    def __enter__(self) -> ConnectClient:
        if self.closed:
            raise ClientClosedError
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_federation_token_raw(self, instance_id: str) -> RawResult:
        attempt = 0
        corrected = False
        while True:
            if self.closed:
                raise ClientClosedError
            attempt += 1
            sent_at = datetime.now(UTC)
            request = prepare(self.config, instance_id, sent_at + self.clock_skew)
            response: HttpResponse | None = None
            try:
                response = send(
                    request.method,
                    request.url,
                    request.headers,
                    verify=self.config.verify,
                    connect_timeout=self.config.connect_timeout,
                    read_timeout=self.config.read_timeout,
                    proxy=self.config.proxy_url,
                )
                if self.on_exchange is not None:
                    self.on_exchange(request, response)
                body = _result(response)
                return RawResult(
                    body, response.headers.get("x-amzn-requestid"), response.status, attempt
                )
            except (ServiceError, TransportError) as error:
                skew = None if corrected else clock_skew(error, response, sent_at)
                if skew is not None and attempt < self.config.max_attempts:
                    self.clock_skew, corrected = skew, True
                    continue
                again = retryable(error, self.config.retry_mode)
                if attempt >= self.config.max_attempts or not again:
                    error.attempts = attempt
                    error.max_attempts_reached = again
                    error.retryable = again
                    raise
                time.sleep(backoff(self.config, attempt))
                if self.closed:  # while it waited
                    raise ClientClosedError from error

    def get_federation_token(self, instance_id: str) -> FederationToken:
        raw = self.get_federation_token_raw(instance_id)
        return token(raw.body, raw.request_id, raw.status)
