"""The browser routes, as a thin layer over :class:`~connectfed.web.signin.BrowserSignin`.

GET / (a page about this server, for a browser only: see :func:`wants_page`), GET /saml (what
the endpoint is for), POST /saml and /<region>/saml, POST /saml/choose, GET /connect/federate/<id>,
GET and POST /connect/<id>/auth/sign-in, GET /connect/<id>/auth/authorize (and /auth/authorize,
/connect/auth/authorize), GET /connect/<id>/login, GET and POST /connect/<id>/logout (and
/logout, and /connect/logout: Amazon Connect's logout URL, ``https://<instance>/connect/logout``),
GET /connect/<id>/...,
and with the test IdP: GET /idp, /idp/metadata, /idp/login.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import parse_qs

from connectfed.web import pages
from connectfed.web.signin import CONSOLE_COOKIE, SESSION_COOKIE, BrowserSignin, Outcome
from connectfed.web.testidp_site import TestIdpSite

HTML = "text/html; charset=utf-8"
JSON = "application/json"
_AUTHORIZE = re.compile(r"^/(?:connect/)?auth/authorize/?$")
_INSTANCE_POSTS = ("/auth/sign-in", "/logout")
_INSTANCE = re.compile(r"^/connect/([A-Za-z0-9_.:-]{1,100})(/.*)?$")
_FEDERATE = re.compile(r"^/connect/federate/([A-Za-z0-9_.:-]{1,100})/?$")
# The sign-out paths without an instance in them: the session cookie names the session.
# ``/connect/logout`` is Amazon Connect's logout URL (``https://<alias>.my.connect.aws/connect/
# logout``), which custom agent desktops fetch with credentials to sign the agent out.
_LOGOUTS = ("/logout", "/connect/logout")
_SAML = re.compile(r"^/(?:[a-z]{2}(?:-[a-z]+)+-\d/)?saml/?$")
_SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


MAX_FORM_FIELDS = 20


def form_fields(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body: the first value of each name (``{}`` for
    a body that is not UTF-8 or has more than :data:`MAX_FORM_FIELDS` fields). ``parse_qs``
    rather than a hand-written parser: one measured ~22 µs faster on a sign-in's 5 KB form,
    under 1 % of the sign-in."""
    try:
        parsed = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in parsed.items()}


def _cookie(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """The first cookie called ``name``, read as browsers send cookies (RFC 6265 §5.4:
    ``name=value`` pairs separated by ``;``). Not ``http.cookies.SimpleCookie``: it stops at the
    first pair it cannot parse and drops every pair after it, and browsers send whatever a page
    set (JSON, spaces, a name without ``=``). Cookies belong to a host, not a port, so an agent
    desktop on another port of the CCP's host sends its own cookies here too, and one of them
    hid the session cookie: the CCP showed signed out, and sign-out did not end the session."""
    for key, value in headers:
        if key.lower() != "cookie":
            continue
        for pair in value.split(";"):
            found, equals, content = pair.partition("=")
            if equals and found.strip() == name:
                content = content.strip()
                if len(content) >= 2 and content[0] == content[-1] == '"':
                    content = content[1:-1]
                return content
    return None


def wants_page(method: str, headers: Sequence[tuple[str, str]], raw_query: str) -> bool:
    """A browser opening the server's root, not an AWS API call: a GET (or HEAD) that accepts
    HTML and carries nothing of SigV4 (no ``Authorization``, no ``X-Amz-*`` header or query
    parameter) and no awsQuery ``Action``. Every other request to ``/`` is the API's, and gets
    the answer AWS gives (e.g. ``MissingAuthenticationToken``)."""
    if method not in ("GET", "HEAD"):
        return False
    accepts_html = False
    for name, value in headers:
        lower = name.lower()
        if lower == "authorization" or lower.startswith("x-amz-"):
            return False
        if lower == "accept" and "text/html" in value.lower():
            accepts_html = True
    query = raw_query.lower()
    return accepts_html and "x-amz-" not in query and "action=" not in query


class WebResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def _page(status: int, html: str, extra: dict[str, str] | None = None) -> WebResponse:
    return WebResponse(
        status, {"Content-Type": HTML, **_SECURITY_HEADERS, **(extra or {})}, html.encode()
    )


def _respond(outcome: Outcome) -> WebResponse:
    headers = {"Content-Type": HTML if outcome.json is None else JSON, **_SECURITY_HEADERS}
    if outcome.location:
        headers["Location"] = outcome.location
    if outcome.cookie:
        headers["Set-Cookie"] = outcome.cookie
    body = outcome.html if outcome.json is None else outcome.json
    return WebResponse(outcome.status, headers, (body or "").encode())


class WebRoutes:
    def __init__(self, signin: BrowserSignin, idp: TestIdpSite | None, secure: bool) -> None:
        self._signin = signin
        self._sessions = signin.sessions
        self._idp = idp
        self._secure = secure
        settings = signin.settings
        self._site = pages.Site(settings.public_url, settings.region, idp is not None)

    def handles(
        self, method: str, path: str, headers: Sequence[tuple[str, str]] = (), raw_query: str = ""
    ) -> bool:
        if path == "/":
            return wants_page(method, headers, raw_query)
        return bool(
            _SAML.match(path)
            or path == "/saml/choose"
            or path.startswith("/idp")
            or (_INSTANCE.match(path) and method == "GET")
            or _AUTHORIZE.match(path)
            or path in _LOGOUTS
            or (method == "POST" and self._instance_post(path))
        )

    @staticmethod
    def _instance_post(path: str) -> bool:
        match = _INSTANCE.match(path)
        return match is not None and match.group(2) in _INSTANCE_POSTS

    def handle(
        self,
        method: str,
        path: str,
        raw_query: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        request_id: str | None = None,
    ) -> WebResponse:
        """``request_id``: the edge's id of this request, under which a denial is explained."""
        query = {k: v[0] for k, v in parse_qs(raw_query).items()}
        if path == "/":
            return _page(200, pages.home_page(self._site))
        if _SAML.match(path):
            if method in ("GET", "HEAD"):
                return _page(200, pages.saml_endpoint_page(self._site))
            if method != "POST":
                return _page(405, pages.saml_endpoint_page(self._site), {"Allow": "POST"})
            form = form_fields(body)
            return _respond(
                self._signin.post_saml(
                    form.get("SAMLResponse"),
                    form.get("RelayState"),
                    request_id,
                    _cookie(headers, CONSOLE_COOKIE),
                )
            )
        if path == "/saml/choose":
            form = form_fields(body)
            return _respond(
                self._signin.choose(
                    form.get("state"),
                    form.get("role"),
                    request_id,
                    _cookie(headers, CONSOLE_COOKIE),
                )
            )
        if path.startswith("/idp"):
            return self._idp_page(path, query)
        if _AUTHORIZE.match(path):
            return self._authorize(method, headers, None)
        if path in _LOGOUTS:
            return _respond(self._sessions.logout(_cookie(headers, SESSION_COOKIE)))
        federate = _FEDERATE.match(path)
        if federate is not None:
            return _respond(
                self._signin.federate_step(
                    _cookie(headers, CONSOLE_COOKIE),
                    federate.group(1),
                    query.get("destination"),
                    request_id,
                )
            )
        match = _INSTANCE.match(path)
        assert match is not None
        instance_id, rest = match.group(1), match.group(2) or "/"
        if rest == "/auth/sign-in" and method == "POST":
            form = form_fields(body)
            return _respond(
                self._sessions.sign_in_with_credentials(
                    instance_id,
                    form.get("credentials"),
                    form.get("destination"),
                    _cookie(headers, SESSION_COOKIE),
                )
            )
        if rest == "/auth/sign-in":
            return _respond(
                self._sessions.sign_in_with_code(
                    instance_id,
                    query.get("code"),
                    query.get("destination"),
                    _cookie(headers, SESSION_COOKIE),
                )
            )
        if rest == "/auth/authorize":
            return self._authorize(method, headers, instance_id)
        if rest == "/logout":
            return _respond(self._sessions.logout(_cookie(headers, SESSION_COOKIE)))
        if rest in ("/login", "/login/"):
            return _respond(
                self._sessions.login(
                    instance_id, _cookie(headers, SESSION_COOKIE), self._idp is not None
                )
            )
        return _respond(
            self._sessions.instance_page(instance_id, _cookie(headers, SESSION_COOKIE), rest)
        )

    def _authorize(
        self, method: str, headers: Sequence[tuple[str, str]], instance_id: str | None
    ) -> WebResponse:
        if method != "GET":
            return WebResponse(
                405,
                {"Allow": "GET", "Content-Type": JSON},
                b'{"message": "Method not allowed: /auth/authorize answers GET"}',
            )
        return _respond(self._sessions.authorize(_cookie(headers, SESSION_COOKIE), instance_id))

    def _idp_page(self, path: str, query: dict[str, str]) -> WebResponse:
        if self._idp is None:
            return _page(
                404,
                pages.error_page(
                    "No test IdP",
                    "The built-in test identity provider is not running on this server.",
                    hints=[
                        "Start the demo with it: `scripts/demo --test-idp` (or "
                        "`connectfed serve --demo --test-idp`)."
                    ],
                ),
            )
        if path in ("/idp", "/idp/"):
            return _page(200, self._idp.index())
        if path == "/idp/metadata":
            return WebResponse(
                200, {"Content-Type": "application/samlmetadata+xml"}, self._idp.metadata().encode()
            )
        if path == "/idp/login":
            page = self._idp.login(query.get("user", ""))
            if page is None:
                return _page(
                    404,
                    pages.error_page(
                        "Unknown user",
                        "The test IdP has no such user.",
                        hints=["Pick one at `/idp`."],
                    ),
                )
            return _page(200, page)
        return _page(404, pages.error_page("Not found", "The test IdP has no such page."))
