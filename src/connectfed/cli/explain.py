"""``connectfed explain <request-id>``: why the server refused a request.

Reads the explanation recorded under the request id (the ``x-amzn-RequestId`` of the refused
call, also in AWS CLI ``--debug`` output and boto3's ``ResponseMetadata``) straight from the
database (``--data-dir`` / ``--database-url``), or from a running server's admin API
(``--endpoint-url``, served with ``--admin`` or ``--demo``), and prints it as text or JSON.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import platformdirs

from connectfed.clock import SystemClock
from connectfed.identity.explain import ConditionView, Explanation, Explanations, PolicyCheck
from connectfed.store import MasterKeyError, Store, Unavailable, open_store

NOT_FOUND = (
    "no explanation recorded for {id}: the request was not refused by a policy or a "
    "federation step, the id is mistyped, or its explanation expired"
)


def _condition(c: ConditionView) -> str:
    mark = "✓" if c.holds else "✗"
    verdict = "holds" if c.holds else "cannot be evaluated" if c.holds is None else "fails"
    actual = "(absent)" if c.actual is None else ", ".join(c.actual)
    note = f" — {c.note}" if c.note else ""
    return (
        f"        {mark} {c.operator} {c.key}: policy [{', '.join(c.values)}] vs request "
        f"[{actual}]: {verdict}{note}"
    )


def _check(check: PolicyCheck) -> list[str]:
    lines = [
        "",
        f"{check.kind.title()} policy evaluation: {check.decision}",
        f"  principal  {check.principal}",
        f"  action     {check.action}",
        f"  resource   {check.resource}",
        "  context keys:",
    ]
    lines += [
        f"    {k} = {v if isinstance(v, str) else ', '.join(v)}" for k, v in check.context.items()
    ]
    if check.missing_keys:
        lines.append(f"  missing from the request: {', '.join(check.missing_keys)}")
    if not check.policies:
        lines.append(f"  no {check.kind} policy applies to this principal")
    for policy in check.policies:
        lines.append(f"  {policy.name}")
        for s in policy.statements:
            label = f"#{s.index + 1}" + (f" {s.sid}" if s.sid else "")
            element = f" ({s.element})" if s.element else ""
            lines.append(f"    {label} {s.effect}: {s.outcome}{element} — {s.detail}")
            lines += [_condition(c) for c in s.conditions]
    return lines


def render(e: Explanation) -> str:
    when = datetime.fromtimestamp(e.created, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        f"Request {e.request_id}: refused with {e.error}",
        f"Operation: {e.operation}",
        f"Principal: {e.principal or '(unsigned)'}",
        f"When:      {when}",
        f"Why:       {e.summary}",
    ]
    if e.steps:
        lines += ["", "Steps:"]
        width = max(len(s.name) for s in e.steps)
        lines += [f"  {'✓' if s.ok else '✗'} {s.name.ljust(width)}  {s.detail}" for s in e.steps]
    if e.hints:
        lines += ["", "Hints:"] + [f"  - {h}" for h in e.hints]
    for check in e.checks:
        lines += _check(check)
    return "\n".join(lines) + "\n"


def _from_server(args: argparse.Namespace) -> Explanation | None:
    base = args.endpoint_url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise RuntimeError("--endpoint-url must be an http:// or https:// URL")
    url = f"{base}/_connectfed/explain/{quote(args.request_id, safe='')}"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    context = ssl.create_default_context(cafile=args.ca_bundle) if args.ca_bundle else None
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:  # noqa: S310
            return Explanation.from_json(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise RuntimeError(
            f"{url} answered {error.code} (is the admin API on? start the "
            "server with --admin or --demo)"
        ) from None


def _open(url: str) -> Store:
    """The store without its master key: explanations hold no secret, so reading them needs
    none (and nothing is unsealed or resealed)."""
    if url.startswith("sqlite:"):
        from connectfed.store.sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite://"))
    return open_store(url)


def _from_database(args: argparse.Namespace) -> Explanation | None:
    data_dir: Path = args.data_dir or Path(platformdirs.user_data_dir("connectfed"))
    if not args.database_url and not (data_dir / "connectfed.db").exists():
        raise RuntimeError(f"no database at {data_dir / 'connectfed.db'}")
    url = args.database_url or f"sqlite://{(data_dir / 'connectfed.db').resolve()}"
    store = _open(url)
    try:
        return Explanations(store, SystemClock()).get(args.request_id)
    finally:
        store.close()


def explain(args: argparse.Namespace) -> int:
    try:
        found = _from_server(args) if args.endpoint_url else _from_database(args)
    except (
        RuntimeError,
        OSError,
        ValueError,
        KeyError,
        TypeError,
        MasterKeyError,
        Unavailable,
    ) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    if found is None:
        sys.stderr.write(NOT_FOUND.format(id=args.request_id) + "\n")
        return 1
    if args.output == "json":
        sys.stdout.write(json.dumps(found.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(render(found))
    return 0
