"""``connectfed get-federation-token``: every option of ``aws connect get-federation-token``.

Errors print as the AWS CLI v1 prints them and exit with its codes: 0 success, 255 service,
credential, configuration and parameter errors and unknown options, 2 the usage errors argparse
catches (a missing or bad option value), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from connectfed import __version__, jsonsafe

OPERATION = "GetFederationToken"
USAGE = "connectfed get-federation-token --instance-id <value> [options]"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="connectfed get-federation-token", usage=USAGE)
    p.add_argument(
        "--instance-id",
        metavar="ID",
        help="the Amazon Connect instance id (required here or in --cli-input-json)",
    )
    p.add_argument(
        "--cli-input-json",
        metavar="JSON",
        help="the parameters as JSON, or file://PATH (command-line values win)",
    )
    p.add_argument(
        "--generate-cli-skeleton",
        nargs="?",
        const="input",
        choices=["input", "output"],
        help="print a JSON skeleton of the input (default) or output; send nothing",
    )
    p.add_argument("--debug", action="store_true", help="log the exchange (secrets redacted)")
    p.add_argument("--endpoint-url", metavar="URL", help="the server, e.g. a connectfed server")
    p.add_argument("--no-verify-ssl", action="store_true", help="do not verify the TLS certificate")
    p.add_argument("--no-paginate", action="store_true", help="accepted (nothing to paginate)")
    p.add_argument(
        "--output", choices=["json", "text", "table", "yaml"], help="output format (json)"
    )
    p.add_argument("--query", metavar="JMESPATH", help="a JMESPath query on the response")
    p.add_argument("--profile", help="a profile of the shared config and credentials files")
    p.add_argument("--region", help="the Region (else AWS_REGION, AWS_DEFAULT_REGION, config)")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument(
        "--color", choices=["on", "off", "auto"], default="auto", help="color output (auto)"
    )
    p.add_argument(
        "--no-sign-request", action="store_true", help="send unsigned; load no credentials"
    )
    p.add_argument("--ca-bundle", metavar="FILE", help="CA certificates to verify TLS with")
    p.add_argument(
        "--cli-read-timeout",
        metavar="SECONDS",
        help="socket read timeout (default 60; 0: none)",
    )
    p.add_argument(
        "--cli-connect-timeout",
        metavar="SECONDS",
        help="socket connect timeout (default 60; 0: none)",
    )
    return p


def _error(message: str) -> int:
    sys.stderr.write(f"\n{message}\n")
    return 255


def _input(args: argparse.Namespace) -> dict[str, Any]:
    """The parameters, from --cli-input-json and --instance-id, either from a paramfile (the
    AWS CLI's words for one it cannot read or JSON it cannot parse)."""
    params: dict[str, Any] = {}
    if args.cli_input_json is not None:
        text = _paramfile("--cli-input-json", args.cli_input_json)
        try:
            loaded = jsonsafe.loads(text)
        except ValueError as exc:
            raise ValueError(
                f"Error parsing parameter 'cli-input-json': Invalid JSON: {exc}\n"
                f"JSON received: {text}"
            ) from None
        if not isinstance(loaded, dict):
            raise ValueError(
                "Error parsing parameter 'cli-input-json': the input must be a JSON object"
            )
        params.update(loaded)
    if args.instance_id is not None:
        # command-line values override the JSON
        params["InstanceId"] = _paramfile("--instance-id", args.instance_id)
    return params


def _paramfile(option: str, value: str) -> Any:
    """A parameter's value, or with ``file://PATH`` the file's text and with ``fileb://PATH``
    its bytes (the AWS CLI's paramfiles; ``~`` and ``$VARS`` expanded in the path)."""
    for prefix, mode in (("file://", "r"), ("fileb://", "rb")):
        if value.startswith(prefix):
            path = os.path.expandvars(os.path.expanduser(value[len(prefix) :]))
            try:
                with open(path, mode) as file:
                    return file.read()
            except UnicodeDecodeError:
                raise ValueError(
                    f"Error parsing parameter '{option}': Unable to load paramfile ({path}), "
                    "text contents could not be decoded.  If this is a binary file, please use "
                    "the fileb:// prefix instead of the file:// prefix."
                ) from None
            except OSError as exc:
                raise ValueError(
                    f"Error parsing parameter '{option}': Unable to load paramfile {value}: {exc}"
                ) from None
    return value


def _invalid(params: dict[str, Any]) -> list[str]:
    """botocore's checks of GetFederationTokenRequest, in its order and words: required
    members, unknown members, then each member's type and minimum length."""
    problems = []
    if "InstanceId" not in params:
        problems.append('Missing required parameter in input: "InstanceId"')
    problems += [
        f'Unknown parameter in input: "{name}", must be one of: InstanceId'
        for name in params
        if name != "InstanceId"
    ]
    if "InstanceId" in params:
        value = params["InstanceId"]
        if not isinstance(value, str):
            problems.append(
                f"Invalid type for parameter InstanceId, value: {value}, "
                f"type: {type(value)}, valid types: {str}"
            )
        elif not value:
            problems.append(
                "Invalid length for parameter InstanceId, value: 0, valid min length: 1"
            )
    return problems


def _redact(headers: dict[str, str]) -> dict[str, str]:
    hidden = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower == "authorization":
            value = value.rsplit("Signature=", 1)[0] + "Signature=<redacted>"
        elif lower == "x-amz-security-token":
            value = "<redacted>"
        hidden[name] = value
    return hidden


def _debug_exchange(request: Any, response: Any) -> None:
    body = response.body.decode("utf-8", "replace")
    try:
        document = jsonsafe.loads(body)
        creds = document.get("Credentials") if isinstance(document, dict) else None
        if isinstance(creds, dict):
            for key in ("AccessToken", "RefreshToken"):
                if key in creds:
                    creds[key] = "<redacted>"
        url = document.get("SignInUrl") if isinstance(document, dict) else None
        if isinstance(url, str) and "?" in url:  # its one-time code signs a browser in
            document["SignInUrl"] = url.split("?", 1)[0] + "?<redacted>"
        body = json.dumps(document)
    except ValueError:
        pass
    sys.stderr.write(
        f"DEBUG - Request: {request.method} {request.url}\n"
        f"DEBUG - Request headers: {_redact(request.headers)}\n"
        f"DEBUG - Response status: {response.status}\n"
        f"DEBUG - Response headers: {response.headers}\n"
        f"DEBUG - Response body: {body}\n"
    )


def _has_table_renderer() -> bool:
    import importlib.util

    return importlib.util.find_spec("awscli") is not None


def _usage_problem(args: argparse.Namespace) -> str | None:
    """The AWS CLI's checks of its global options, made before anything else."""
    for name in ("cli_connect_timeout", "cli_read_timeout"):
        value = getattr(args, name)
        if value is not None:
            try:
                setattr(args, name, int(value))
            except ValueError as exc:
                return str(exc)
    if args.endpoint_url is not None and not urlsplit(args.endpoint_url).scheme:
        return (
            f'Bad value for --endpoint-url "{args.endpoint_url}": scheme is missing.  Must be '
            "of the form http://<hostname>/ or https://<hostname>/"
        )
    return None


def main(argv: Sequence[str]) -> int:
    args, unknown = parser().parse_known_args(argv)
    if args.version:
        import platform

        sys.stdout.write(
            f"connectfed/{__version__} Python/{platform.python_version()} "
            f"{platform.system()}/{platform.release()}\n"
        )
        return 0
    problem = _usage_problem(args)
    if problem is not None:
        return _error(problem)
    skeleton = args.generate_cli_skeleton == "input"  # the AWS CLI then requires nothing
    if args.instance_id is None and args.cli_input_json is None and not skeleton:
        sys.stderr.write(
            f"usage: {USAGE}\nconnectfed get-federation-token: error: the "
            "following arguments are required: --instance-id\n"
        )
        return 2
    if unknown:  # the AWS CLI's words and exit code (argparse would say 2)
        sys.stderr.write(f"usage: {USAGE}\nUnknown options: {', '.join(unknown)}\n")
        return 255
    try:
        params = _input(args)
    except (OSError, ValueError) as exc:
        return _error(str(exc))
    if args.generate_cli_skeleton == "input":
        sys.stdout.write(json.dumps({"InstanceId": ""}, indent=4) + "\n")
        return 0
    problems = _invalid(params)
    if problems:
        return _error("Parameter validation failed:\n" + "\n".join(problems))
    from connectfed.cli.output import FORMATS, in_model_order, with_iso_timestamps, write
    from connectfed.client import (
        ConnectfedError,
        NoCredentialsError,
        NoRegionError,
        ServiceError,
    )
    from connectfed.client.config import load_profile, resolve_config
    from connectfed.client.connect import ConnectClient

    query = None
    if args.query is not None:
        import jmespath

        try:
            query = jmespath.compile(args.query)
        except jmespath.exceptions.ParseError as exc:
            sys.stderr.write(f"\nBad value for --query {args.query}: {exc}\n\n")
            return 255
    try:
        settings = load_profile(args.profile).settings
    except ConnectfedError as exc:
        return _error(str(exc))
    fmt = args.output or os.environ.get("AWS_DEFAULT_OUTPUT") or settings.get("output") or "json"
    timestamps = settings.get("cli_timestamp_format", "wire")
    # Refused before the request (the AWS CLI sends it first, and a token would be minted for
    # nothing); its words and exit code.
    if fmt not in FORMATS:
        return _error(f"Unknown output type: {fmt}")
    if timestamps not in ("none", "wire", "iso8601"):
        return _error(
            f"Unknown cli_timestamp_format value: {timestamps}, valid values are "
            '"none", "wire" or "iso8601"'
        )
    if fmt == "table" and not _has_table_renderer():
        return _error(
            "--output table renders with the AWS CLI's table formatter, which is not "
            "installed: pip install 'connectfed[table]' (or use --output json, text "
            "or yaml)"
        )
    if args.generate_cli_skeleton == "output":
        from datetime import datetime

        # The AWS CLI's sample: each member named after itself, timestamps at the epoch (naive
        # datetimes: isoformat in JSON, str() in text and table).
        epoch = datetime(1970, 1, 1)
        data: Any = {
            "UserId": "UserId",
            "UserArn": "UserArn",
            "Credentials": {
                "AccessToken": "AccessToken",
                "AccessTokenExpiration": epoch,
                "RefreshToken": "RefreshToken",
                "RefreshTokenExpiration": epoch,
            },
            "SignInUrl": "SignInUrl",
        }
    else:
        try:
            config = resolve_config(
                profile=args.profile,
                region=args.region,
                endpoint_url=args.endpoint_url,
                sign=not args.no_sign_request,
                verify=False if args.no_verify_ssl else args.ca_bundle,
                # Whole seconds, as the AWS CLI reads them (and names them when refused).
                connect_timeout=None
                if args.cli_connect_timeout == 0
                else (args.cli_connect_timeout or 60),
                read_timeout=None if args.cli_read_timeout == 0 else (args.cli_read_timeout or 60),
                default_retry_mode="legacy",  # the AWS CLI v1's: 5 attempts
            )
            client = ConnectClient(config)
            if args.debug:
                sys.stderr.write(
                    f"DEBUG - connectfed/{__version__} endpoint "
                    f"{config.endpoint_url} region {config.region}\n"
                )
                client.on_exchange = _debug_exchange
            raw = client.get_federation_token_raw(params["InstanceId"])
        except ServiceError as exc:
            retries = exc.attempts - 1
            note = f" (reached max retries: {retries})" if exc.max_attempts_reached else ""
            return _error(
                f"An error occurred ({exc.code}) when calling the {OPERATION} "
                f"operation{note}: {exc.message}"
            )
        except (NoRegionError, NoCredentialsError) as exc:
            sys.stderr.write(f"{exc}\n")  # the AWS CLI shows these two without a blank line
            return 255
        except ConnectfedError as exc:
            return _error(str(exc))
        data = in_model_order(raw.body)
        if timestamps == "iso8601":
            data = with_iso_timestamps(data)
    write(data, fmt, sys.stdout, title=OPERATION, color=args.color, query=query)
    return 0
