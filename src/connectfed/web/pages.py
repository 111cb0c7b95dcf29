"""HTML pages. Every value is escaped; no page includes a token except in an HTTP-only cookie
or a single-use form field."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;color:#222}"
          "h1{font-size:1.4rem}button{padding:.4rem 1rem}.muted{color:#666}")


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body>{body}</body></html>")


def error_page(title: str, message: str, explain_url: str | None = None) -> str:
    """``explain_url`` (demo/admin mode only) links to the explanation of the request."""
    link = (f'<p class="muted" id="explain"><a href="{escape(explain_url)}">Why? See what the '
            'server decided, step by step</a></p>' if explain_url else "")
    return _page(title, f'<h1 id="title">{escape(title)}</h1>'
                        f'<p id="message">{escape(message)}</p>{link}')


def role_chooser(state: str, roles: Sequence[str]) -> str:
    options = "".join(
        f'<li><label><input type="radio" name="role" value="{escape(role)}"'
        f'{" checked" if i == 0 else ""}> {escape(role)}</label></li>'
        for i, role in enumerate(roles)
    )
    return _page("Select a role", (
        '<h1 id="title">Select a role</h1><form method="post" action="/saml/choose">'
        f'<input type="hidden" name="state" value="{escape(state)}"><ul>{options}</ul>'
        '<button id="signin" type="submit">Sign in</button></form>'))


def console_page(arn: str) -> str:
    return _page("Signed in", f'<h1 id="title">Signed in</h1><p id="identity">{escape(arn)}</p>')


def instance_page(alias: str | None, instance_id: str, username: str, destination: str) -> str:
    name = alias or instance_id
    return _page(f"Amazon Connect - {name}", (
        f'<h1 id="title">Amazon Connect - {escape(name)}</h1>'
        f'<p id="user">Signed in as <strong>{escape(username)}</strong></p>'
        f'<p class="muted" id="destination">{escape(destination)}</p>'))


def idp_users(entity_id: str, users: Sequence[tuple[str, str]]) -> str:
    rows = "".join(
        f'<li><a class="login" href="/idp/login?user={escape(user)}">{escape(user)}</a> '
        f'<span class="muted">{escape(relay)}</span></li>' for user, relay in users)
    return _page("connectfed test IdP", (
        f'<h1 id="title">connectfed test IdP</h1><p class="muted">{escape(entity_id)} '
        '(<a href="/idp/metadata">metadata</a>)</p>'
        f'<ul id="users">{rows}</ul>'))


def autopost(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                     for k, v in fields.items())
    return _page("Signing in", (
        f'<form id="post" method="post" action="{escape(action)}">{inputs}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        '<script>document.getElementById("post").submit()</script>'))


def signed_out_page() -> str:
    return _page("Signed out", '<h1 id="title">Signed out</h1>'
                               '<p id="message">You have signed out of Amazon Connect.</p>')
