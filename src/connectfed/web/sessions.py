"""The browser's session in an instance, free of HTTP framing.

Ways in, each ending in the HTTP-only session cookie (one instance, one user) and a redirect to
a path of this server (:mod:`connectfed.web.destination`, default ``<base>/ccp-v2/``):

- ``GET <base>/auth/sign-in?code=…`` — GetFederationToken's SignInUrl (single-use code).
- ``POST <base>/auth/sign-in`` — the documented older pattern: a form whose ``credentials``
  field is the JSON of GetFederationToken's four credential fields (``AccessToken``,
  ``AccessTokenExpiration``, ``RefreshToken``, ``RefreshTokenExpiration``; expirations in epoch
  milliseconds as AWS's sample sends them, seconds also accepted) and an optional
  ``destination``. The access token must be live and for this instance.
- ``/connect/federate/<id>`` (the console path) ends in the SignInUrl (see ``signin``).

Keeping it alive: ``GET <base>/auth/authorize`` (also ``/auth/authorize`` and
``/connect/auth/authorize``, which Streams' shared worker derives) returns fresh access as
Streams reads it: ``{"accessToken", "expiration", "refreshToken", "refreshTokenExpiration"}``
with ISO 8601 UTC times (Streams does ``new Date(response.expiration)``); without a live session
it answers 401, which Streams treats as auth failure (sign in again).

Ending it: ``<base>/logout`` (Streams' ``signOutThroughCCP`` fetches ``<ccp base>/logout`` with
credentials, and navigates there if the fetch fails) revokes the session's whole family and
clears the cookie. Signing in again in the same browser ends the session whose cookie the new
one replaces in the same way (only the old cookie when both are of one family): one browser
holds one session, and a copy of a replaced cookie never works again.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from connectfed import jsonsafe
from connectfed.clock import Clock
from connectfed.connect.agent_sessions import AgentSessions, BrowserSession
from connectfed.store import Store
from connectfed.tokens import TokenRejected
from connectfed.web import cookies, pages
from connectfed.web.destination import MESSAGE, acceptable, instance_destination
from connectfed.web.outcome import Outcome, error

MAX_CREDENTIALS = 4096
# Epoch values below this are seconds, above it milliseconds (1e11 s is the year 5138; 1e11 ms
# is March 1973): AWS's sample posts milliseconds, people also post seconds.
MILLISECONDS_FROM = 1e11


def _iso(moment: datetime) -> str:
    """The form JavaScript's ``Date.prototype.toISOString`` gives: ``2026-01-01T12:00:00.000Z``."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def parse_expiration(value: Any) -> datetime | None:
    """An expiration field of the posted credentials: epoch milliseconds (or seconds), as a
    number or a numeric string; ``None`` when absent; ValueError when malformed."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("not a number")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError("not a time")
    seconds = number / 1000 if number >= MILLISECONDS_FROM else number
    return datetime.fromtimestamp(seconds, UTC)


class BrowserSessions:
    def __init__(
        self, *, sessions: AgentSessions, store: Store, clock: Clock, public_url: str
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._clock = clock
        self._public_url = public_url
        self._secure = public_url.startswith("https:")

    def unknown_instance(self, instance_id: str) -> Outcome | None:
        """The "unknown instance" page when this server has no such instance, else None: a
        mistyped id is not an expired session."""
        if self._store.get_instance(instance_id) is not None:
            return None
        return Outcome(404, pages.unknown_instance_page(instance_id))

    # -- ways in -----------------------------------------------------------------------------------
    def sign_in_with_code(
        self,
        instance_id: str,
        code: str | None,
        destination: str | None,
        replacing: str | None = None,
    ) -> Outcome:
        """``replacing``: the session cookie the browser sent, ended once the new one is set."""
        if not acceptable(destination):
            return self._bad_destination()  # before the single-use code is spent
        unknown = self.unknown_instance(instance_id)
        if unknown is not None:
            return unknown
        if not code:
            return self._expired_link()
        try:
            session = self._sessions.sign_in_with_code(instance_id, code)
        except TokenRejected:
            return self._expired_link()
        return self._signed_in(session, destination, replacing)

    def sign_in_with_credentials(
        self,
        instance_id: str,
        credentials: str | None,
        destination: str | None,
        replacing: str | None = None,
    ) -> Outcome:
        if not acceptable(destination):
            return self._bad_destination()
        unknown = self.unknown_instance(instance_id)
        if unknown is not None:
            return unknown
        fields = _credentials(credentials)
        if fields is None:
            return error(
                400,
                "Bad sign-in request",
                "The credentials field must be the JSON of AccessToken, "
                "AccessTokenExpiration, RefreshToken and RefreshTokenExpiration.",
            )
        access, refresh = fields
        try:
            session = self._sessions.sign_in_with_tokens(instance_id, access, refresh)
        except TokenRejected:
            return error(
                401,
                "Session expired",
                "These credentials have expired or are not valid for this instance. Sign in again.",
            )
        return self._signed_in(session, destination, replacing)

    def _signed_in(
        self, session: BrowserSession, destination: str | None, replacing: str | None
    ) -> Outcome:
        if replacing:  # the cookie set below takes its place: end it, as sign-out would
            self._sessions.replace(replacing, session)
        seconds = cookies.max_age(session.expires, self._clock.now())
        location = instance_destination(session.instance_id, destination, self._public_url)
        return Outcome(
            303,
            location=location,
            cookie=cookies.session_cookie(session.token, seconds, self._secure),
        )

    @staticmethod
    def _bad_destination() -> Outcome:
        return error(400, "Bad destination", MESSAGE)

    @staticmethod
    def _expired_link() -> Outcome:
        return error(
            401, "Sign-in link expired", "This sign-in link has expired or was already used."
        )

    # -- keeping it alive --------------------------------------------------------------------------
    def authorize(self, session_cookie: str | None, instance_id: str | None) -> Outcome:
        if not session_cookie:
            return _unauthorized()
        try:
            access = self._sessions.authorize_browser(session_cookie, instance_id)
        except TokenRejected:
            return _unauthorized()
        return Outcome(
            200,
            json=json.dumps(
                {
                    "accessToken": access.access_token,
                    "expiration": _iso(access.access_expires),
                    "refreshToken": access.refresh_token,
                    "refreshTokenExpiration": _iso(access.refresh_expires),
                }
            ),
        )

    # -- ending it ---------------------------------------------------------------------------------
    def logout(self, session_cookie: str | None) -> Outcome:
        if session_cookie:
            self._sessions.sign_out(session_cookie)
        return Outcome(
            200, pages.signed_out_page(), cookie=cookies.clear_session_cookie(self._secure)
        )

    # -- the instance's login page -----------------------------------------------------------------
    def login(self, instance_id: str, session_cookie: str | None, test_idp: bool) -> Outcome:
        """``<base>/login`` (the ``loginUrl`` Streams' ``connect.agentApp`` derives from the CCP
        URL): a signed-in agent goes on to the CCP; anyone else gets a page saying how to sign
        in (200: a sign-in page, not an expired session)."""
        unknown = self.unknown_instance(instance_id)
        if unknown is not None:
            return unknown
        if session_cookie:
            try:
                self._sessions.browser_session(session_cookie, instance_id)
            except TokenRejected:
                pass
            else:
                return Outcome(
                    303, location=instance_destination(instance_id, None, self._public_url)
                )
        return Outcome(200, pages.login_page(instance_id, test_idp))

    # -- the instance's pages (until a page of its own takes the path) ----------------------------
    def instance_page(
        self, instance_id: str, session_cookie: str | None, destination: str
    ) -> Outcome:
        unknown = self.unknown_instance(instance_id)
        if unknown is not None:
            return unknown
        expired = error(401, "Session expired", "Your session has expired. Sign in again.")
        if not session_cookie:
            return expired
        try:
            grant = self._sessions.browser_session(session_cookie, instance_id)
        except TokenRejected:
            return expired
        user = self._store.get_connect_user(instance_id, grant.user_id)
        instance = self._store.get_instance(instance_id)
        if user is None or instance is None:
            return expired
        return Outcome(
            200, pages.instance_page(instance.alias, instance_id, user.username, destination)
        )


def _unauthorized() -> Outcome:
    return Outcome(401, json=json.dumps({"message": "Session expired or not signed in"}))


def _credentials(text: str | None) -> tuple[str, str | None] | None:
    """(AccessToken, RefreshToken) from the posted JSON; None when it is malformed."""
    if not text or len(text) > MAX_CREDENTIALS:
        return None
    try:
        data = jsonsafe.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    access, refresh = data.get("AccessToken"), data.get("RefreshToken")
    if not isinstance(access, str) or not isinstance(refresh, str | None):
        return None
    try:
        parse_expiration(data.get("AccessTokenExpiration"))
        parse_expiration(data.get("RefreshTokenExpiration"))
    except (ValueError, OverflowError, OSError):
        return None
    return access, refresh
