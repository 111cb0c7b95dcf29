"""Session tags and source identity (IAM User Guide, "Passing session tags in AWS STS" and
"Monitor and control actions taken with assumed roles"; STS API reference, AssumeRole).

A request passes tags (AssumeRole's ``Tags``/``TransitiveTagKeys``, an assertion's
``PrincipalTag:<key>``/``TransitiveTagKeys`` attributes) and perhaps a source identity. The
session made keeps them: on every request it signs they are ``aws:PrincipalTag/<key>`` (keys
compared without regard to case, as IAM compares condition keys) and ``aws:SourceIdentity``.
In role chaining the calling session's transitive tags and source identity pass on to the new
session; a chained call may not set a tag whose key is one of those transitive keys, in any
case, and may not change the source identity.

The rules AWS states and we keep, as recorded from AWS (LocalStack's snapshot tests of
``TestSTSAssumeRoleTagging``): keys are unique regardless of case ("Duplicate tag keys found.
Please note that Tag keys are case insensitive."), each transitive key names a tag, regardless
of case ("The specified transitive tag key must be included in the requested tags."), and a
chained call's tag may not collide with an incoming transitive one ("One of the specified
transitive tag keys can't be set because it conflicts with a transitive tag key from the calling
session."), all ``InvalidParameterValue`` (400).

Packed size. AWS compresses the session policy and the tags into a packed binary format with a
limit of its own and answers ``PackedPolicySize``, the percentage of that limit used; the format
and the limit are not published. :func:`packed_policy_size` is ours, stated here so nobody takes
it for AWS's: the policy as minified JSON and each tag as ``NUL key NUL value``, deflated
(zlib, level 9), against a budget of :data:`PACKED_BUDGET` bytes, rounded up to a whole
percent; over 100 is ``PackedPolicyTooLarge``. It grows as AWS's does (more and longer, less
repetitive tags and policies) but its numbers are not AWS's.
"""

from __future__ import annotations

import json
import math
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from connectfed.identity.errors import IdentityError
from connectfed.identity.policy.conditions import ContextValue
from connectfed.store.records import SessionTag

__all__ = [
    "NO_TAGS",
    "InvalidSessionTags",
    "PackedPolicyTooLarge",
    "SessionTag",
    "TagRequest",
    "TagRule",
    "granted_tags",
    "packed_policy_size",
    "principal_tag_context",
    "request_context",
    "tag_text_error",
]

TAG_LIMIT = 50
KEY_MAX = 128
VALUE_MAX = 256
PACKED_BUDGET = 2048  # bytes of our deflated packing (see the module's docstring)
# Besides letters (L), separators (Z) and numbers (N): AWS's tag pattern
# [\p{L}\p{Z}\p{N}_.:/=+\-@]
_TAG_PUNCTUATION = frozenset("_.:/=+-@")


class TagRule:
    """The rule a request's tags broke, in AWS's words."""

    DUPLICATE = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
    TRANSITIVE_UNTAGGED = "The specified transitive tag key must be included in the requested tags."
    CONFLICT = (
        "One of the specified transitive tag keys can't be set because it conflicts with a "
        "transitive tag key from the calling session."
    )


class InvalidSessionTags(IdentityError):
    """The tags a request passes break one of :class:`TagRule`'s rules
    (``InvalidParameterValue``)."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


class PackedPolicyTooLarge(IdentityError):
    """The session policy and tags, packed, exceed the budget (``percent`` of it)."""

    def __init__(self, percent: int) -> None:
        super().__init__(
            "The total packed size of the session policies and session tags combined was too "
            f"large: {percent}% of the upper size limit."
        )
        self.percent = percent


@dataclass(frozen=True, slots=True)
class TagRequest:
    """The session tags one request passes, as passed (keys in their case, in order)."""

    tags: tuple[tuple[str, str], ...] = ()
    transitive_keys: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.tags)


NO_TAGS = TagRequest()  # a request that passes none


def tag_text_error(text: str, *, key: bool) -> str | None:
    """Why ``text`` is no tag key (``key``) or value, or None: length 1-128 (a value 0-256)
    and only letters, separators, numbers and ``_.:/=+-@``."""
    limit = KEY_MAX if key else VALUE_MAX
    if key and not text:
        return "a tag key must not be empty"
    if len(text) > limit:
        return f"a tag {'key' if key else 'value'} must have at most {limit} characters"
    for char in text:
        if char not in _TAG_PUNCTUATION and unicodedata.category(char)[0] not in "LZN":
            return f"a tag {'key' if key else 'value'} may not contain {char!r}"
    return None


def granted_tags(
    request: TagRequest, inherited: Iterable[SessionTag] = ()
) -> tuple[SessionTag, ...]:
    """The tags of the session a request makes: the calling session's transitive tags
    (``inherited``: all of its tags; only the transitive ones pass on), then the request's,
    transitive when their key is among its transitive keys (regardless of case).
    Raises :class:`InvalidSessionTags`."""
    seen: set[str] = set()
    for key, _ in request.tags:
        folded = key.lower()
        if folded in seen:
            raise InvalidSessionTags(TagRule.DUPLICATE)
        seen.add(folded)
    transitive = {key.lower() for key in request.transitive_keys}
    if not transitive <= seen:
        raise InvalidSessionTags(TagRule.TRANSITIVE_UNTAGGED)
    passed_on = tuple(tag for tag in inherited if tag.transitive)
    if any(tag.key.lower() in seen for tag in passed_on):
        raise InvalidSessionTags(TagRule.CONFLICT)
    return passed_on + tuple(
        SessionTag(key, value, key.lower() in transitive) for key, value in request.tags
    )


def request_context(request: TagRequest) -> dict[str, ContextValue]:
    """The condition keys of a request that passes tags (lower-cased, as the evaluator looks
    them up): ``aws:RequestTag/<key>``, ``aws:TagKeys`` and ``sts:TransitiveTagKeys``."""
    context: dict[str, ContextValue] = {
        f"aws:requesttag/{key.lower()}": value for key, value in request.tags
    }
    if request.tags:
        context["aws:tagkeys"] = tuple(key for key, _ in request.tags)
    if request.transitive_keys:
        context["sts:transitivetagkeys"] = request.transitive_keys
    return context


def principal_tag_context(tags: Sequence[SessionTag]) -> dict[str, ContextValue]:
    """``aws:PrincipalTag/<key>`` of a session's tags (keys lower-cased)."""
    return {f"aws:principaltag/{tag.key.lower()}": tag.value for tag in tags}


def packed_policy_size(policy: str | None, tags: Sequence[SessionTag]) -> int:
    """Our ``PackedPolicySize`` (see the module's docstring): the percentage of the packing
    budget that ``policy`` (already validated JSON) and ``tags`` use. Raises
    :class:`PackedPolicyTooLarge` over 100."""
    packing = json.dumps(json.loads(policy), separators=(",", ":")) if policy else ""
    packing += "".join(f"\0{tag.key}\0{tag.value}" for tag in tags)
    packed = len(zlib.compress(packing.encode(), 9))
    percent = math.ceil(100 * packed / PACKED_BUDGET)
    if percent > 100:
        raise PackedPolicyTooLarge(percent)
    return percent
