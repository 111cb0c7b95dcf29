"""The readable HTML view of an explanation (``GET /_connectfed/explain/<request-id>`` asked for
by a browser). Every value is escaped; the page loads nothing (its CSP allows no source)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html import escape

from connectfed.identity.explain import ConditionView, Explanation, PolicyCheck

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;"
    "color:#222;overflow-wrap:anywhere}h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}"
    "h3{font-size:1rem}table{border-collapse:collapse;width:100%;margin:.5rem 0}"
    "td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f6f6f6}.ok{color:#176f2c}.bad{color:#b00020;font-weight:600}"
    ".muted{color:#666}code{font-size:.9em}ul{padding-left:1.2rem}#steps{list-style:none;"
    "padding-left:0}"
)
_OUTCOME_CLASS = {"denies": "bad", "allows": "ok", "no match": "muted"}


def _rows(pairs: Iterable[tuple[str, str]]) -> str:
    return "".join(
        f"<tr><th>{escape(k)}</th><td><code>{escape(v)}</code></td></tr>" for k, v in pairs
    )


def _value(value: str | tuple[str, ...] | None) -> str:
    if value is None:
        return "(absent)"
    return value if isinstance(value, str) else ", ".join(value)


def _conditions(conditions: tuple[ConditionView, ...]) -> str:
    if not conditions:
        return ""
    items = "".join(
        f'<li class="{"ok" if c.holds else "bad"}"><code>{escape(c.operator)} '
        f"{escape(c.key)}</code> policy [{escape(', '.join(c.values))}] vs request "
        f"[{escape(_value(c.actual))}]: "
        f"{'holds' if c.holds else 'cannot be evaluated' if c.holds is None else 'fails'}"
        f"{' — ' + escape(c.note) if c.note else ''}</li>"
        for c in conditions
    )
    return f"<ul>{items}</ul>"


def _context(context: Mapping[str, str | tuple[str, ...]]) -> str:
    return _rows((k, _value(v)) for k, v in context.items())


def _check(index: int, check: PolicyCheck) -> str:
    parts = [
        f'<h2 id="check-{index}">{escape(check.kind.title())} policy evaluation: '
        f'<span class="{"ok" if check.decision == "allowed" else "bad"}">'
        f"{escape(check.decision)}</span></h2>",
        "<table>",
        _rows(
            (("Principal", check.principal), ("Action", check.action), ("Resource", check.resource))
        ),
        "</table>",
        "<h3>Request context keys</h3><table>",
        _context(check.context),
        "</table>",
    ]
    if check.missing_keys:
        parts.append(
            '<p class="bad">Condition keys the request did not carry: '
            f"<code>{escape(', '.join(check.missing_keys))}</code></p>"
        )
    if not check.policies:
        parts.append(
            f'<p class="bad">No {escape(check.kind)} policy applies to this principal.</p>'
        )
    for policy in check.policies:
        rows = "".join(
            f"<tr><td>{s.index + 1}</td><td>{escape(s.sid or '')}</td>"
            f"<td>{escape(s.effect)}</td>"
            f'<td class="{_OUTCOME_CLASS.get(s.outcome, "")}">{escape(s.outcome)}'
            f"{' (' + escape(s.element) + ')' if s.element else ''}</td>"
            f"<td>{escape(s.detail)}{_conditions(s.conditions)}</td></tr>"
            for s in policy.statements
        )
        parts.append(
            f"<h3>{escape(policy.name)}</h3><table><tr><th>#</th><th>Sid</th>"
            f"<th>Effect</th><th>Outcome</th><th>Why</th></tr>{rows}</table>"
        )
    return "".join(parts)


def explanation_page(explanation: Explanation) -> str:
    e = explanation
    when = datetime.fromtimestamp(e.created, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    steps = "".join(
        f'<li class="{"ok" if s.ok else "bad"}">{"✓" if s.ok else "✗"} '
        f"<strong>{escape(s.name)}</strong>: {escape(s.detail)}</li>"
        for s in e.steps
    )
    hints = "".join(f"<li>{escape(h)}</li>" for h in e.hints)
    body = [
        f'<h1 id="title">Why request {escape(e.request_id)} was refused</h1>',
        f'<p id="summary" class="bad">{escape(e.summary)}</p>',
        "<table>",
        _rows(
            (
                ("Operation", e.operation),
                ("Principal", e.principal or "(unsigned)"),
                ("Error on the wire", e.error),
                ("When", when),
            )
        ),
        "</table>",
    ]
    if steps:
        body.append(f'<h2>Steps</h2><ul id="steps">{steps}</ul>')
    if hints:
        body.append(f'<h2>Hints</h2><ul id="hints">{hints}</ul>')
    body.extend(_check(i, c) for i, c in enumerate(e.checks))
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Explanation of {escape(e.request_id)}</title><style>{_STYLE}</style>"
        f"</head><body>{''.join(body)}</body></html>"
    )


def missing_page(request_id: str, message: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>No explanation"
        f'</title><style>{_STYLE}</style></head><body><h1 id="title">No explanation for '
        f'{escape(request_id)}</h1><p id="message">{escape(message)}</p></body></html>'
    )
