"""botocore's retry modes for GetFederationToken: which failures are retried and how long to
wait before the next attempt.

``legacy`` (the AWS CLI v1's default, 5 attempts): connection failures, HTTP 429, 500, 502, 503,
504 and 509, and the throttling codes ``Throttling``, ``ThrottlingException``,
``ThrottledException``, ``RequestThrottledException`` and
``ProvisionedThroughputExceededException`` with HTTP 400 (botocore's ``_retry.json``); the wait
before retry *n* is ``rand() * 2**(n-1)`` seconds, uncapped.

``standard`` (boto3's default, 3 attempts) and ``adaptive``: connection failures, HTTP 500, 502,
503 and 504, the transient codes and every throttling code botocore knows, whatever the status
(``botocore.retries.standard``); the wait is ``min(rand() * 2**(n-1), 20)``. ``adaptive`` adds
botocore's client-side rate limiter on top, which is not implemented here: it retries as
``standard``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from connectfed.client.errors import ServiceError, TransportError

if TYPE_CHECKING:
    from connectfed.client.config import ClientConfig

MODES = ("legacy", "standard", "adaptive")
DEFAULT_MAX_ATTEMPTS = {"legacy": 5, "standard": 3, "adaptive": 3}

_LEGACY_STATUSES = frozenset({429, 500, 502, 503, 504, 509})
_LEGACY_THROTTLING_AT_400 = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
    }
)
_STANDARD_STATUSES = frozenset({500, 502, 503, 504})
_STANDARD_CODES = frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
    }
)


def retryable(error: Exception, mode: str) -> bool:
    """Whether botocore in ``mode`` would try again after ``error``."""
    if isinstance(error, TransportError):
        return True
    if not isinstance(error, ServiceError):
        return False
    if mode == "legacy":
        return error.status in _LEGACY_STATUSES or (
            error.status == 400 and error.code in _LEGACY_THROTTLING_AT_400
        )
    return error.status in _STANDARD_STATUSES or error.code in _STANDARD_CODES


def backoff(config: ClientConfig, attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): full jitter, exponential."""
    delay = float(rng() * config.retry_base_seconds * 2 ** (attempt - 1))
    if config.retry_mode == "legacy":
        return delay
    return min(delay, config.max_backoff_seconds)
