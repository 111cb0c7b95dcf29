"""Client configuration as AWS users expect it: arguments, environment, shared files, profiles.

Static credentials (arguments, ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/
``AWS_SESSION_TOKEN``, the shared ``credentials`` and ``config`` files) are read here directly,
because importing botocore's credential chain costs about 100 ms and a federation call from the
CLI must take a fifth of the AWS CLI's time. Anything else a profile may use
(``credential_process``, SSO, ``role_arn``, instance metadata) is delegated to botocore's chain,
imported only then.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from connectfed.auth.sigv4 import Credentials
from connectfed.client.endpoints import connect_endpoint, endpoint_problem, valid_region
from connectfed.client.errors import ConnectfedError
from connectfed.client.proxies import proxy_for
from connectfed.client.retries import DEFAULT_MAX_ATTEMPTS, MODES


class ConfigurationError(ConnectfedError):
    pass


class NoRegionError(ConfigurationError):
    """No Region in the arguments, the environment or the profile."""


class NoCredentialsError(ConfigurationError):
    """No credentials anywhere the AWS CLI looks."""


@dataclass(frozen=True, slots=True)
class ClientConfig:
    region: str
    endpoint_url: str
    credentials: Credentials | None  # None: send the request unsigned
    verify: bool | str = True  # False, True, or a CA bundle path
    connect_timeout: float | None = 60.0  # None: blocking
    read_timeout: float | None = 60.0
    max_attempts: int = 3
    retry_mode: str = "standard"  # botocore's: legacy, standard or adaptive (see ``retries``)
    retry_base_seconds: float = 1.0
    max_backoff_seconds: float = 20.0
    # Credentials that expire and are renewed (botocore's refreshable ones: assume-role
    # profiles, credential_process with an Expiration, SSO, instance metadata): asked before
    # each request. ``credentials`` is then what they were when the client was made.
    credential_source: Callable[[], Credentials] | None = None
    # HTTP(S)_PROXY for the endpoint, unless NO_PROXY lists it; out of the repr: it may hold
    # the proxy's password
    proxy_url: str | None = field(default=None, repr=False)

    def current_credentials(self) -> Credentials | None:
        """The credentials to sign the next request with."""
        if self.credential_source is not None:
            return self.credential_source()
        return self.credentials


def _read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise ConfigurationError(f"Unable to parse config file: {path}: {exc}") from None
    return parser


@dataclass(frozen=True, slots=True)
class Profile:
    """A profile as botocore reads the shared files: ``[default]`` or ``[profile NAME]`` of the
    config file (``settings``), ``[NAME]`` of the credentials file (``credentials``), and the
    ``[services NAME]`` section its ``services`` setting names (``services``: service -> its
    settings)."""

    name: str
    explicit: bool  # named by the caller (--profile), not by AWS_PROFILE or by default
    settings: dict[str, str]
    credentials: dict[str, str]
    services: dict[str, dict[str, str]]


def _nested(value: str) -> dict[str, str]:
    """A config file's sub-section (``connect =`` then indented ``key = value`` lines)."""
    pairs = (line.split("=", 1) for line in value.splitlines() if "=" in line)
    return {key.strip(): item.strip() for key, item in pairs}


def load_profile(profile: str | None = None, env: Mapping[str, str] | None = None) -> Profile:
    """The profile named by ``profile``, else ``AWS_DEFAULT_PROFILE``, else ``AWS_PROFILE``
    (botocore's order), else ``default``. One that is named and in neither file is refused
    with botocore's words, even ``default``."""
    env = os.environ if env is None else env
    name = profile or env.get("AWS_DEFAULT_PROFILE") or env.get("AWS_PROFILE")
    config_path, credentials_path = _files(env)
    profiles: dict[str, dict[str, str]] = {}
    services: dict[str, dict[str, dict[str, str]]] = {}
    if config_path.exists():
        parser = _read_ini(config_path)
        for section in parser.sections():
            words = section.split()
            if section == "default" or (len(words) == 2 and words[0] == "profile"):
                profiles[words[-1]] = dict(parser.items(section))
            elif len(words) == 2 and words[0] == "services":
                services[words[1]] = {k: _nested(v) for k, v in parser.items(section)}
    found = {}
    if credentials_path.exists():
        parser = _read_ini(credentials_path)
        found = {section: dict(parser.items(section)) for section in parser.sections()}
    if name is not None and name not in profiles and name not in found:
        raise ConfigurationError(f"The config profile ({name}) could not be found")
    name = name or "default"
    settings = profiles.get(name, {})
    return Profile(
        name=name,
        explicit=profile is not None,
        settings=settings,
        credentials=found.get(name, {}),
        services=services.get(settings.get("services", ""), {}),
    )


def _files(env: Mapping[str, str]) -> tuple[Path, Path]:
    home = Path(env.get("HOME", str(Path.home())))
    config = Path(env.get("AWS_CONFIG_FILE", home / ".aws" / "config")).expanduser()
    credentials = Path(
        env.get("AWS_SHARED_CREDENTIALS_FILE", home / ".aws" / "credentials")
    ).expanduser()
    return config, credentials


def _static(values: Mapping[str, str]) -> Credentials | None:
    key, secret = values.get("aws_access_key_id"), values.get("aws_secret_access_key")
    if key and secret:
        return Credentials(key, secret, values.get("aws_session_token") or None)
    return None


def _botocore_chain(
    profile: str | None,
) -> tuple[Credentials | None, Callable[[], Credentials] | None]:
    """The credentials botocore finds for ``profile``, and, when they expire and botocore
    renews them (an assume-role profile's session...), how to ask for the current ones."""
    import botocore.credentials  # deferred: only for credential sources read by botocore alone
    import botocore.session

    found = None

    def frozen() -> Credentials:
        assert found is not None
        try:
            current = found.get_frozen_credentials()
        except Exception as exc:  # credential_process, SSO, role_arn: botocore's or STS's error
            if not _from_botocore(exc):
                raise
            raise ConfigurationError(str(exc)) from None
        return Credentials(current.access_key, current.secret_key, current.token)

    try:
        found = botocore.session.Session(profile=profile).get_credentials()
    except Exception as exc:
        if not _from_botocore(exc):
            raise
        raise ConfigurationError(str(exc)) from None
    if found is None:
        return None, None
    refreshable = isinstance(found, botocore.credentials.RefreshableCredentials)
    return frozen(), frozen if refreshable else None


def _from_botocore(exc: Exception) -> bool:
    """botocore's own errors and the service errors its credential providers pass on (an
    AssumeRole refused: ClientError)."""
    import botocore.exceptions

    return isinstance(exc, botocore.exceptions.BotoCoreError | botocore.exceptions.ClientError)


def _flag(value: str | None) -> bool:
    """botocore's ensure_boolean for settings read from text: only 'true' (any case) is on."""
    return (value or "").strip().lower() == "true"


def _ca_bundle(env: Mapping[str, str], config: Mapping[str, str]) -> bool | str:
    """The CA bundle botocore verifies TLS with when the caller names none: ``AWS_CA_BUNDLE``,
    else the profile's ``ca_bundle``, else ``REQUESTS_CA_BUNDLE`` (botocore's endpoint reads it
    as requests does), else the default trust store (True). The first one set wins, even set
    to nothing (refused by the caller, as botocore refuses it)."""
    for value in (env.get("AWS_CA_BUNDLE"), config.get("ca_bundle"), env.get("REQUESTS_CA_BUNDLE")):
        if value is not None:
            return value
    return True


def resolve_config(
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    credentials: Credentials | None = None,
    sign: bool = True,
    verify: bool | str | None = None,
    connect_timeout: float | None = 60.0,
    read_timeout: float | None = 60.0,
    max_attempts: int | None = None,
    retry_mode: str | None = None,
    default_retry_mode: str = "standard",
    use_fips_endpoint: bool | None = None,
    use_dualstack_endpoint: bool | None = None,
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Resolve every setting as the AWS CLI and SDKs do (argument > environment > files).

    ``default_retry_mode`` is the mode when none is configured: boto3's ``standard``, or the
    AWS CLI v1's ``legacy``."""
    env = os.environ if env is None else env
    chosen = load_profile(profile, env)
    config = chosen.settings

    resolved_region = (
        region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or config.get("region")
    )
    if not resolved_region:
        raise NoRegionError(
            "You must specify a region. You can also configure your "
            'region by running "aws configure".'
        )

    ignore = env.get(
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", config.get("ignore_configured_endpoint_urls")
    )
    if endpoint_url is None and not _flag(ignore):
        endpoint_url = (
            env.get("AWS_ENDPOINT_URL_CONNECT")
            or env.get("AWS_ENDPOINT_URL")
            or chosen.services.get("connect", {}).get("endpoint_url")
            or config.get("endpoint_url")
        )
    if not valid_region(resolved_region):
        raise ConfigurationError(
            f"Provided region_name '{resolved_region}' doesn't match a supported format."
        )
    if endpoint_url is None:
        if use_fips_endpoint is None:
            use_fips_endpoint = _flag(
                env.get("AWS_USE_FIPS_ENDPOINT", config.get("use_fips_endpoint"))
            )
        if use_dualstack_endpoint is None:
            use_dualstack_endpoint = _flag(
                env.get("AWS_USE_DUALSTACK_ENDPOINT", config.get("use_dualstack_endpoint"))
            )
        endpoint_url = connect_endpoint(
            resolved_region, fips=use_fips_endpoint, dual_stack=use_dualstack_endpoint
        )
    problem = endpoint_problem(endpoint_url)
    if problem is not None:
        raise ConfigurationError(problem)
    endpoint = endpoint_url.rstrip("/")

    creds: Credentials | None = None
    source: Callable[[], Credentials] | None = None
    if sign:
        creds = credentials
        if creds is None and not chosen.explicit:
            creds = _static(
                {
                    "aws_access_key_id": env.get("AWS_ACCESS_KEY_ID", ""),
                    "aws_secret_access_key": env.get("AWS_SECRET_ACCESS_KEY", ""),
                    "aws_session_token": env.get("AWS_SESSION_TOKEN", ""),
                }
            )
        if creds is None:
            creds = _static(chosen.credentials) or _static(config)
        if creds is None:
            named = chosen.explicit or chosen.name != "default"
            creds, source = _botocore_chain(chosen.name if named else None)

    if verify is None:
        verify = _ca_bundle(env, config)
    if isinstance(verify, str) and not verify.strip():
        raise ConfigurationError(
            "Invalid CA bundle: the configured value (ca_bundle, AWS_CA_BUNDLE, "
            "REQUESTS_CA_BUNDLE, or verify) resolved to an empty or whitespace-only string. "
            "Provide a valid path to a CA bundle file."
        )
    mode = retry_mode or env.get("AWS_RETRY_MODE") or config.get("retry_mode") or default_retry_mode
    if mode not in MODES:
        raise ConfigurationError(
            f'Invalid value provided to "mode": "{mode}" must be one of: {MODES}'
        )
    if max_attempts is None:
        text = env.get("AWS_MAX_ATTEMPTS") or config.get("max_attempts")
        try:
            max_attempts = DEFAULT_MAX_ATTEMPTS[mode] if text is None else int(text)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
    if max_attempts < 1:
        raise ConfigurationError(
            f'Value provided to "max_attempts": {max_attempts} must be an integer greater '
            "than or equal to 1."
        )
    for name, timeout in (("connect", connect_timeout), ("read", read_timeout)):
        if timeout is not None and timeout <= 0:  # urllib3's check, as botocore makes it
            raise ConfigurationError(
                f"Attempted to set {name} timeout to {timeout}, but the timeout cannot be set "
                "to a value less than or equal to 0."
            )
    if sign and creds is None:
        # Missing credentials show only when the request is signed, after every setting above
        # is checked (botocore makes the client first).
        raise NoCredentialsError(
            "Unable to locate credentials. You can configure "
            'credentials by running "aws configure".'
        )
    return ClientConfig(
        region=resolved_region,
        endpoint_url=endpoint,
        credentials=creds,
        verify=verify,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_attempts=max_attempts,
        retry_mode=mode,
        credential_source=source,
        proxy_url=proxy_for(endpoint, env),
    )
