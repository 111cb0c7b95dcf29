"""The browser sign-in flow, free of HTTP.

POST /saml: verify the SAMLResponse against the provider its Role attribute names (pinned
certificates only), accept it once (the SAML profile's MUST, atomic across processes), then
either continue with its single role or offer a role chooser. With a RelayState of
``…/connect/federate/<instance-id>?destination=…`` the new role session calls
GetFederationToken and the browser is sent to the instance's sign-in URL, which spends a
single-use code and sets an HTTP-only session cookie (:mod:`connectfed.web.sessions`).
The console's role session is a ``console`` token (:class:`~connectfed.tokens.TokenService`)
in a family whose horizon is the role session's expiry.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
import secrets
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from connectfed.api.errors import aws_error
from connectfed.audit.log import DISCARD, AuditLog
from connectfed.clock import Clock
from connectfed.connect.errors import ConnectError
from connectfed.connect.federation import ConnectUserNotFound, FederationService, RoleAlreadyBound
from connectfed.connect.instances import InstanceService
from connectfed.errors import ServiceError
from connectfed.identity.assume_saml import AssumeRoleWithSaml
from connectfed.identity.credentials import CredentialResolver
from connectfed.identity.errors import IdentityError
from connectfed.identity.principal import Origin, Principal
from connectfed.identity.providers import SamlProviderService
from connectfed.identity.saml_audit import console_login_event
from connectfed.identity.saml_refusal import refusal_reason
from connectfed.saml.assertion import AssertionRejected, VerifiedAssertion
from connectfed.saml.envelope import parse_response
from connectfed.settings import Settings
from connectfed.store import Store
from connectfed.tokens import FamilyOwner, TokenKind, TokenRejected, TokenService
from connectfed.web import cookies, pages
from connectfed.web import destination as destinations
from connectfed.web.outcome import Outcome
from connectfed.web.outcome import error as _error
from connectfed.web.sessions import BrowserSessions

log = logging.getLogger("connectfed.saml")

MAX_SAML_RESPONSE = 100_000
FEDERATE_PATH = re.compile(r"/connect/federate/([A-Za-z0-9_.:-]{1,100})/?$")
SESSION_COOKIE = cookies.SESSION_COOKIE
CONSOLE_COOKIE = cookies.CONSOLE_COOKIE
__all__ = ["CONSOLE_COOKIE", "SESSION_COOKIE", "BrowserSignin", "Outcome"]


def _bad_destination() -> Outcome:
    return _error(400, "Bad destination", destinations.MESSAGE)


class BrowserSignin:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        settings: Settings,
        providers: SamlProviderService,
        assume_saml: AssumeRoleWithSaml,
        resolver: CredentialResolver,
        federation: FederationService,
        instances: InstanceService,
        tokens: TokenService,
        state_key: bytes,
        sessions: BrowserSessions,
        audit: AuditLog = DISCARD,
    ) -> None:
        self._audit = audit
        self._secure = settings.public_url.startswith("https:")
        self._store = store
        self._clock = clock
        self._settings = settings
        self._providers = providers
        self._assume = assume_saml
        self._resolver = resolver
        self._federation = federation
        self._instances = instances
        self._tokens = tokens
        self._state_key = state_key  # keyed hashes of pending role-chooser states
        self.sessions = sessions  # where the flow ends: the browser's session in the instance

    @property
    def settings(self) -> Settings:
        return self._settings

    # -- POST /saml --------------------------------------------------------------------------
    def explain_url(self, request_id: str | None) -> str | None:
        """Where the explanation of a refused request is shown: in demo/admin mode only."""
        if not self._settings.admin or not request_id:
            return None
        return f"/_connectfed/explain/{quote(request_id, safe='')}"

    def post_saml(
        self,
        saml_response: str | None,
        relay_state: str | None,
        request_id: str | None = None,
        replacing: str | None = None,
    ) -> Outcome:
        """``replacing``: the console cookie the browser sent, ended once a new one is set."""
        if not saml_response or len(saml_response) > MAX_SAML_RESPONSE:
            return self._refused(
                400,
                "Bad SAML response",
                "The SAMLResponse is missing or too large.",
                "missing_or_large",
            )
        try:
            document = base64.b64decode(saml_response.strip(), validate=True)
        except (binascii.Error, ValueError):
            return self._refused(
                400, "Bad SAML response", "The SAMLResponse is not valid base64.", "not_base64"
            )
        try:  # checked before the assertion is spent
            target = _federate_target(relay_state)
        except ValueError:
            return _error(400, "Bad RelayState", "The RelayState is not a valid URL.")
        if target is not None and not destinations.acceptable(target[1]):
            return _bad_destination()
        verified, provider, reason, kind = self._verify(document)
        if verified is None:
            return self._refused(400, "Bad SAML response", reason, kind)
        roles = [r for r, p in self._assume.role_pairs(verified) if p == provider.arn]
        if len(roles) == 1:  # the assertion is spent with the session's writes
            return self._complete(
                verified,
                provider.arn,
                roles[0],
                target,
                request_id,
                spend=True,
                replacing=replacing,
            )
        if not self._assume.remember(verified):
            return self._replayed(verified, provider.arn)
        if not roles:
            return self._refused(
                403,
                "Access denied",
                "The SAML response names no role for this identity provider.",
                "role_not_offered",
                verified=verified,
                provider_arn=provider.arn,
            )
        state = secrets.token_urlsafe(32)
        payload = json.dumps(
            {
                "verified": _dump(verified),
                "provider": provider.arn,
                "roles": roles,
                "relay": relay_state,
            }
        )
        self._store.put_signin_state(
            self._digest(state), payload, verified.not_on_or_after.timestamp()
        )
        return Outcome(200, pages.role_chooser(state, roles))

    def _replayed(self, verified: VerifiedAssertion, provider_arn: str) -> Outcome:
        return self._refused(
            400,
            "Bad SAML response",
            "This SAML response has already been used.",
            "replayed",
            verified=verified,
            provider_arn=provider_arn,
        )

    def _refused(
        self,
        status: int,
        title: str,
        message: str,
        reason: str | None,
        *,
        verified: VerifiedAssertion | None = None,
        provider_arn: str | None = None,
        role_arn: str | None = None,
        explain_url: str | None = None,
    ) -> Outcome:
        """An error page for a sign-in that failed, recorded as a failed ConsoleLogin."""
        self._audit.record(
            console_login_event(
                verified=verified,
                provider_arn=provider_arn,
                role_arn=role_arn,
                failure=message,
                reason=reason,
            )
        )
        return _error(status, title, message, explain_url)

    def _verify(self, document: bytes) -> tuple[VerifiedAssertion | None, Any, str, str]:
        """(assertion, provider record, "", "") when a provider accepts the response, else
        (None, None, message, rejection reason)."""
        try:  # parsed once: for the hints and for every provider tried (issue 9)
            response = parse_response(document)
        except AssertionRejected as exc:  # not a SAML 2.0 Response at all
            return None, None, str(exc), exc.reason
        reason = "No registered identity provider accepts this SAML response."
        kind = "unknown_provider"
        named_any = False
        for arn in self._providers.candidates(response):
            named_any = True
            trusted = self._providers.trusted(arn)
            if trusted is None:
                continue
            try:
                verified = self._providers.verify(trusted, response)
            except AssertionRejected as exc:
                log.warning(
                    "browser sign-in rejected an assertion for %s (%s): %s",
                    arn,
                    exc.reason,
                    exc.detail or exc,
                )
                reason, kind = str(exc), exc.reason
                continue
            return verified, trusted.record, "", ""
        if not named_any:
            return (
                None,
                None,
                "The SAML response names no registered identity provider (in "
                "its Role attribute or its Issuer).",
                "unknown_provider",
            )
        return None, None, reason, kind

    # -- POST /saml/choose -------------------------------------------------------------------
    def choose(
        self,
        state: str | None,
        role_arn: str | None,
        request_id: str | None = None,
        replacing: str | None = None,
    ) -> Outcome:
        if not state or not role_arn:
            return _error(400, "Bad request", "Choose a role to continue.")
        payload = self._store.take_signin_state(self._digest(state), self._clock.now().timestamp())
        if payload is None:
            return _error(
                400,
                "Sign-in expired",
                "This sign-in has expired or was already "
                "used. Sign in again at your identity provider.",
            )
        data = json.loads(payload)
        if role_arn not in data["roles"]:
            return self._refused(
                403,
                "Access denied",
                "That role was not offered by your identity provider.",
                "role_not_offered",
                provider_arn=data["provider"],
            )
        # The RelayState was checked when the response was posted, before it was stored.
        target = _federate_target(data["relay"])
        return self._complete(
            _load(data["verified"]),
            data["provider"],
            role_arn,
            target,
            request_id,
            replacing=replacing,
        )

    # -- the rest of the flow ------------------------------------------------------------------
    def _complete(
        self,
        verified: VerifiedAssertion,
        provider_arn: str,
        role_arn: str,
        target: tuple[str, str] | None,
        request_id: str | None = None,
        *,
        spend: bool = False,
        replacing: str | None = None,
    ) -> Outcome:
        """The role session of a sign-in, its console token and the cookie. With ``spend``
        the assertion is accepted here, once (else it was when the role chooser was shown).
        ``target`` is the RelayState's (instance id, destination), parsed once by the caller
        (issue 9: the sign-in parsed it twice).

        The sign-in's writes (the assertion's first use, the STS session, the console token's
        family) go to the store in one transaction (:meth:`Store.create_signin`), after every
        check: a replay, even a concurrent one, writes nothing and is refused. A refused
        sign-in still spends its assertion, and a replayed one is refused as a replay first,
        as when the assertion was remembered before the checks.

        The console cookie set here takes the place of ``replacing`` (the one the browser
        sent, signed in before): that role session's console token ends, so a copy of the old
        cookie can no longer federate (as a replaced instance session ends, see
        :meth:`BrowserSessions.sign_in_with_code`)."""
        trusted = self._providers.trusted(provider_arn)

        def refused(
            status: int,
            title: str,
            message: str,
            reason: str | None,
            explain_url: str | None = None,
        ) -> Outcome:
            if spend and not self._assume.remember(verified):
                return self._replayed(verified, provider_arn)
            return self._refused(
                status,
                title,
                message,
                reason,
                verified=verified,
                provider_arn=provider_arn,
                role_arn=role_arn,
                explain_url=explain_url,
            )

        if trusted is None:
            return refused(
                403,
                "Access denied",
                "The identity provider is no longer trusted.",
                "unknown_provider",
            )
        try:
            record, issued = self._assume.prepare(
                verified, trusted.record, role_arn, origin=Origin(request_id=request_id)
            )
        except (ServiceError, IdentityError) as exc:
            error = aws_error(exc)
            return refused(
                403 if error.status == 403 else 400,
                "Access denied",
                error.message,
                refusal_reason(exc),
                self.explain_url(request_id),
            )
        principal = issued.session.principal
        key_id = principal.access_key_id
        assert principal.session_expiration is not None
        now = self._clock.now()
        try:
            family_record, family = self._tokens.prepare_family(
                FamilyOwner("", "", key_id, principal.role_arn),
                principal.session_expiration,
                {TokenKind.CONSOLE: principal.session_expiration - now},
            )
        except TokenRejected:
            return refused(401, "Session expired", "The role session has already ended.", None)
        use = self._assume.use_of(verified) if spend else None
        if not self._store.create_signin(record, family_record, use):
            return self._replayed(verified, provider_arn)
        self._audit.record(
            console_login_event(session=principal, provider_arn=provider_arn, role_arn=role_arn)
        )
        if replacing:
            self._tokens.retire(
                replacing, TokenKind.CONSOLE, "signed-in-again", keep_family=family.family_id
            )
        console = family.tokens[TokenKind.CONSOLE]
        cookie = cookies.console_cookie(
            console.token, cookies.max_age(console.expires, now), self._secure
        )
        if target is None:
            return Outcome(200, pages.console_page(principal.arn), cookie=cookie)
        instance_id, destination = target
        # As the AWS console does: the browser goes on to /connect/federate/<instance-id>,
        # where its role session calls GetFederationToken.
        return Outcome(
            303,
            location=f"/connect/federate/{instance_id}?destination={quote(destination, safe='')}",
            cookie=cookie,
        )

    # -- GET /connect/federate/<instance-id> -------------------------------------------------
    def federate_step(
        self,
        console_token: str | None,
        instance_id: str,
        destination: str | None,
        request_id: str | None = None,
    ) -> Outcome:
        if not destinations.acceptable(destination):
            return _bad_destination()  # before GetFederationToken mints a sign-in code
        unknown = self.sessions.unknown_instance(instance_id)
        if unknown is not None:
            return unknown
        grant = None
        if console_token:
            try:
                grant = self._tokens.verify(console_token, TokenKind.CONSOLE)
            except TokenRejected:
                grant = None
        if grant is None or grant.session_key_id is None:
            return _error(401, "Session expired", "Sign in through your identity provider first.")
        try:
            principal = self._resolver.principal_of_session(grant.session_key_id)
        except ServiceError:
            return _error(401, "Session expired", "Your session has ended.")
        principal = replace(principal, origin=replace(principal.origin, request_id=request_id))
        return self.federate(principal, instance_id, destination or "/ccp-v2/")

    def federate(self, principal: Principal, instance_id: str, destination: str) -> Outcome:
        try:
            result = self._federation.federate(principal, instance_id)
        except RoleAlreadyBound as exc:
            return _already_bound(exc, principal)
        except ConnectUserNotFound:
            return _error(
                403,
                "Access denied",
                f"User {principal.session_name} has not been onboarded to this application.",
                self.explain_url(principal.origin.request_id),
                hints=[
                    f"The role session name (`{principal.session_name}`) must "
                    "be the username of a Connect user of this instance: an "
                    "administrator can create one with `aws connect "
                    "create-user`."
                ],
            )
        except (ServiceError, ConnectError) as exc:
            why = self.explain_url(principal.origin.request_id)
            error = aws_error(exc)
            if error.status == 403:
                return _error(
                    403,
                    "Access denied",
                    f"The role session `{principal.arn}` may not call "
                    f"`connect:GetFederationToken` on instance `{instance_id}`.",
                    why,
                    hints=["An administrator can allow it with a policy on the session's role."],
                )
            return _error(error.status, "Sign-in failed", error.message, why)
        location = f"{result.sign_in_url}&destination={quote(destination, safe='')}"
        return Outcome(303, location=location)

    def _digest(self, state: str) -> str:
        return hmac.digest(self._state_key, state.encode(), "sha256").hex()


def _already_bound(exc: RoleAlreadyBound, principal: Principal) -> Outcome:
    role = principal.role_arn or principal.arn
    if role in exc.bound_roles:  # bound by unique id: a role deleted and created again
        bound = f"`{role}` as it was before it was deleted and created again (a new role)"
    else:
        bound = ", ".join(f"`{arn}`" for arn in exc.bound_roles) or "another role"
    return _error(
        409,
        "Already bound to another role",
        f"The Amazon Connect user `{exc.username}` is already bound to the role "
        f"{bound}, so it cannot also sign in through the role `{role}`.",
        hints=[
            "Each Connect user signs in through one role, as on AWS: sign in again "
            "and choose the role bound to this user. To let a user sign in through "
            "several roles, start the server with "
            "`--allow-multiple-roles-per-user`."
        ],
    )


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
