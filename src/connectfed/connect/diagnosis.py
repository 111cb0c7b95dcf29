"""Hints for the federation steps that fail most often (AWS-BEHAVIOUR.md, "What users of the
real service complain about": case-sensitive username mismatches, "already associated" role
bindings). They go into the explanation of the request, never into the error on the wire."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import UTC, datetime

from connectfed.store.records import RoleBinding

MAX_LISTED = 10


def username_hints(wanted: str, usernames: Sequence[str], *, from_session: bool) -> list[str]:
    """Why no Connect user is named ``wanted``: case-only differences, near matches, and the
    names the instance does have (a few)."""
    source = "the role session name" if from_session else "the IAM user's name"
    hints = [f"The Connect username must equal {source} exactly, letter case included: {wanted!r}."]
    by_case = [name for name in usernames if name.lower() == wanted.lower()]
    if by_case:
        hints.append("Differs only in letter case: " + ", ".join(map(repr, by_case)) + ".")
    close = [
        name
        for name in difflib.get_close_matches(wanted, usernames, n=5, cutoff=0.6)
        if name not in by_case
    ]
    if close:
        hints.append("Near matches: " + ", ".join(map(repr, close)) + ".")
    if not usernames:
        hints.append("The instance has no users yet (CreateUser).")
    elif not by_case and not close:
        shown = ", ".join(map(repr, usernames[:MAX_LISTED]))
        more = f" and {len(usernames) - MAX_LISTED} more" if len(usernames) > MAX_LISTED else ""
        hints.append(f"Users present: {shown}{more}.")
    return hints


def binding_hints(username: str, bindings: Sequence[RoleBinding], caller_role: str) -> list[str]:
    """Who the user is already bound to, and how to allow several roles."""
    hints = []
    for binding in bindings:
        since = datetime.fromtimestamp(binding.created, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        live = (
            ""
            if binding.role_arn != caller_role
            else " (a role of that name that was deleted and created again: another principal)"
        )
        hints.append(
            f"{username!r} is bound to {binding.role_arn} (role id {binding.role_id}) "
            f"since {since}{live}."
        )
    hints.append(
        f"This call came through {caller_role}. The first role that federates a user "
        "is bound to it; start the server with --allow-multiple-roles-per-user to let "
        "several roles federate one user (AWS allows it since March 2023)."
    )
    return hints
