"""The server's admin API (``serve --admin``) as tests use it: the clock and injected faults.

HTTP interface (issue 10, "Time travel and fault injection"):
``GET/POST /_connectfed/clock`` (``{"advance_seconds": n}`` or ``{"offset_seconds": n}``) →
``{"now": ISO 8601, "offset_seconds": n}``; ``POST /_connectfed/faults`` with ``{"service",
"operation", "error", "count"}`` (or ``latency_ms``, ``drop``, ``rate``) → 201 with the fault's
id; ``GET /_connectfed/faults`` → ``{"faults": [...]}``; ``DELETE /_connectfed/faults``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


class AdminError(RuntimeError):
    """The admin API refused a call (the message holds its status and answer)."""


def _call(url: str, method: str, body: dict[str, Any] | None = None) -> Any:
    data = None
    if body is not None:
        try:  # NaN and infinities are not JSON: refused here, as the admin client and CLI do
            data = json.dumps(body, allow_nan=False).encode()
        except ValueError:
            raise ValueError(f"the admin API takes finite numbers only: {body}") from None
    request = urllib.request.Request(  # noqa: S310 (the test server's http URL)
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http URL)
            text = response.read()
    except urllib.error.HTTPError as exc:
        raise AdminError(
            f"{method} {url}: {exc.code} {exc.read().decode(errors='replace')}"
        ) from None
    return json.loads(text) if text.strip() else None


@dataclass(frozen=True, slots=True)
class ClockState:
    now: datetime
    offset_seconds: float


def _clock_state(answer: dict[str, Any]) -> ClockState:
    now = datetime.fromisoformat(str(answer["now"]).replace("Z", "+00:00"))
    return ClockState(now, float(answer["offset_seconds"]))


class BotocoreClock:
    """Makes botocore sign with the real time moved by an offset, for the whole process.

    botocore does not correct clock skew (the Java, Go and JavaScript v3 SDKs do, from the
    answer's ``Date``), so once the server's clock is moved by more than SigV4's 5 minutes, a
    request signed with the real time is refused, as AWS refuses it. The test process is the
    code under test's process: its clock moves with the server's."""

    def __init__(self) -> None:
        self._original: Callable[..., datetime] | None = None

    def shift(self, offset_seconds: float) -> None:
        import botocore.auth

        if self._original is None:
            self._original = botocore.auth.get_current_datetime
        if offset_seconds == 0:
            botocore.auth.get_current_datetime = self._original
            self._original = None
            return
        original = self._original

        def shifted(remove_tzinfo: bool = True) -> datetime:
            return original(remove_tzinfo) + timedelta(seconds=offset_seconds)

        botocore.auth.get_current_datetime = shifted


class Clock:
    """The server's clock: every expiry it checks (STS sessions, federation tokens, SAML
    assertion windows, SigV4 skew) follows it. While it is moved, botocore in this process signs
    with the moved time too (``follow_in_botocore``; see :class:`BotocoreClock`)."""

    def __init__(self, base_url: str, follow_in_botocore: bool = True) -> None:
        self._url = f"{base_url}/_connectfed/clock"
        self.offset_seconds = 0.0  # as last set through this object
        self.touched = False
        self.follow_in_botocore = follow_in_botocore
        self._botocore = BotocoreClock()

    def state(self) -> ClockState:
        return _clock_state(_call(self._url, "GET"))

    def now(self) -> datetime:
        return self.state().now

    def advance(self, seconds: float) -> ClockState:
        """Move the server's time forward by ``seconds``."""
        return self._post({"advance_seconds": seconds})

    def set_offset(self, seconds: float) -> ClockState:
        """Run the server ``seconds`` ahead of real time (0: real time again)."""
        return self._post({"offset_seconds": seconds})

    def _post(self, body: dict[str, Any]) -> ClockState:
        state = _clock_state(_call(self._url, "POST", body))
        self.offset_seconds = state.offset_seconds
        self.touched = state.offset_seconds != 0
        if self.follow_in_botocore:
            self._botocore.shift(state.offset_seconds)
        return state


class Faults:
    """Faults the server injects into matching operations."""

    def __init__(self, base_url: str) -> None:
        self._url = f"{base_url}/_connectfed/faults"
        self.touched = False

    def add(
        self,
        service: str,
        operation: str,
        *,
        error: str | None = None,
        count: int | None = None,
        rate: float | None = None,
        latency_ms: int | None = None,
        drop: bool = False,
    ) -> str:
        """Inject a fault: ``error`` (e.g. ``ThrottlingException``), added ``latency_ms`` or a
        dropped connection (``drop``), for the next ``count`` calls or a ``rate`` (0..1) of
        them. Returns the fault's id."""
        body: dict[str, Any] = {"service": service, "operation": operation}
        for name, value in (
            ("error", error),
            ("count", count),
            ("rate", rate),
            ("latency_ms", latency_ms),
        ):
            if value is not None:
                body[name] = value
        if drop:
            body["drop"] = True
        answer = _call(self._url, "POST", body)
        self.touched = True
        return str(answer["id"]) if isinstance(answer, dict) and "id" in answer else ""

    def list(self) -> list[dict[str, Any]]:
        answer = _call(self._url, "GET")
        return list(answer["faults"])

    def clear(self) -> None:
        _call(self._url, "DELETE")
