"""HTML pages. Every value is escaped; no page includes a token except in an HTTP-only cookie
or a single-use form field.

One small stylesheet (:data:`STYLE`) keeps every page readable on a 375 px phone screen: the
viewport is the device's, and long unbreakable values (role ARNs, URLs, instance ids) wrap
instead of running off the side.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from connectfed.saml.namespaces import ROLE_ATTRIBUTE, SESSION_NAME_ATTRIBUTE

STYLE = (
    "*{box-sizing:border-box}"
    "body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;"
    "color:#222;line-height:1.45;overflow-wrap:anywhere}"
    "h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}"
    "code{font-family:ui-monospace,monospace;font-size:.88em;background:#f3f3f3;"
    "padding:0 .2em;border-radius:3px}"
    "button{padding:.5rem 1.2rem;font-size:1rem}.muted{color:#666}"
    ".hint{background:#f4f6f8;border-left:3px solid #8a9bb0;padding:.5rem .75rem}"
    "ul.choices{list-style:none;padding:0}ul.choices li{margin:.6rem 0}"
    "ul.choices label{display:flex;gap:.6rem;align-items:flex-start}"
    ".role{font-weight:600}.arn{display:block;font-size:.85em;color:#555}"
    "dt{font-weight:600;margin-top:.8rem}dd{margin:.2rem 0 0}"
    "ul.users{padding-left:1.2rem}ul.users li{margin:.8rem 0}"
)
_CODE = re.compile(r"`([^`]+)`")


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def _text(text: str) -> str:
    """Escaped ``text`` in which `backquoted` parts are shown as code."""
    return _CODE.sub(r"<code>\1</code>", escape(text))


def error_page(
    title: str, message: str, explain_url: str | None = None, *, hints: Sequence[str] = ()
) -> str:
    """An error: a title, one message saying what happened, and optional hints saying what to
    do (each a paragraph; `backquoted` parts are code). ``explain_url`` (demo/admin mode only)
    links to the explanation of the request."""
    extra = "".join(f'<p class="hint">{_text(hint)}</p>' for hint in hints)
    link = (
        f'<p class="muted" id="explain"><a href="{escape(explain_url)}">Why? See what the '
        "server decided, step by step</a></p>"
        if explain_url
        else ""
    )
    return _page(
        title,
        f'<h1 id="title">{escape(title)}</h1><p id="message">{_text(message)}</p>{extra}{link}',
    )


def unknown_instance_page(instance_id: str) -> str:
    return error_page(
        "Unknown instance",
        f"This server has no Amazon Connect instance `{instance_id}`.",
        hints=[
            "Check the instance id in the address: `aws connect "
            "list-instances` lists the instances of this server."
        ],
    )


def _role_label(arn: str) -> str:
    name = arn.rsplit("/", 1)[-1]
    return f'<span class="role">{escape(name)}</span><span class="arn">{escape(arn)}</span>'


def role_chooser(state: str, roles: Sequence[str]) -> str:
    options = "".join(
        f'<li><label><input type="radio" name="role" value="{escape(role)}"'
        f"{' checked' if i == 0 else ''}><span>{_role_label(role)}</span></label></li>"
        for i, role in enumerate(roles)
    )
    return _page(
        "Select a role",
        (
            '<h1 id="title">Select a role</h1>'
            '<p class="muted">Your identity provider allows you these roles.</p>'
            '<form method="post" action="/saml/choose">'
            f'<input type="hidden" name="state" value="{escape(state)}">'
            f'<ul class="choices">{options}</ul>'
            '<button id="signin" type="submit">Sign in</button></form>'
        ),
    )


def console_page(arn: str) -> str:
    return _page("Signed in", f'<h1 id="title">Signed in</h1><p id="identity">{escape(arn)}</p>')


def instance_page(alias: str | None, instance_id: str, username: str, destination: str) -> str:
    name = alias or instance_id
    return _page(
        f"Amazon Connect - {name}",
        (
            f'<h1 id="title">Amazon Connect - {escape(name)}</h1>'
            f'<p id="user">Signed in as <strong>{escape(username)}</strong></p>'
            f'<p class="muted" id="destination">{escape(destination)}</p>'
        ),
    )


def login_page(instance_id: str, test_idp: bool) -> str:
    """``<instance>/login`` without a session: how an agent signs in to this instance."""
    base = f"/connect/{escape(instance_id)}"
    idp = (
        '<p id="test-idp">Sign in through the <a href="/idp">test identity provider</a>.</p>'
        if test_idp
        else ""
    )
    return _page(
        "Sign in",
        (
            '<h1 id="title">Sign in</h1>'
            '<p id="message">You are not signed in to this Amazon Connect instance.</p>'
            f"{idp}<p>Open the <code>SignInUrl</code> that GetFederationToken returns, or sign in "
            "through your identity provider (SAML RelayState "
            f"<code>/connect/federate/{escape(instance_id)}?destination=/ccp-v2</code>); the "
            f"Contact Control Panel is then at <code>{base}/ccp-v2/</code>.</p>"
        ),
    )


@dataclass(frozen=True, slots=True)
class IdpEntry:
    """One user of the test IdP's list."""

    name: str
    session_name: str  # the role session name, which names the Connect user
    roles: tuple[str, ...]  # role ARNs the assertion carries
    description: str  # what signing in as this user demonstrates


def idp_users(entity_id: str, users: Sequence[IdpEntry]) -> str:
    rows = "".join(
        f'<li id="user-{escape(u.name)}"><a class="login" href="/idp/login?user={escape(u.name)}">'
        f"{escape(u.name)}</a>"
        f'<div class="about">{_text(u.description)}</div>'
        f'<div class="muted">role session <code>{escape(u.session_name)}</code>, '
        f"{'roles' if len(u.roles) > 1 else 'role'} "
        f"{', '.join(f'<code>{escape(r)}</code>' for r in u.roles)}</div></li>"
        for u in users
    )
    return _page(
        "connectfed test IdP",
        (
            '<h1 id="title">connectfed test IdP</h1>'
            "<p>A SAML identity provider built into the demo. Pick a user: it signs you in with a "
            "signed assertion posted to this server's <code>/saml</code>, exactly as your own "
            "IdP would, and the browser lands on the instance's Contact Control Panel.</p>"
            f'<ul id="users" class="users">{rows}</ul>'
            f'<p class="muted">Entity id {escape(entity_id)} (<a href="/idp/metadata">metadata</a>)'
            "</p>"
        ),
    )


@dataclass(frozen=True, slots=True)
class Site:
    """What the server's own pages say about it."""

    public_url: str
    region: str
    test_idp: bool


def _where_to_go(site: Site) -> str:
    url = escape(site.public_url)
    idp = (
        (
            '<dt>Try it in a browser</dt><dd><a href="/idp">The test identity provider</a>: '
            "pick a demo agent and sign in.</dd>"
        )
        if site.test_idp
        else ""
    )
    return (
        f"<dl>{idp}"
        "<dt>An agent's Contact Control Panel (CCP)</dt>"
        f"<dd><code>{url}/connect/&lt;instance-id&gt;/ccp-v2/</code>, once signed in.</dd>"
        "<dt>Sign-in through your SAML identity provider</dt>"
        f'<dd>Assertion consumer service (ACS) URL <a href="/saml"><code>{url}/saml</code></a>, '
        f"RelayState <code>{url}/connect/federate/&lt;instance-id&gt;?destination=/ccp-v2</code>"
        "</dd>"
        "<dt>AWS CLI, boto3 and the SDKs</dt>"
        f"<dd><code>aws connect get-federation-token --instance-id &lt;instance-id&gt; "
        f"--endpoint-url {url} --region {escape(site.region)}</code></dd>"
        "<dt>Documentation</dt>"
        "<dd><code>README.md</code> (quick start, options) and <code>docs/compatibility.md</code> "
        "(where we differ from AWS, and why) in connectfed's source tree.</dd></dl>"
    )


def home_page(site: Site) -> str:
    return _page(
        "connectfed",
        (
            '<h1 id="title">connectfed</h1>'
            '<p id="about">This is a connectfed server: Amazon Connect\'s SAML federation '
            "(GetFederationToken, and the STS, IAM, SAML sign-in and agent Contact Control Panel "
            "it stands on) running outside AWS. AWS clients talk to it through "
            f"<code>--endpoint-url {escape(site.public_url)}</code>; browsers sign agents in here."
            f"</p><h2>Where to go</h2>{_where_to_go(site)}"
        ),
    )


def saml_endpoint_page(site: Site) -> str:
    url = escape(site.public_url)
    idp = (
        (
            '<p>No identity provider at hand? <a href="/idp">The test identity provider</a> '
            "posts signed assertions here for the demo's agents.</p>"
        )
        if site.test_idp
        else ""
    )
    return _page(
        "SAML sign-in endpoint",
        (
            '<h1 id="title">SAML sign-in endpoint</h1>'
            f'<p id="about">This address, <code>{url}/saml</code>, is where identity providers '
            "send signed SAML responses (an HTTP POST of <code>SAMLResponse</code> and "
            "<code>RelayState</code>): it is the assertion consumer service (ACS) URL to give your "
            "IdP. There is nothing to see here by opening it.</p>"
            "<h2>Set up your IdP</h2><dl>"
            f"<dt>ACS URL, Recipient and Audience</dt><dd><code>{url}/saml</code> (the role's "
            "<code>SAML:aud</code> condition names it)</dd>"
            "<dt>RelayState, to land on an instance's CCP</dt>"
            f"<dd><code>{url}/connect/federate/&lt;instance-id&gt;?destination=/ccp-v2</code></dd>"
            f"<dt>Attribute <code>{ROLE_ATTRIBUTE}</code></dt>"
            "<dd><code>&lt;role-arn&gt;,&lt;saml-provider-arn&gt;</code>, one value per role</dd>"
            f"<dt>Attribute <code>{SESSION_NAME_ATTRIBUTE}</code></dt>"
            "<dd>the agent's Amazon Connect user name</dd></dl>"
            f'{idp}<p><a href="/">About this server</a></p>'
        ),
    )


def autopost(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )
    return _page(
        "Signing in",
        (
            f'<form id="post" method="post" action="{escape(action)}">{inputs}'
            '<noscript><button type="submit">Continue</button></noscript></form>'
            '<script>document.getElementById("post").submit()</script>'
        ),
    )


def signed_out_page() -> str:
    return _page(
        "Signed out",
        '<h1 id="title">Signed out</h1><p id="message">You have signed out of Amazon Connect.</p>',
    )
