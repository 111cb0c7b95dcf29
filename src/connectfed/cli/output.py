"""Output formats of ``connectfed get-federation-token``, matching the AWS CLI v1.

json: ``json.dump(indent=4, ensure_ascii=False)``; text: the AWS CLI's text layout (scalars of
a mapping sorted by key on one tab-separated line, nested mappings after it under their
upper-cased key); table: rendered by the AWS CLI's own table formatter when ``awscli`` is
installed (imported only for this format); yaml: PyYAML's block style, as AWS CLI v2 prints it.
"""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace
from typing import Any, TextIO

FORMATS = ("json", "text", "table", "yaml")

# GetFederationTokenResponse's members in the service model's order, which is the order botocore
# (and so the AWS CLI) prints them in whatever order the service sent them.
RESPONSE_ORDER = ("UserId", "UserArn", "Credentials", "SignInUrl")
CREDENTIALS_ORDER = (
    "AccessToken",
    "AccessTokenExpiration",
    "RefreshToken",
    "RefreshTokenExpiration",
)


def in_model_order(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in RESPONSE_ORDER:
        if key not in body:
            continue
        value = body[key]
        if key == "Credentials" and isinstance(value, dict):
            value = {k: value[k] for k in CREDENTIALS_ORDER if k in value}
        out[key] = value
    return out


def _iso(value: Any) -> Any:
    """botocore's parse_timestamp(value).isoformat(): epoch seconds in the local time zone."""
    from datetime import UTC, datetime

    try:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC).astimezone().isoformat()
    except (ValueError, OverflowError, OSError):
        pass
    return value


def with_iso_timestamps(data: dict[str, Any]) -> dict[str, Any]:
    """The response as the AWS CLI prints it with ``cli_timestamp_format = iso8601``."""
    creds = data.get("Credentials")
    if not isinstance(creds, dict):
        return data
    converted = {
        key: _iso(value) if key in ("AccessTokenExpiration", "RefreshTokenExpiration") else value
        for key, value in creds.items()
    }
    return {**data, "Credentials": converted}


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _text(
    item: Any, stream: TextIO, identifier: str | None = None, scalar_keys: list[str] | None = None
) -> None:
    if isinstance(item, dict):
        if scalar_keys is None:
            scalars = [str(v) for _, v in sorted(item.items()) if not isinstance(v, dict | list)]
            nested = [(k, v) for k, v in sorted(item.items()) if isinstance(v, dict | list)]
        else:
            scalars = [str(item.get(k, "")) for k in scalar_keys]
            nested = [(k, item[k]) for k in sorted(set(item) - set(scalar_keys))]
        if scalars:
            if identifier is not None:
                scalars.insert(0, identifier.upper())
            stream.write("\t".join(scalars) + "\n")
        for key, value in nested:
            _text(value, stream, key)
    elif isinstance(item, list):
        if not item:
            return
        if any(isinstance(e, dict) for e in item):
            keys = sorted(
                {
                    k
                    for e in item
                    if isinstance(e, dict)
                    for k, v in e.items()
                    if not isinstance(v, dict | list)
                }
            )
            for element in item:
                _text(element, stream, identifier, keys)
        elif any(isinstance(e, list) for e in item):
            scalars = [e for e in item if not isinstance(e, dict | list)]
            if scalars:
                _scalar_list(scalars, identifier, stream)
            for element in item:
                if isinstance(element, dict | list):
                    _text(element, stream, identifier)
        else:
            _scalar_list(item, identifier, stream)
    else:
        stream.write(f"{item}\n")


def _scalar_list(items: list[Any], identifier: str | None, stream: TextIO) -> None:
    if identifier is not None:
        for item in items:
            stream.write(f"{identifier.upper()}\t{item}\n")
    else:
        stream.write("\t".join(str(i) for i in items) + "\n")


def write(
    data: Any, fmt: str, stream: TextIO, *, title: str, color: str, query: Any = None
) -> None:
    """Print ``data`` (after the compiled JMESPath ``query``, if any) as the AWS CLI does."""
    if fmt == "table":
        from awscli.formatter import TableFormatter  # the AWS CLI's own renderer

        # It applies the query itself, after it has taken ResponseMetadata off the response.
        # Given no stream it writes to sys.stdout as it is once --color on has had colorama
        # wrap it (autoreset), which is how the AWS CLI's colored tables come out.
        target = None if stream is sys.stdout else stream
        TableFormatter(SimpleNamespace(color=color, query=query))(title, data, target)
        return
    if query is not None:
        data = query.search(data)
    if fmt == "json":
        if data != {}:
            json.dump(data, stream, indent=4, ensure_ascii=False, default=_json_default)
            stream.write("\n")
    elif fmt == "text":
        _text(data, stream)
    elif fmt == "yaml":
        import yaml

        stream.write(
            yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
        )
    else:
        raise ValueError(f"Unknown output type: {fmt}")
