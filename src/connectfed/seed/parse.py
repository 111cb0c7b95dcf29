"""A seed file's text → :class:`~connectfed.seed.schema.World`, or every error with its line.

The names follow the rules the AWS APIs apply to the same values (IAM: users, roles and policy
names ``[\\w+=,.@-]``, paths ``/…/``; access key ids ``AKIA`` + 16; Connect ids are UUIDs), since
a seed bypasses the wire layer that checks them for API calls. What only the store can tell
(a security profile's name, a queue's) is checked when the world is applied.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from botocore.model import MapShape

from connectfed.connect.agent_values import Channel
from connectfed.connect.resource_tags import TAGS_PER_RESOURCE, reserved_key_error
from connectfed.identity.iam_tags import TAGS_PER_OWNER, Tag, tag_error
from connectfed.seed import template
from connectfed.seed.fields import Fields, Findings
from connectfed.seed.schema import (
    AccessKeySpec,
    AccountSpec,
    AgentStatusSpec,
    ConnectUserSpec,
    Document,
    FixedKey,
    IamUserSpec,
    IdpUserSpec,
    InstanceSpec,
    PolicySpec,
    QueueSpec,
    RoleSpec,
    RoutingProfileSpec,
    RoutingQueueSpec,
    SamlProviderSpec,
    TagsSpec,
    World,
)
from connectfed.seed.source import Located, SeedError, Where, WorldInvalid, load
from connectfed.wire.model import operation_model
from connectfed.wire.validate import constraints_failed

ACCOUNT_ID = re.compile(r"\d{12}")
ACCESS_KEY_ID = re.compile(r"AKIA[A-Z0-9]{16}")
SECRET = re.compile(r"[A-Za-z0-9/+]{40}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
IAM_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
POLICY_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,128}")
IAM_PATH = re.compile(r"/|/[\x21-\x7e]{1,510}/")
SAML_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")
REF = re.compile(r"[A-Za-z0-9_-]{1,64}")
CONNECT_NAME = re.compile(r"[^\n]{1,127}")
USERNAME = re.compile(r"[^\s]{1,100}")

T = TypeVar("T")


def _connect_tag_map() -> MapShape:
    """The model's shape of the ``Tags`` that Connect's Create operations and TagResource take
    (its key and value constraints are what the wire checks them by)."""
    shape = operation_model("connect", "TagResource").input_shape.members["tags"]
    assert isinstance(shape, MapShape)
    return shape


def _unique(
    found: Findings,
    items: Sequence[T],
    key: Callable[[T], str | None],
    where: Callable[[T], Where],
    what: str,
) -> None:
    first: dict[str, Where] = {}
    for item in items:
        name = key(item)
        if name is None:
            continue
        if name in first:
            found.errors.append(
                SeedError(
                    where(item),
                    f"{what} {name!r} is declared twice (first on line {first[name].line})",
                )
            )
        else:
            first[name] = where(item)


class _Parser:
    def __init__(self, base: Path | None, found: Findings) -> None:
        self.base = base
        self.found = found

    def access_key(self, node: Located) -> AccessKeySpec:
        fields = Fields(node, self.found, ("access_key_id", "secret_access_key"))
        key_id = fields.text(
            "access_key_id",
            pattern=ACCESS_KEY_ID,
            rule="AKIA followed by 16 capital letters or digits",
        )
        secret = fields.text(
            "secret_access_key", pattern=SECRET, rule="40 characters of A-Z, a-z, 0-9, / and +"
        )
        if fields.has("access_key_id") != fields.has("secret_access_key"):
            missing = "access_key_id" if fields.has("secret_access_key") else "secret_access_key"
            fields.error(
                fields.where(missing), "is required with a fixed key (give both or neither)"
            )
        fixed = FixedKey(key_id, secret) if key_id is not None and secret is not None else None
        return AccessKeySpec(fixed, node.where)

    def policies(self, fields: Fields) -> tuple[PolicySpec, ...]:
        node = fields.get("policies")
        if node is None:
            return ()
        if not node.is_mapping:
            fields.error(node.where, "must map policy names to policy documents")
            return ()
        out = []
        holder = Fields(node, self.found, list(node.value))
        for name, value in node.items():
            if not POLICY_NAME.fullmatch(name):
                fields.error(
                    node.key_where[name],
                    f"policy name {name!r} is not valid: up to 128 of A-Z a-z 0-9 _+=,.@-",
                )
            document = holder.document(name)
            if document is not None:
                out.append(PolicySpec(name, document, value.where))
        return tuple(out)

    def _tag_entries(
        self, fields: Fields, limit: int, holder: str
    ) -> tuple[Located, list[tuple[str, Located, str]]] | None:
        """The ``tags`` mapping and its (key, value node, value text) entries whose value is a
        string; None when no tags are declared (or they are no mapping)."""
        node = fields.get("tags")
        if node is None:
            return None
        if not node.is_mapping:
            fields.error(node.where, "must map tag keys to values")
            return None
        if len(node.value) > limit:
            fields.error(node.where, f"{holder} has at most {limit} tags")
        entries = []
        for key, value in node.items():
            if not isinstance(value.value, str):
                fields.error(
                    value.where,
                    'must be a string (quote numbers and true/false, and write "" '
                    "for an empty value)",
                )
                continue
            entries.append((key, value, value.value))
        return node, entries

    def tags(self, fields: Fields) -> TagsSpec | None:
        """A user's or role's ``tags``: a mapping of key to value, checked as IAM checks the
        tags of CreateUser/CreateRole and TagUser/TagRole (each error at its key or value)."""
        found = self._tag_entries(fields, TAGS_PER_OWNER, "a user or role")
        if found is None:
            return None
        node, entries = found
        out = []
        first: dict[str, str] = {}  # folded key -> the key as first declared
        for key, value, text in entries:
            key_where = node.key_where[key]
            tag = Tag(key, text)
            key_problem = tag_error(Tag(key, ""))  # the key alone (an empty value is valid)
            problem = key_problem or tag_error(tag)
            if problem is not None:
                fields.error(key_where if key_problem else value.where, problem)
                continue
            folded = key.lower()
            if folded in first:
                earlier = first[folded]
                fields.error(
                    key_where,
                    f"tag key {key!r} is declared twice (first as {earlier!r} on line "
                    f"{node.key_where[earlier].line}): tag keys are unique regardless of case",
                )
                continue
            first[folded] = key
            out.append(tag)
        return TagsSpec(tuple(out), node.where)

    def connect_tags(self, fields: Fields) -> TagsSpec | None:
        """A Connect resource's ``tags``: a mapping of key to value, checked by the rules
        Connect's Create operations and TagResource apply (the model's constraints on keys and
        values, as the wire checks them, and the reserved ``aws:`` prefix in any case; keys are
        case-sensitive). Each error at its key or value."""
        found = self._tag_entries(fields, TAGS_PER_RESOURCE, "a Connect resource")
        if found is None:
            return None
        node, entries = found
        shape = _connect_tag_map()
        out = []
        for key, value, text in entries:
            key_problem = reserved_key_error(key) or next(
                iter(constraints_failed(shape.key, key)), None
            )
            if key_problem is not None:
                fields.error(node.key_where[key], f"tag key {key!r} is not valid: {key_problem}")
                continue
            value_problem = next(iter(constraints_failed(shape.value, text)), None)
            if value_problem is not None:
                fields.error(value.where, f"tag value is not valid: {value_problem}")
                continue
            out.append(Tag(key, text))
        return TagsSpec(tuple(out), node.where)

    def iam_user(self, node: Located) -> IamUserSpec:
        fields = Fields(node, self.found, ("name", "path", "access_keys", "policies", "tags"))
        name = (
            fields.text(
                "name", required=True, pattern=IAM_NAME, rule="up to 64 of A-Z a-z 0-9 _+=,.@-"
            )
            or ""
        )
        path = fields.text("path", default="/", pattern=IAM_PATH, rule="/ or /.../") or "/"
        keys = tuple(self.access_key(k) for k in fields.items("access_keys"))
        if len(keys) > 2:
            fields.error(fields.where("access_keys"), "a user has at most 2 access keys")
        return IamUserSpec(name, path, keys, self.policies(fields), self.tags(fields), node.where)

    def role(self, node: Located) -> RoleSpec:
        fields = Fields(
            node,
            self.found,
            ("name", "path", "description", "max_session_duration", "trust", "policies", "tags"),
        )
        name = (
            fields.text(
                "name", required=True, pattern=IAM_NAME, rule="up to 64 of A-Z a-z 0-9 _+=,.@-"
            )
            or ""
        )
        path = fields.text("path", default="/", pattern=IAM_PATH, rule="/ or /.../") or "/"
        description = fields.text("description")
        duration = (
            fields.integer("max_session_duration", default=3600, minimum=3600, maximum=43200)
            or 3600
        )
        trust = fields.document("trust", required=True) or Document({}, node.where)
        return RoleSpec(
            name,
            path,
            description,
            duration,
            trust,
            self.policies(fields),
            self.tags(fields),
            node.where,
        )

    def idp_user(self, node: Located) -> IdpUserSpec:
        fields = Fields(node, self.found, ("name", "session_name", "roles", "relay_state"))
        name = (
            fields.text(
                "name", required=True, pattern=USERNAME, rule="1 to 100 characters, no spaces"
            )
            or ""
        )
        session = (
            fields.text(
                "session_name",
                default=name,
                pattern=USERNAME,
                rule="1 to 100 characters, no spaces",
            )
            or name
        )
        roles = fields.strings("roles", placeholders=True)
        if not roles:
            fields.error(
                fields.where("roles"),
                "is required: the roles (names or ARNs) the user's assertions carry",
            )
        relay = fields.text("relay_state", default="", placeholders=True) or ""
        return IdpUserSpec(name, session, tuple(roles), relay, node.where)

    def saml_provider(self, node: Located) -> SamlProviderSpec:
        fields = Fields(node, self.found, ("name", "metadata", "metadata_file", "test_idp"))
        name = (
            fields.text(
                "name", required=True, pattern=SAML_NAME, rule="up to 128 of A-Z a-z 0-9 ._-"
            )
            or ""
        )
        given = [k for k in ("metadata", "metadata_file", "test_idp") if fields.has(k)]
        if len(given) != 1:
            fields.error(
                fields.where(given[1] if len(given) > 1 else None),
                "give exactly one of metadata, metadata_file and test_idp",
            )
        metadata = fields.text("metadata")
        file_name = fields.text("metadata_file")
        if file_name is not None:
            path = Path(file_name)
            if not path.is_absolute() and self.base is not None:
                path = self.base / path
            try:
                metadata = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                fields.error(fields.where("metadata_file"), f"cannot be read: {exc}")
        users: tuple[IdpUserSpec, ...] | None = None
        test_idp = fields.get("test_idp")
        if test_idp is not None:
            if test_idp.value is True:
                users = ()
            elif test_idp.is_mapping:
                idp = Fields(test_idp, self.found, ("users",))
                users = tuple(self.idp_user(u) for u in idp.items("users"))
                _unique(self.found, users, lambda u: u.name, lambda u: u.where, "test IdP user")
            else:
                fields.error(test_idp.where, "must be true or a mapping with users")
        return SamlProviderSpec(name, metadata, users, node.where)

    def instance(self, node: Located) -> InstanceSpec:
        fields = Fields(
            node,
            self.found,
            (
                "ref",
                "id",
                "alias",
                "identity_management_type",
                "inbound_calls",
                "outbound_calls",
                "agent_statuses",
                "queues",
                "routing_profiles",
                "users",
                "tags",
            ),
        )
        ref = fields.text("ref", pattern=REF, rule="up to 64 of A-Z a-z 0-9 _-")
        instance_id = fields.text("id", pattern=UUID, rule="a lower-case UUID")
        alias = fields.text("alias", required=True, placeholders=True) or ""
        kind = (
            fields.text(
                "identity_management_type",
                default="SAML",
                pattern=re.compile("SAML|CONNECT_MANAGED"),
                rule="SAML or CONNECT_MANAGED",
            )
            or "SAML"
        )
        statuses = tuple(self.agent_status(s) for s in fields.items("agent_statuses"))
        queues = tuple(self.queue(q) for q in fields.items("queues"))
        routing = tuple(self.routing_profile(r) for r in fields.items("routing_profiles"))
        users = tuple(self.connect_user(u) for u in fields.items("users"))
        _unique(self.found, statuses, lambda i: i.name, lambda i: i.where, "agent status")
        _unique(self.found, queues, lambda i: i.name, lambda i: i.where, "queue")
        _unique(self.found, routing, lambda i: i.name, lambda i: i.where, "routing profile")
        _unique(self.found, users, lambda u: u.username, lambda u: u.where, "user")
        return InstanceSpec(
            ref,
            instance_id,
            alias,
            kind,
            fields.flag("inbound_calls", True),
            fields.flag("outbound_calls", True),
            statuses,
            queues,
            routing,
            users,
            self.connect_tags(fields),
            node.where,
        )

    def agent_status(self, node: Located) -> AgentStatusSpec:
        fields = Fields(
            node, self.found, ("name", "description", "enabled", "display_order", "tags")
        )
        return AgentStatusSpec(
            fields.text("name", required=True, pattern=CONNECT_NAME, rule="1 to 127 characters")
            or "",
            fields.text("description"),
            fields.flag("enabled", True),
            fields.integer("display_order", default=None, minimum=1, maximum=50),
            self.connect_tags(fields),
            node.where,
        )

    def queue(self, node: Located) -> QueueSpec:
        fields = Fields(node, self.found, ("name", "description", "max_contacts", "tags"))
        return QueueSpec(
            fields.text("name", required=True, pattern=CONNECT_NAME, rule="1 to 127 characters")
            or "",
            fields.text("description"),
            fields.integer("max_contacts", default=None, minimum=0, maximum=10_000),
            self.connect_tags(fields),
            node.where,
        )

    def routing_profile(self, node: Located) -> RoutingProfileSpec:
        fields = Fields(
            node,
            self.found,
            (
                "name",
                "description",
                "default_outbound_queue",
                "queues",
                "media_concurrencies",
                "tags",
            ),
        )
        name = (
            fields.text("name", required=True, pattern=CONNECT_NAME, rule="1 to 127 characters")
            or ""
        )
        members = []
        for item in fields.items("queues"):
            member = Fields(item, self.found, ("queue", "channel", "priority", "delay"))
            members.append(
                RoutingQueueSpec(
                    member.text("queue", required=True) or "",
                    self.channel(member, "channel") or Channel.VOICE,
                    member.integer("priority", default=1, minimum=1, maximum=99) or 1,
                    member.integer("delay", default=0, minimum=0, maximum=9999) or 0,
                    item.where,
                )
            )
        concurrency: list[tuple[Channel, int]] = []
        media = fields.mapping("media_concurrencies", [c.value for c in Channel])
        if media is not None:
            for channel in Channel:
                count = media.integer(channel.value, default=None, minimum=1, maximum=10)
                if count is not None:
                    concurrency.append((channel, count))
        return RoutingProfileSpec(
            name,
            fields.text("description", default=name) or name,
            fields.text("default_outbound_queue", default="BasicQueue") or "BasicQueue",
            tuple(members),
            tuple(concurrency) or ((Channel.VOICE, 1),),
            self.connect_tags(fields),
            node.where,
        )

    def channel(self, fields: Fields, key: str) -> Channel | None:
        value = fields.text(key, default="VOICE") or "VOICE"
        try:
            return Channel(value)
        except ValueError:
            fields.error(fields.where(key), "must be one of " + ", ".join(c.value for c in Channel))
            return None

    def connect_user(self, node: Located) -> ConnectUserSpec:
        fields = Fields(
            node,
            self.found,
            (
                "username",
                "id",
                "first_name",
                "last_name",
                "email",
                "phone_type",
                "desk_phone_number",
                "security_profiles",
                "routing_profile",
                "password",
                "tags",
            ),
        )
        identity = {
            wire: value
            for key, wire in (
                ("first_name", "FirstName"),
                ("last_name", "LastName"),
                ("email", "Email"),
            )
            if (value := fields.text(key)) is not None
        }
        phone_type = (
            fields.text(
                "phone_type",
                default="SOFT_PHONE",
                pattern=re.compile("SOFT_PHONE|DESK_PHONE"),
                rule="SOFT_PHONE or DESK_PHONE",
            )
            or "SOFT_PHONE"
        )
        phone: dict[str, object] = {"PhoneType": phone_type}
        number = fields.text("desk_phone_number")
        if number is not None:
            phone["DeskPhoneNumber"] = number
        profiles = fields.strings("security_profiles") or ["Agent"]
        return ConnectUserSpec(
            fields.text(
                "username", required=True, pattern=USERNAME, rule="1 to 100 characters, no spaces"
            )
            or "",
            fields.text("id", pattern=UUID, rule="a lower-case UUID"),
            identity,
            phone,
            tuple(profiles),
            fields.text("routing_profile", default="Basic Routing Profile")
            or "Basic Routing Profile",
            fields.text("password"),
            self.connect_tags(fields),
            node.where,
        )

    def account(self, node: Located, bootstrap: bool) -> AccountSpec:
        known = ["root_access_keys", "iam", "connect"]
        if bootstrap:
            known += ["version", "accounts"]
        else:
            known.insert(0, "id")
        fields = Fields(node, self.found, known)
        account_id = (
            None
            if bootstrap
            else fields.text("id", required=True, pattern=ACCOUNT_ID, rule="12 digits")
        )
        if bootstrap:
            version = fields.integer("version", default=1, minimum=1, maximum=1)
            del version
        root_keys = tuple(self.access_key(k) for k in fields.items("root_access_keys"))
        iam = fields.mapping("iam", ("users", "roles", "saml_providers"))
        connect = fields.mapping("connect", ("instances",))
        users = tuple(self.iam_user(u) for u in iam.items("users")) if iam else ()
        roles = tuple(self.role(r) for r in iam.items("roles")) if iam else ()
        providers = tuple(self.saml_provider(p) for p in iam.items("saml_providers")) if iam else ()
        instances = tuple(self.instance(i) for i in connect.items("instances")) if connect else ()
        _unique(self.found, users, lambda i: i.name, lambda i: i.where, "IAM user")
        _unique(self.found, roles, lambda i: i.name, lambda i: i.where, "role")
        _unique(self.found, providers, lambda i: i.name, lambda i: i.where, "SAML provider")
        _unique(self.found, instances, lambda i: i.instance_id, lambda i: i.where, "instance id")
        _unique(self.found, instances, lambda i: i.alias, lambda i: i.where, "instance alias")
        return AccountSpec(account_id, root_keys, users, roles, providers, instances, node.where)


def _cross_checks(world: World, found: Findings) -> None:
    instances = [i for a in world.accounts for i in a.instances]
    _unique(found, instances, lambda i: i.ref, lambda i: i.where, "instance ref")
    _unique(found, list(world.accounts[1:]), lambda a: a.account_id, lambda a: a.where, "account")
    keys = [k for a in world.accounts for k in a.root_access_keys] + [
        k for a in world.accounts for u in a.users for k in u.access_keys
    ]
    _unique(
        found,
        keys,
        lambda k: k.fixed.access_key_id if k.fixed else None,
        lambda k: k.where,
        "access key",
    )
    refs = {i.ref for i in instances if i.ref is not None}
    for name, where in found.placeholders:
        ref = template.instance_ref(name)
        if ref is not None and ref not in refs:
            found.errors.append(SeedError(where, f"no instance has ref {ref!r}"))
    idps = [p for a in world.accounts for p in a.saml_providers if p.is_test_idp]
    for extra in idps[1:]:
        found.errors.append(SeedError(extra.where, "only one SAML provider may be the test IdP"))


def parse(text: str, source: str = "<seed>", base: Path | None = None) -> World:
    """The world ``text`` declares; raises :class:`WorldInvalid` with every error found.
    ``base`` is where relative ``metadata_file`` paths start (the seed file's folder)."""
    root = load(text, source)
    found = Findings()
    parser = _Parser(base, found)
    accounts = [parser.account(root, bootstrap=True)]
    if root.is_mapping:
        top = dict(root.items())
        if "accounts" in top:
            listed = top["accounts"]
            if listed.is_sequence:
                accounts += [parser.account(a, bootstrap=False) for a in listed.value]
            elif listed.value is not None:
                found.errors.append(SeedError(listed.where, "must be a list of accounts"))
    world = World(source, tuple(accounts))
    _cross_checks(world, found)
    if found.errors:
        raise WorldInvalid(sorted(found.errors, key=lambda e: (e.where.line, e.where.column)))
    return world


def parse_file(path: Path) -> World:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorldInvalid(
            [SeedError(Where(str(path), 1, 1, ""), f"cannot be read: {exc}")]
        ) from None
    return parse(text, str(path), path.parent)
