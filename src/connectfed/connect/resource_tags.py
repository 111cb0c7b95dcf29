"""Tags of Connect resources: TagResource, UntagResource, ListTagsForResource, the ``Tags`` of
the Create operations, and the condition keys tags put in IAM decisions.

Connect's rules (Administrator Guide, "Tagging resources in Amazon Connect"; the model's
``TagMap``): keys of 1-128 and values of up to 256 characters, both case-sensitive (``Team`` and
``team`` are two tags), at most 50 per resource, none beginning with ``aws:``, which AWS
reserves (the model's key pattern refuses that prefix in lower case; here in any case, as the
guide states the rule). Taggable here: instances, users (``…/agent/<id>``), agent statuses,
queues, routing and security profiles.

In policies (Service Authorization Reference, "Amazon Connect"): Create* and TagResource carry
``aws:RequestTag/<key>`` and ``aws:TagKeys``, UntagResource ``aws:TagKeys``; an action on a
tagged resource carries its ``aws:ResourceTag/<key>`` (GetFederationToken: the instance's).
Condition key names are compared regardless of case, so of two tags whose keys differ only in
case the one whose key sorts last (``team`` after ``Team``) is the value a policy sees, in a
request's ``aws:RequestTag`` as in the resource's ``aws:ResourceTag``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from connectfed import arns
from connectfed.connect.errors import InvalidParameter, ResourceKind, ResourceNotFound
from connectfed.identity import iam_tags
from connectfed.identity.authorize import Authorizer
from connectfed.identity.iam_tags import untag_context
from connectfed.identity.policy.conditions import ContextValue
from connectfed.identity.principal import Principal
from connectfed.store import LimitReached, NotFound, Store
from connectfed.store.records import Instance, Tag

__all__ = [
    "TAGS_PER_RESOURCE",
    "ConnectTags",
    "Tag",
    "checked_tags",
    "request_context",
    "reserved_key_error",
    "resource_context",
    "tag_map",
]

# The caller's instance by id, or None (InstanceService.find: the cached lookup).
FindInstance = Callable[[Principal, str], Instance | None]
TAGS_PER_RESOURCE = 50
RESERVED_PREFIX = "aws:"
# The kinds below an instance that keep tags, by their ARN segment.
TAGGABLE = {
    arns.ConnectResource.AGENT,
    arns.ConnectResource.AGENT_STATUS,
    arns.ConnectResource.QUEUE,
    arns.ConnectResource.ROUTING_PROFILE,
    arns.ConnectResource.SECURITY_PROFILE,
}


def checked_tags(tags: Mapping[str, str] | None) -> tuple[Tag, ...]:
    """A request's ``Tags``/``tags`` map as tags, refused (:class:`InvalidParameter`) when a
    key begins with ``aws:`` in any case. Lengths, counts and characters are the model's,
    checked by the wire."""
    checked = tuple(Tag(key, value) for key, value in (tags or {}).items())
    for tag in checked:
        problem = reserved_key_error(tag.key)
        if problem is not None:
            raise InvalidParameter(problem)
    return checked


def reserved_key_error(key: str) -> str | None:
    """Why Connect refuses ``key`` beyond the model's constraints (a prefix AWS reserves, in
    any case), or None."""
    if key.lower().startswith(RESERVED_PREFIX):
        return f"Tag keys beginning with '{RESERVED_PREFIX}' are reserved for AWS use: {key}"
    return None


def tag_map(tags: Iterable[Tag]) -> dict[str, str]:
    """Tags as Connect answers them: a map, in the order they were set."""
    return {tag.key: tag.value for tag in tags}


def request_context(tags: Sequence[Tag]) -> dict[str, ContextValue]:
    """``aws:RequestTag/<key>`` and ``aws:TagKeys`` of a request passing ``tags``: of keys
    differing only in case, the value the resource's ``aws:ResourceTag/<key>`` will be (keys
    sorted, as :func:`resource_context`), whatever the request's order."""
    return iam_tags.request_context(sorted_by_key(tags))


def resource_context(tags: Sequence[Tag]) -> dict[str, ContextValue]:
    """``aws:ResourceTag/<key>`` of a resource acted on (keys sorted: see the module's note)."""
    return {f"aws:resourcetag/{tag.key.lower()}": tag.value for tag in sorted_by_key(tags)}


def sorted_by_key(tags: Iterable[Tag]) -> list[Tag]:
    return sorted(tags, key=lambda tag: tag.key)


class ConnectTags:
    """Tagging by ARN, each call authorised as ``connect:<Action>`` on that ARN."""

    def __init__(
        self,
        store: Store,
        authz: Authorizer,
        region: str,
        find_instance: FindInstance,
        instance_changed: Callable[[str], object],
    ) -> None:
        self._store = store
        self._authz = authz
        self._region = region
        self._find_instance = find_instance
        # An instance's tags come with the instance its service caches: a change made here
        # applies to the next request (through another server: within the cache's TTL).
        self._instance_changed = instance_changed

    def held(
        self, caller: Principal, instance_id: str, kind: arns.ConnectResource, resource_id: str
    ) -> tuple[Tag, ...] | None:
        """The tags of the caller's resource, None when there is none (or it is another
        account's): what its ``aws:ResourceTag`` keys are made of."""
        if self._find_instance(caller, instance_id) is None or kind not in TAGGABLE:
            return None
        return self._store.resource_tags(kind.value, (instance_id, resource_id))

    def _resource(self, caller: Principal, arn: str) -> tuple[str, tuple[str, ...], str] | None:
        """(store kind, store key, instance id) of the caller's resource named by ``arn``;
        None when it names nothing of the caller's in this Region."""
        named = arns.connect_resource_of(arn)
        if named is None or (named.region, named.account_id) != (self._region, caller.account_id):
            return None
        if named.kind is None:
            return "instance", (named.instance_id,), named.instance_id
        if named.kind not in TAGGABLE or named.resource_id is None:
            return None
        return named.kind.value, (named.instance_id, named.resource_id), named.instance_id

    def _decide(
        self,
        caller: Principal,
        action: str,
        arn: str,
        context: Mapping[str, ContextValue],
    ) -> tuple[str, tuple[str, ...]]:
        """Authorise ``action`` on ``arn`` with the resource's tags; the resource, or
        ResourceNotFound (after the decision: a caller not allowed learns nothing)."""
        resource = self._resource(caller, arn)
        held = None
        if resource is not None and self._find_instance(caller, resource[2]) is not None:
            held = self._store.resource_tags(resource[0], resource[1])
        decision_context: dict[str, ContextValue] = dict(context)
        if resource is not None:
            decision_context["connect:InstanceId"] = resource[2]
        decision_context.update(resource_context(held or ()))
        self._authz.require(caller, f"connect:{action}", arn, decision_context)
        if resource is None or held is None:
            raise ResourceNotFound(ResourceKind.RESOURCE, arn)
        return resource[0], resource[1]

    def tag(self, caller: Principal, arn: str, tags: Sequence[Tag]) -> None:
        kind, key = self._decide(caller, "TagResource", arn, request_context(tags))
        try:
            self._store.tag_resource(kind, key, tags, TAGS_PER_RESOURCE)
        except NotFound:
            raise ResourceNotFound(ResourceKind.RESOURCE, arn) from None
        except LimitReached:
            raise InvalidParameter(
                f"A resource can have at most {TAGS_PER_RESOURCE} tags."
            ) from None
        finally:
            self._instance_changed(key[0])

    def untag(self, caller: Principal, arn: str, keys: Sequence[str]) -> None:
        kind, key = self._decide(caller, "UntagResource", arn, untag_context(keys))
        try:
            self._store.untag_resource(kind, key, keys)
        except NotFound:
            raise ResourceNotFound(ResourceKind.RESOURCE, arn) from None
        finally:
            self._instance_changed(key[0])

    def listed(self, caller: Principal, arn: str) -> tuple[Tag, ...]:
        kind, key = self._decide(caller, "ListTagsForResource", arn, {})
        found = self._store.resource_tags(kind, key)
        if found is None:
            raise ResourceNotFound(ResourceKind.RESOURCE, arn)
        return found
