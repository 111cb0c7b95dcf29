"""GET <base>/auth/authorize: the session cookie -> a fresh access token, as Streams reads it.

# TEMP until merge of branch connectdata/tokens: the tokens helper owns this route; this
# stand-in only lets the CTI branch's browser tests run. Replace wholesale.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from connectfed.connect.agent_sessions import AgentSessions, TokenRejected
from connectfed.web.routes import _cookie
from connectfed.web.signin import SESSION_COOKIE
from connectfed.wire.dispatch import Response

_PATH = re.compile(r"^(?:/connect/([A-Za-z0-9_.:-]{1,100}))?(?:/connect)?/auth/authorize$")


def handles(method: str, path: str) -> bool:
    return method == "GET" and bool(_PATH.match(path))


def authorize(sessions: AgentSessions, path: str, headers: Sequence[tuple[str, str]]) -> Response:
    match = _PATH.match(path)
    cookie = _cookie(headers, SESSION_COOKIE)
    json_headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    refused = Response(401, json_headers, b'{"message":"Not signed in"}')
    if match is None or cookie is None:
        return refused
    try:
        access = sessions.authorize_browser(cookie, match.group(1))
    except TokenRejected:
        return refused
    body = {"accessToken": access.access_token,
            "expiration": int(access.access_expires.timestamp() * 1000)}
    return Response(200, json_headers, json.dumps(body).encode())
