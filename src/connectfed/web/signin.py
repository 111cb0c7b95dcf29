"""The browser sign-in flow, free of HTTP.

POST /saml: verify the SAMLResponse against the provider its Role attribute names (pinned
certificates only), accept it once (the SAML profile's MUST, atomic across processes), then
either continue with its single role or offer a role chooser. With a RelayState of
``…/connect/federate/<instance-id>?destination=…`` the new role session calls
GetFederationToken and the browser is sent to the instance's sign-in URL, which spends a
single-use code and sets an HTTP-only session cookie.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from connectfed.clock import Clock
from connectfed.connect.federation import FederationService
from connectfed.connect.instances import InstanceService
from connectfed.errors import ServiceError
from connectfed.identity.assume_saml import AssumeRoleWithSaml
from connectfed.identity.credentials import CredentialResolver
from connectfed.identity.principal import Principal
from connectfed.identity.providers import SamlProviderService
from connectfed.saml import xml
from connectfed.saml.assertion import SAML, AssertionRejected, VerifiedAssertion, verify_response
from connectfed.settings import Settings
from connectfed.store import Store
from connectfed.store.records import Token
from connectfed.tokens import TokenMinter
from connectfed.web import destination as destinations
from connectfed.web import pages

log = logging.getLogger("connectfed.saml")

MAX_SAML_RESPONSE = 100_000
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
FEDERATE_PATH = re.compile(r"/connect/federate/([A-Za-z0-9_.:-]{1,100})/?$")
SESSION_COOKIE = "connectfed_session"
CONSOLE_COOKIE = "connectfed_console"
CODE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    html: str | None = None
    location: str | None = None
    cookie: str | None = None  # a full Set-Cookie value


def _error(status: int, title: str, message: str) -> Outcome:
    return Outcome(status, pages.error_page(title, message))


def _bad_destination() -> Outcome:
    return _error(400, "Bad destination", destinations.MESSAGE)


class BrowserSignin:
    def __init__(self, *, store: Store, clock: Clock, settings: Settings,
                 providers: SamlProviderService, assume_saml: AssumeRoleWithSaml,
                 resolver: CredentialResolver, federation: FederationService,
                 instances: InstanceService, minter: TokenMinter) -> None:
        self._secure = settings.public_url.startswith("https:")
        self._store = store
        self._clock = clock
        self._settings = settings
        self._providers = providers
        self._assume = assume_saml
        self._resolver = resolver
        self._federation = federation
        self._instances = instances
        self._minter = minter

    # -- POST /saml --------------------------------------------------------------------------
    def post_saml(self, saml_response: str | None, relay_state: str | None) -> Outcome:
        if not saml_response or len(saml_response) > MAX_SAML_RESPONSE:
            return _error(400, "Bad SAML response", "The SAMLResponse is missing or too large.")
        try:
            document = base64.b64decode(saml_response.strip(), validate=True)
        except (binascii.Error, ValueError):
            return _error(400, "Bad SAML response", "The SAMLResponse is not valid base64.")
        try:  # checked before the assertion is spent
            target = _federate_target(relay_state)
        except ValueError:
            return _error(400, "Bad RelayState", "The RelayState is not a valid URL.")
        if target is not None and not destinations.acceptable(target[1]):
            return _bad_destination()
        verified, provider, reason = self._verify(document)
        if verified is None:
            return _error(400, "Bad SAML response", reason)
        if not self._assume.remember(verified):
            return _error(400, "Bad SAML response", "This SAML response has already been used.")
        roles = [r for r, p in self._assume.role_pairs(verified) if p == provider.arn]
        if not roles:
            return _error(403, "Access denied", "The SAML response names no role for this "
                                                "identity provider.")
        if len(roles) == 1:
            return self._complete(verified, provider.arn, roles[0], relay_state)
        state = secrets.token_urlsafe(32)
        payload = json.dumps({"verified": _dump(verified), "provider": provider.arn,
                              "roles": roles, "relay": relay_state})
        self._store.put_signin_state(self._minter.digest(state), payload,
                                     verified.not_on_or_after.timestamp())
        return Outcome(200, pages.role_chooser(state, roles))

    def _verify(self, document: bytes) -> tuple[VerifiedAssertion | None, Any, str]:
        candidates = _named_providers(document)
        if not candidates:
            return None, None, "The SAML response names no identity provider in its Role " \
                               "attribute."
        reason = "No registered identity provider accepts this SAML response."
        for arn in candidates:
            trusted = self._providers.trusted(arn)
            if trusted is None:
                continue
            provider, metadata = trusted
            try:
                verified = verify_response(
                    document, metadata=metadata, recipients=self._settings.saml_endpoints,
                    audiences=self._settings.saml_audiences, now=self._clock.now(),
                    skew=timedelta(seconds=self._settings.clock_skew_seconds))
            except AssertionRejected as exc:
                log.warning("browser sign-in rejected an assertion for %s (%s): %s", arn,
                            exc.reason, exc)
                reason = str(exc)
                continue
            return verified, provider, ""
        return None, None, reason

    # -- POST /saml/choose -------------------------------------------------------------------
    def choose(self, state: str | None, role_arn: str | None) -> Outcome:
        if not state or not role_arn:
            return _error(400, "Bad request", "Choose a role to continue.")
        payload = self._store.take_signin_state(self._minter.digest(state),
                                                self._clock.now().timestamp())
        if payload is None:
            return _error(400, "Sign-in expired", "This sign-in has expired or was already "
                                                  "used. Sign in again at your identity provider.")
        data = json.loads(payload)
        if role_arn not in data["roles"]:
            return _error(403, "Access denied", "That role was not offered by your identity "
                                                "provider.")
        return self._complete(_load(data["verified"]), data["provider"], role_arn, data["relay"])

    # -- the rest of the flow ------------------------------------------------------------------
    def _complete(self, verified: VerifiedAssertion, provider_arn: str, role_arn: str,
                  relay_state: str | None) -> Outcome:
        trusted = self._providers.trusted(provider_arn)
        if trusted is None:
            return _error(403, "Access denied", "The identity provider is no longer trusted.")
        try:
            session = self._assume.issue(verified, trusted[0], role_arn)
        except ServiceError as exc:
            return _error(403 if exc.status == 403 else 400, "Access denied", exc.message)
        key_id = session["Credentials"]["AccessKeyId"]
        principal = self._resolver.principal_of_session(key_id)
        assert principal.session_expiration is not None
        console, console_hash = self._minter.mint("console")
        now = self._clock.now()
        self._store.insert_tokens([Token(console_hash, "console", key_id, "", "", key_id,
                                         now.timestamp(),
                                         principal.session_expiration.timestamp())])
        max_age = max(0, int((principal.session_expiration - now).total_seconds()))
        cookie = (f"{CONSOLE_COOKIE}={console}; Path=/connect/; HttpOnly; SameSite=Lax; "
                  f"Max-Age={max_age}" + ("; Secure" if self._secure else ""))
        target = _federate_target(relay_state)
        if target is None:
            return Outcome(200, pages.console_page(principal.arn), cookie=cookie)
        instance_id, destination = target
        # As the AWS console does: the browser goes on to /connect/federate/<instance-id>,
        # where its role session calls GetFederationToken.
        return Outcome(303, location=f"/connect/federate/{instance_id}?destination="
                                     f"{quote(destination, safe='')}", cookie=cookie)

    # -- GET /connect/federate/<instance-id> -------------------------------------------------
    def federate_step(self, console_token: str | None, instance_id: str,
                      destination: str | None) -> Outcome:
        if not destinations.acceptable(destination):
            return _bad_destination()  # before GetFederationToken mints a sign-in code
        now = self._clock.now().timestamp()
        token = self._store.get_token(self._minter.digest(console_token)) \
            if console_token else None
        if token is None or token.kind != "console" or token.revoked or token.expires <= now \
                or token.session_key_id is None:
            return _error(401, "Session expired", "Sign in through your identity provider "
                                                  "first.")
        try:
            principal = self._resolver.principal_of_session(token.session_key_id)
        except ServiceError:
            return _error(401, "Session expired", "Your session has ended.")
        return self.federate(principal, instance_id, destination or "/ccp-v2")

    def federate(self, principal: Principal, instance_id: str, destination: str) -> Outcome:
        try:
            result = self._federation.federate(principal, instance_id)
        except ServiceError as exc:
            if exc.code == "UserNotFoundException":
                return _error(403, "Access denied",
                              f"User {principal.session_name} has not been onboarded to this "
                              "application.")
            if exc.status == 403:
                return _error(403, "Access denied", "Access denied: you are not authorized to "
                                                    "federate into this instance.")
            return _error(exc.status, "Sign-in failed", exc.message)
        location = f"{result['SignInUrl']}&destination={quote(destination, safe='')}"
        return Outcome(303, location=location)

    # -- GET /connect/<instance-id>/auth/sign-in ---------------------------------------------
    def sign_in(self, instance_id: str, code: str | None, destination: str | None,
                secure: bool) -> Outcome:
        if not destinations.acceptable(destination):
            return _bad_destination()  # before the single-use code is spent
        now = self._clock.now()
        token = self._store.consume_token(self._minter.digest(code), "signin",
                                          now.timestamp()) if code else None
        if token is None or token.instance_id != instance_id:
            return _error(401, "Sign-in link expired", "This sign-in link has expired or was "
                                                       "already used.")
        expires = now + timedelta(seconds=self._settings.access_token_seconds)
        if token.session_key_id and token.session_key_id.startswith("ASIA"):
            session = self._store.get_session(token.session_key_id)
            if session is None or session.revoked:
                return _error(401, "Sign-in link expired", "The session has ended.")
            expires = min(expires, datetime.fromtimestamp(session.expiration, UTC))
        access, access_hash = self._minter.mint("access")
        self._store.insert_tokens([Token(access_hash, "access", token.family_id, instance_id,
                                         token.user_id, token.session_key_id, now.timestamp(),
                                         expires.timestamp())])
        path = f"/connect/{instance_id}/"
        cookie = (f"{SESSION_COOKIE}={access}; Path={path}; HttpOnly; SameSite=Lax; "
                  f"Max-Age={max(0, int((expires - now).total_seconds()))}"
                  + ("; Secure" if secure else ""))
        target = destination if destination and destination.startswith("/") and \
            not destination.startswith("//") else "/ccp-v2"
        return Outcome(303, location=f"{path.rstrip('/')}{target}", cookie=cookie)

    # -- GET /connect/<instance-id>/<anything> --------------------------------------------------
    def instance_page(self, instance_id: str, access_token: str | None,
                      destination: str) -> Outcome:
        now = self._clock.now().timestamp()
        token = self._store.get_token(self._minter.digest(access_token)) if access_token \
            else None
        if token is None or token.kind != "access" or token.revoked or token.expires <= now \
                or token.instance_id != instance_id:
            return _error(401, "Session expired", "Your session has expired. Sign in again.")
        user = self._store.get_connect_user(instance_id, token.user_id)
        instance = self._store.get_instance(instance_id)
        if user is None or instance is None:
            return _error(401, "Session expired", "Your session has expired. Sign in again.")
        return Outcome(200, pages.instance_page(instance.alias, instance_id, user.username,
                                                destination))


def _named_providers(document: bytes) -> list[str]:
    """Provider ARNs named in the (not yet verified) Role attribute: only to pick whose pinned
    certificates to verify with; nothing read here is trusted."""
    try:
        root = xml.parse(document)
    except xml.UnsafeXml:
        return []
    found: list[str] = []
    for attribute in root.iter(f"{{{SAML}}}Attribute"):
        if attribute.get("Name") != ROLE_ATTRIBUTE:
            continue
        for value in attribute.iter(f"{{{SAML}}}AttributeValue"):
            for part in "".join(value.itertext()).split(","):
                part = part.strip()
                if ":saml-provider/" in part and part not in found:
                    found.append(part)
    return found[:5]


def _federate_target(relay_state: str | None) -> tuple[str, str] | None:
    """(instance id, destination) of a ``…/connect/federate/<id>?destination=…`` RelayState;
    ValueError when it is not a URL at all."""
    if not relay_state:
        return None
    parts = urlsplit(relay_state)
    match = FEDERATE_PATH.search(parts.path)
    if match is None:
        return None
    destination = parse_qs(parts.query).get("destination", ["/ccp-v2"])[0]
    return match.group(1), destination


def _dump(verified: VerifiedAssertion) -> dict[str, Any]:
    data = asdict(verified)
    for key in ("not_on_or_after", "session_not_on_or_after"):
        data[key] = data[key].isoformat() if data[key] else None
    data["attributes"] = {k: list(v) for k, v in verified.attributes.items()}
    data["audiences"] = list(verified.audiences)
    return data


def _load(data: dict[str, Any]) -> VerifiedAssertion:
    values = dict(data)
    for key in ("not_on_or_after", "session_not_on_or_after"):
        values[key] = datetime.fromisoformat(values[key]) if values[key] else None
    values["attributes"] = {k: tuple(v) for k, v in values["attributes"].items()}
    values["audiences"] = tuple(values["audiences"])
    return VerifiedAssertion(**values)
