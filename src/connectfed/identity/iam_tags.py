"""Tags of IAM users and roles (IAM User Guide, "Tagging IAM resources" and "Controlling access
to and for IAM users and roles using tags"; IAM API reference, TagRole/TagUser/UntagRole...).

A request's tags are checked as IAM checks them: the key 1-128 and the value 0-256 characters
of letters, separators, numbers and ``_.:/=+-@`` (the model's pattern; the wire checks it
first, this for callers in the process), keys unique regardless of case ("Duplicate tag keys
found. Please note that Tag keys are case insensitive.", ``InvalidInput``) and none beginning
with ``aws:``, which AWS reserves. A user or role holds at most :data:`TAGS_PER_OWNER`; a tag
whose key it holds already, in any case, replaces that one.

In policies: a tagging call (and CreateUser/CreateRole with tags) has ``aws:RequestTag/<key>``
and ``aws:TagKeys``; UntagUser/UntagRole ``aws:TagKeys``; every action on a tagged user or
role ``aws:ResourceTag/<key>`` and ``iam:ResourceTag/<key>`` (AssumeRole's too); a request
signed by the user, or by a session of the role, ``aws:PrincipalTag/<key>``, a session's own
tag overriding its role's of the same key (:func:`connectfed.identity.authorize.principal_context`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from connectfed.identity.errors import InvalidRequest
from connectfed.identity.policy.conditions import ContextValue
from connectfed.identity.session_tags import tag_text_error
from connectfed.store.records import Tag

__all__ = [
    "DUPLICATE_KEYS",
    "TAGS_PER_OWNER",
    "Tag",
    "checked_tags",
    "request_context",
    "resource_context",
    "sorted_tags",
    "tag_error",
    "untag_context",
]

TAGS_PER_OWNER = 50  # IAM's quota of tags per user and per role
DUPLICATE_KEYS = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
RESERVED_PREFIX = "aws:"


def checked_tags(tags: Iterable[Tag]) -> tuple[Tag, ...]:
    """``tags`` as a request passes them, refused as IAM refuses them (:class:`InvalidRequest`,
    ``InvalidInput``)."""
    checked = tuple(tags)
    seen: set[str] = set()
    for tag in checked:
        problem = tag_error(tag)
        if problem is not None:
            raise InvalidRequest(problem)
        folded = tag.key.lower()
        if folded in seen:
            raise InvalidRequest(DUPLICATE_KEYS)
        seen.add(folded)
    return checked


def tag_error(tag: Tag) -> str | None:
    """Why IAM refuses ``tag`` on its own (its text, or a key reserved for AWS), or None."""
    problem = tag_text_error(tag.key, key=True) or tag_text_error(tag.value, key=False)
    if problem is not None:
        return f"Invalid tag: {problem}."
    if tag.key.lower().startswith(RESERVED_PREFIX):
        return f"Tag keys beginning with '{RESERVED_PREFIX}' are reserved for AWS use: {tag.key}"
    return None


def sorted_tags(tags: Iterable[Tag]) -> tuple[Tag, ...]:
    """As ListRoleTags and ListUserTags answer them: sorted by key."""
    return tuple(sorted(tags, key=lambda tag: tag.key))


def request_context(tags: Sequence[Tag]) -> dict[str, ContextValue]:
    """``aws:RequestTag/<key>`` and ``aws:TagKeys`` of a request passing ``tags``."""
    if not tags:
        return {}
    context: dict[str, ContextValue] = {
        f"aws:requesttag/{tag.key.lower()}": tag.value for tag in tags
    }
    context["aws:tagkeys"] = tuple(tag.key for tag in tags)
    return context


def untag_context(keys: Sequence[str]) -> dict[str, ContextValue]:
    """``aws:TagKeys`` of an untagging request."""
    return {"aws:tagkeys": tuple(keys)} if keys else {}


def resource_context(tags: Sequence[Tag]) -> dict[str, ContextValue]:
    """``aws:ResourceTag/<key>`` and ``iam:ResourceTag/<key>`` of a user or role acted on."""
    context: dict[str, ContextValue] = {}
    for tag in tags:
        folded = tag.key.lower()
        context[f"aws:resourcetag/{folded}"] = tag.value
        context[f"iam:resourcetag/{folded}"] = tag.value
    return context
