"""Typed calls of a connectfed server's admin API (time travel and fault injection), blocking
(:class:`AdminClient`) and asyncio (:class:`AsyncAdminClient`), over the client's own
transports. The HTTP contract is in docs/admin.md; these calls are not retried (adding a fault
twice would inject it twice).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from connectfed import jsonsafe
from connectfed.client.errors import ConnectfedError
from connectfed.client.transport import HttpResponse, send

CLOCK = "/_connectfed/clock"
FAULTS = "/_connectfed/faults"


class AdminError(ConnectfedError):
    """The admin API refused a call: 400 (bad input), 401/403 (token), 404 (API off, or no
    such fault)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.status})"


@dataclass(frozen=True, slots=True)
class ClockState:
    now: datetime  # the server's shifted time, timezone-aware UTC
    offset_seconds: float


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """A fault to inject: ``service`` (connect, sts, iam, cti) and ``operation`` (None: all of
    the service's), exactly one of ``error`` (ThrottlingException, InternalServiceException,
    or the awsQuery spellings Throttling, InternalFailure), ``latency_ms``, ``drop``; and
    ``count`` (the next N calls) or ``rate`` (that share of calls), or neither (every call)."""

    service: str
    operation: str | None = None
    error: str | None = None
    latency_ms: int | None = None
    drop: bool = False
    count: int | None = None
    rate: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v is not False}


@dataclass(frozen=True, slots=True)
class Fault:
    id: str
    service: str
    operation: str | None
    error: str | None
    latency_ms: int | None
    drop: bool
    count: int | None  # calls left, for a counted fault
    rate: float | None

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Fault:
        return cls(
            str(document["id"]),
            str(document["service"]),
            document.get("operation"),
            document.get("error"),
            document.get("latency_ms"),
            bool(document.get("drop")),
            document.get("count"),
            document.get("rate"),
        )


def _clock(document: dict[str, Any]) -> ClockState:
    now = datetime.fromisoformat(str(document["now"]).replace("Z", "+00:00"))
    return ClockState(
        now if now.tzinfo else now.replace(tzinfo=UTC), float(document["offset_seconds"])
    )


def _document(response: HttpResponse) -> Any:
    try:
        document = jsonsafe.loads(response.body) if response.body.strip() else None
    except (ValueError, UnicodeDecodeError):
        document = None
    if response.status >= 300:
        message = document.get("message") if isinstance(document, dict) else None
        raise AdminError(
            str(message or response.body[:200].decode("utf-8", "replace")), response.status
        )
    return document


@dataclass(frozen=True, slots=True)
class _Call:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


class _Requests:
    def __init__(self, endpoint_url: str, token: str | None) -> None:
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {endpoint_url!r}")
        self._base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self._headers = {"Host": parts.netloc, "Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, document: Any = None) -> _Call:
        headers = dict(self._headers)
        body = b""
        if document is not None:
            try:  # NaN and infinities are not JSON: the server could only say "not valid JSON"
                body = json.dumps(document, allow_nan=False).encode()
            except ValueError:
                raise ValueError(f"the admin API takes finite numbers only: {document}") from None
            headers["Content-Type"] = "application/json"
        return _Call(method, self._base + path, headers, body)


class AdminClient:
    """Blocking calls of the admin API at ``endpoint_url`` (the server's URL)."""

    def __init__(
        self,
        endpoint_url: str,
        token: str | None = None,
        *,
        verify: bool | str = True,
        timeout: float = 30.0,
    ) -> None:
        self._requests = _Requests(endpoint_url, token)
        self._verify = verify
        self._timeout = timeout

    def _do(self, method: str, path: str, document: Any = None) -> Any:
        call = self._requests.call(method, path, document)
        return _document(
            send(
                call.method,
                call.url,
                call.headers,
                verify=self._verify,
                connect_timeout=self._timeout,
                read_timeout=self._timeout,
                body=call.body,
            )
        )

    def clock(self) -> ClockState:
        return _clock(self._do("GET", CLOCK))

    def advance(self, seconds: float) -> ClockState:
        return _clock(self._do("POST", CLOCK, {"advance_seconds": seconds}))

    def set_offset(self, seconds: float) -> ClockState:
        return _clock(self._do("POST", CLOCK, {"offset_seconds": seconds}))

    def add_fault(self, spec: FaultSpec) -> Fault:
        return Fault.from_json(self._do("POST", FAULTS, spec.to_json()))

    def faults(self) -> list[Fault]:
        return [Fault.from_json(f) for f in self._do("GET", FAULTS)["faults"]]

    def remove_fault(self, fault_id: str) -> None:
        self._do("DELETE", f"{FAULTS}/{quote(fault_id, safe='')}")

    def clear_faults(self) -> None:
        self._do("DELETE", FAULTS)


class AsyncAdminClient:
    """The asyncio twin of :class:`AdminClient`."""

    def __init__(
        self,
        endpoint_url: str,
        token: str | None = None,
        *,
        verify: bool | str = True,
        timeout: float = 30.0,
    ) -> None:
        self._requests = _Requests(endpoint_url, token)
        self._verify = verify
        self._timeout = timeout

    async def _do(self, method: str, path: str, document: Any = None) -> Any:
        from connectfed.client.transport_async import send_async

        call = self._requests.call(method, path, document)
        return _document(
            await send_async(
                call.method,
                call.url,
                call.headers,
                verify=self._verify,
                connect_timeout=self._timeout,
                read_timeout=self._timeout,
                body=call.body,
            )
        )

    async def clock(self) -> ClockState:
        return _clock(await self._do("GET", CLOCK))

    async def advance(self, seconds: float) -> ClockState:
        return _clock(await self._do("POST", CLOCK, {"advance_seconds": seconds}))

    async def set_offset(self, seconds: float) -> ClockState:
        return _clock(await self._do("POST", CLOCK, {"offset_seconds": seconds}))

    async def add_fault(self, spec: FaultSpec) -> Fault:
        return Fault.from_json(await self._do("POST", FAULTS, spec.to_json()))

    async def faults(self) -> list[Fault]:
        return [Fault.from_json(f) for f in (await self._do("GET", FAULTS))["faults"]]

    async def remove_fault(self, fault_id: str) -> None:
        await self._do("DELETE", f"{FAULTS}/{quote(fault_id, safe='')}")

    async def clear_faults(self) -> None:
        await self._do("DELETE", FAULTS)


@contextlib.contextmanager
def botocore_clock(offset_seconds: float) -> Iterator[None]:
    """Inside this block, boto3 and botocore sign requests with the real time moved by
    ``offset_seconds`` (botocore does not correct clock skew, so once a server's clock is moved
    more than 5 minutes, requests signed with the real time are refused, as AWS refuses them).
    It replaces botocore's clock for the whole process: not for concurrent threads that must
    keep the real time."""
    import botocore.auth

    original = botocore.auth.get_current_datetime

    def shifted(remove_tzinfo: bool = True) -> datetime:
        moment: datetime = original(remove_tzinfo)
        return moment + timedelta(seconds=offset_seconds)

    botocore.auth.get_current_datetime = shifted
    try:
        yield
    finally:
        botocore.auth.get_current_datetime = original
