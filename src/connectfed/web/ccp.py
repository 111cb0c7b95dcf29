"""The Contact Control Panel (CCP) at ``<public>/connect/<instance-id>/ccp-v2/``, its shared
worker, and the static files (Streams' bundle served from the installed npm package).

The page is what ``connect.core.initCCP`` frames on an integrator's page, and works on its own:
its script gets the agent's tokens from the session (``<base>/auth/authorize``) and starts
Streams' shared worker with ``connect.core.initSharedWorker``, whose conduit bridges the worker
and the embedding page (SYNCHRONIZE/ACKNOWLEDGE, agent updates, API requests). The worker
script loads the unmodified ``connect-streams.js`` and runs ``connect.worker.main()``; the
worker URL is per instance so two instances never share a worker.

Framing: the page sends ``Content-Security-Policy: frame-ancestors`` from the settings (no
``X-Frame-Options``); all other pages keep ``DENY``. The page holds no token: they live in the
worker and in the HTTP-only session cookie.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from importlib import resources
from pathlib import Path

from connectfed.web import pages
from connectfed.wire.dispatch import Response

STATIC_PREFIX = "/_connectfed/static/"
STREAMS_FILE = "connect-streams.js"
MISSING = (
    "amazon-connect-streams not installed: run scripts/bootstrap, or point --streams-dir "
    "(CONNECTFED_STREAMS_DIR) at an npm install of it"
)
_PAGE = re.compile(r"^/connect/([A-Za-z0-9_.:-]{1,100})/ccp-v2/?$")
_WORKER = re.compile(r"^/connect/([A-Za-z0-9_.:-]{1,100})/ccp-v2/worker\.js$")
# Streams' initCCP with ``storageAccess: {canRequest: true}`` frames ``<ccpUrl>/request-storage-
# access`` first (a ccpUrl ending in "/" gives "//").
_STORAGE = re.compile(r"^/connect/([A-Za-z0-9_.:-]{1,100})/ccp-v2/+request-storage-access/?$")
_JS = "text/javascript; charset=utf-8"
_OWN_STATIC = {
    "ccp.js": _JS,
    "ccp-worker.js": _JS,
    "ccp-storage-access.js": _JS,
    "ccp.css": "text/css; charset=utf-8",
}
_COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


@dataclass(frozen=True, slots=True)
class CcpOptions:
    region: str
    streams_dir: Path | None  # None: not installed
    frame_ancestors: str  # the CSP source list, e.g. "'self'" or "*"
    test_idp: bool
    cookie_name: str
    # Whether this server has the instance (None: do not check); an unknown one gets a 404
    # "unknown instance" page instead of a CCP that can never sign in.
    instance_exists: Callable[[str], bool] | None = None


def _page(instance_id: str, options: CcpOptions) -> str:
    base = f"/connect/{escape(instance_id)}"
    if options.test_idp:
        signin = (
            'Sign in through the <a href="/idp">test identity provider</a>, or open the '
            "<code>SignInUrl</code> that GetFederationToken returns."
        )
    else:
        signin = (
            "Open the <code>SignInUrl</code> that GetFederationToken returns, or sign in "
            "through your identity provider (SAML RelayState "
            f"<code>{base}</code> via <code>/connect/federate/{escape(instance_id)}"
            "?destination=/ccp-v2</code>)."
        )
    missing = "" if options.streams_dir else f'<p id="error" class="error">{MISSING}</p>'
    scripts = (
        ""
        if not options.streams_dir
        else (
            f'<script src="{STATIC_PREFIX}{STREAMS_FILE}"></script>'
            f'<script src="{STATIC_PREFIX}ccp.js"></script>'
        )
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>Amazon Connect CCP</title><link rel="stylesheet" href="{STATIC_PREFIX}ccp.css">'
        "</head><body>"
        f'<main id="ccp" data-instance="{escape(instance_id)}"'
        f' data-region="{escape(options.region)}"'
        f' data-worker="{base}/ccp-v2/worker.js" data-api="{base}/api"'
        f' data-authorize="{base}/auth/authorize" data-logout="{base}/logout"'
        f' data-cookie="{escape(options.cookie_name)}">'
        '<h1 id="title">Contact Control Panel</h1>'
        f'{missing}<p id="status" class="muted">Connecting…</p>'
        '<section id="agent" hidden>'
        '<p id="name" class="name"></p><p id="user" class="muted"></p>'
        '<label for="state">Status</label> <select id="state"></select>'
        '<p id="state-error" class="error" hidden></p>'
        '<dl><dt>Routing profile</dt><dd id="profile"></dd>'
        '<dt>Queues</dt><dd><ul id="queues"></ul></dd>'
        '<dt>Session expires</dt><dd id="expires"></dd></dl>'
        f'<form id="signout" method="post" action="{base}/logout">'
        '<button type="submit">Sign out</button></form>'
        "</section>"
        f'<section id="signed-out" hidden><p>You are not signed in.</p><p>{signin}</p></section>'
        f"</main>{scripts}</body></html>"
    )


def _storage_access_page(instance_id: str) -> str:
    """The request-storage-access page (``static/ccp-storage-access.js`` says what it does)."""
    ccp = f"/connect/{escape(instance_id)}/ccp-v2/"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>Amazon Connect CCP</title><link rel="stylesheet" href="{STATIC_PREFIX}ccp.css">'
        f'</head><body><main id="rsa" data-ccp="{ccp}" hidden>'
        '<h1 id="title">Contact Control Panel</h1>'
        "<p>The Contact Control Panel needs its cookies in this page to keep you signed in.</p>"
        '<button id="allow" type="button">Allow</button></main>'
        f'<script src="{STATIC_PREFIX}ccp-storage-access.js"></script></body></html>'
    )


class CcpSite:
    """GET routes of the CCP: page, worker, static files."""

    def __init__(self, options: CcpOptions) -> None:
        self._options = options

    def handles(self, method: str, path: str) -> bool:
        return method in ("GET", "HEAD") and bool(
            path.startswith(STATIC_PREFIX)
            or _PAGE.match(path)
            or _WORKER.match(path)
            or _STORAGE.match(path)
        )

    def handle(self, path: str) -> Response:
        page = _PAGE.match(path)
        found = page or _STORAGE.match(path)
        if found is not None:
            instance_id = found.group(1)
            known = self._options.instance_exists
            if known is not None and not known(instance_id):
                return Response(
                    404,
                    {
                        "Content-Type": "text/html; charset=utf-8",
                        "Cache-Control": "no-store",
                        **_COMMON,
                    },
                    pages.unknown_instance_page(instance_id).encode(),
                )
            ancestors = self._options.frame_ancestors
            headers = {
                "Content-Type": "text/html; charset=utf-8",
                "Cache-Control": "no-store",
                "Content-Security-Policy": f"frame-ancestors {ancestors}",
                **_COMMON,
            }
            html = (
                _page(instance_id, self._options)
                if page is not None
                else _storage_access_page(instance_id)
            )
            return Response(200, headers, html.encode())
        name = "ccp-worker.js" if _WORKER.match(path) else path[len(STATIC_PREFIX) :]
        if name == STREAMS_FILE:
            return self._streams()
        if name in _OWN_STATIC:
            body = resources.files("connectfed.web").joinpath("static", name).read_bytes()
            return Response(
                200,
                {"Content-Type": _OWN_STATIC[name], "Cache-Control": "no-cache", **_COMMON},
                body,
            )
        return _not_found()

    def _streams(self) -> Response:
        if self._options.streams_dir is None:
            return Response(
                503, {"Content-Type": "text/plain; charset=utf-8", **_COMMON}, MISSING.encode()
            )
        path = self._options.streams_dir / "release" / STREAMS_FILE
        try:
            body = path.read_bytes()
        except OSError:
            return Response(
                503, {"Content-Type": "text/plain; charset=utf-8", **_COMMON}, MISSING.encode()
            )
        return self._script(body, "public, max-age=3600")

    @staticmethod
    def _script(body: bytes, cache: str) -> Response:
        return Response(
            200,
            {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": cache, **_COMMON},
            body,
        )


def _not_found() -> Response:
    return Response(404, {"Content-Type": "text/plain; charset=utf-8", **_COMMON}, b"Not found")


def default_streams_dir() -> Path:
    """``web-assets/node_modules/amazon-connect-streams`` of the source tree (scripts/bootstrap
    installs it there); ``--streams-dir`` / ``CONNECTFED_STREAMS_DIR`` point elsewhere."""
    return (
        Path(__file__).resolve().parents[3]
        / "web-assets"
        / "node_modules"
        / "amazon-connect-streams"
    )
