"""Logging for ``connectfed serve``, configured in one place, with no secret in any line.

SECURITY.md: "no secret in any log line". Two things could break it: third-party debug loggers
(signxml logs canonicalised assertions at DEBUG) and lines that quote requests (uvicorn's access
log prints the query string, which holds the sign-in ``code=`` of a sign-in URL and
``X-Amz-Signature``/``X-Amz-Security-Token`` of a presigned URL). So:

* ``--log-level`` applies to ``connectfed`` and ``uvicorn`` only. Every other logger stays at
  WARNING or above, and signxml, xmlsec and lxml are pinned to WARNING explicitly; an operator
  who wants them (and the assertion text they print) asks with ``--log-level-of signxml=debug``.
* Every handler formats through :func:`redact`, applied to the finished line (message,
  arguments, traceback, stack), uvicorn's access lines included: typed tokens (``cfa_``,
  ``cfr_``, ``cfs_``, ``cfc_``), session tokens, secret access keys, signatures, SAML messages,
  and the values of parameters, fields and headers that carry them become ``<redacted>``.

``--log-format json`` writes every line as one JSON object (:class:`JsonFormatter`): ``time``,
``level``, ``logger``, ``message``, the structured ``fields`` a line carries (the per-request
line of :mod:`connectfed.server.request_log`) and ``exception``; every string in it passes
through :func:`redact` before encoding, so the line stays valid JSON. In that format the
per-request line is on (logger ``connectfed.request`` at INFO, whatever ``--log-level``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from uvicorn.config import LOG_LEVELS
from uvicorn.logging import AccessFormatter

REDACTED = "<redacted>"
QUIET_LOGGERS = ("signxml", "xmlsec", "lxml")
LEVELS = tuple(LOG_LEVELS)  # critical … trace
# Names of parameters, fields and headers whose values are secrets.
_CARRIERS = (
    "X-Amz-Security-Token|X-Amz-Signature|SAMLResponse|SAMLAssertion|"
    "SecretAccessKey|aws_secret_access_key|SessionToken|aws_session_token|"
    "AccessToken|RefreshToken|Password"
)
_B64 = "A-Za-z0-9+/"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A whole SAML assertion, should one reach a message.
    (
        re.compile(r"<(\w+:)?Assertion\b.*?(</(\w+:)?Assertion>|$)", re.S),
        "<Assertion " + REDACTED + ">",
    ),
    # Parameters in query strings, forms and cookies: name=value (also percent-encoded '=').
    (
        re.compile(rf"(?i)\b({_CARRIERS}|Signature|code|state)(=|%3D)[^&\s\"'<>,;]*"),
        r"\1\2" + REDACTED,
    ),
    # Fields in JSON, Python reprs and headers: "name": "value", name: value.
    (
        re.compile(
            rf"(?i)\b({_CARRIERS}|Authorization|Cookie|Set-Cookie)(['\"]?\s*[:,]\s*b?)"
            r"(['\"]?)[^'\"\r\n]*"
        ),
        r"\1\2\3" + REDACTED,
    ),
    # XML elements: <SecretAccessKey>value</SecretAccessKey>.
    (re.compile(rf"(?i)<({_CARRIERS})>[^<]*"), r"<\1>" + REDACTED),
    # Typed tokens: access, refresh, sign-in code, console session.
    (re.compile(r"\b(cf[arscb]_)[\w-]+"), r"\1" + REDACTED),  # every kind (tokens/model.py)
    # Session tokens by shape, plain or percent-encoded.
    (re.compile(r"IQoJb3JpZ2luX2Vj[\w+/=%-]*"), REDACTED),
    # Long base64 runs: SAML messages, session tokens of other issuers.
    (re.compile(rf"[{_B64}]{{200,}}={{0,2}}"), REDACTED),
)
# A secret access key: 40 base64 characters on their own (a 40-digit hex digest is left alone).
_SECRET_KEY = re.compile(rf"(?<![{_B64}])[{_B64}]{{40}}(?![{_B64}=])")
_HEX = re.compile(r"[0-9a-fA-F]{40}")


def redact(line: str) -> str:
    """``line`` with every token, key, signature and SAML message replaced by ``<redacted>``."""
    for pattern, replacement in _PATTERNS:
        line = pattern.sub(replacement, line)
    return _SECRET_KEY.sub(lambda m: m[0] if _HEX.fullmatch(m[0]) else REDACTED, line)


class RedactingFormatter(logging.Formatter):
    """A formatter whose every line goes through :func:`redact`."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingAccessFormatter(AccessFormatter):
    """uvicorn's access-line formatter (``"GET /path?query HTTP/1.1" 200``), redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line; every string redacted before encoding (never after, which could
    break the JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                line.setdefault(str(key), redact(value) if isinstance(value, str) else value)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(line, default=lambda value: redact(str(value)), ensure_ascii=False)


REQUEST_LOGGER = "connectfed.request"
FORMATS = ("text", "json")


def level_number(name: str) -> int:
    """A level name as ``--log-level`` takes it (uvicorn's names, ``trace`` included)."""
    return LOG_LEVELS[name.lower()]


def logging_config(
    level: str, explicit: Iterable[tuple[str, str]] = (), log_format: str = "text"
) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` dictionary, also handed to uvicorn as ``log_config``
    so that uvicorn installs the same handlers. ``explicit`` holds (logger, level) pairs the
    operator asked for by name; they override everything above. ``log_format`` is ``text``
    or ``json`` (one JSON object a line, with the per-request line on)."""
    number = level_number(level)
    loggers: dict[str, dict[str, Any]] = {
        "connectfed": {"level": number},
        "uvicorn": {"handlers": ["default"], "level": number, "propagate": False},
        "uvicorn.access": {"handlers": ["access"], "level": number, "propagate": False},
        **{name: {"level": logging.WARNING} for name in QUIET_LOGGERS},
    }
    if log_format == "json":
        loggers[REQUEST_LOGGER] = {"level": logging.INFO}
    for name, asked in explicit:
        loggers.setdefault(name, {})["level"] = level_number(asked)
    stream = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    formatters: dict[str, Any] = {
        "default": {
            "()": RedactingFormatter,
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "access": {
            "()": RedactingAccessFormatter,
            "fmt": "%(asctime)s %(levelname)s %(name)s %(client_addr)s - "
            '"%(request_line)s" %(status_code)s',
        },
    }
    if log_format == "json":
        formatters = {"default": {"()": JsonFormatter}, "access": {"()": JsonFormatter}}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "handlers": {
            "default": {**stream, "formatter": "default"},
            "access": {**stream, "formatter": "access"},
        },
        "loggers": loggers,
        "root": {"handlers": ["default"], "level": max(number, logging.WARNING)},
    }
