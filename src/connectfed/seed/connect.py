"""Applying a declared Connect instance: the instance, its agent statuses, queues, routing
profiles and users (see :mod:`connectfed.seed.apply` for the rules every entry follows).

Declared tags are made with a new resource (its Create's ``Tags``); on one that exists, each
declared tag it does not hold with that key and value is set (TagResource: ``updated``); tags
it holds and the file does not declare stay, as for IAM users and roles."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from connectfed.connect.agent_values import AgentStatusChange, QueueConfig
from connectfed.connect.instances import NewInstance, NewUser, ProfileKind
from connectfed.identity.principal import Principal
from connectfed.seed.result import Outcome
from connectfed.seed.schema import (
    AgentStatusSpec,
    ConnectUserSpec,
    InstanceSpec,
    QueueSpec,
    RoutingProfileSpec,
    TagsSpec,
)
from connectfed.seed.source import Where
from connectfed.store.records import ConnectUser, Instance, Tag

if TYPE_CHECKING:
    from connectfed.seed.apply import Run


class ConnectSteps:
    def __init__(self, run: Run) -> None:
        self.run = run
        self.store = run.store
        self.instances = run.services.instances
        self.admin = run.services.agent_admin
        self.tagging = run.services.connect_tags

    def instance(self, root: Principal, spec: InstanceSpec) -> None:
        run = self.run
        with run.at(spec.where):
            alias = run.context(root.account_id).expand(spec.alias)
            if spec.instance_id is not None:
                found = self.store.get_instance(spec.instance_id)
                if found is not None and (
                    found.account_id != root.account_id or found.alias != alias
                ):
                    run.refuse(
                        spec.where,
                        f"instance {spec.instance_id} exists with another account or alias",
                    )
            else:
                found = self._instance_by_alias(root.account_id, alias)
            if (
                found is not None
                and found.identity_management_type != spec.identity_management_type
            ):
                run.refuse(
                    spec.where,
                    f"instance {alias} exists with identity management "
                    f"type {found.identity_management_type}",
                )
            outcome = Outcome.UNCHANGED
            if found is None:
                new = NewInstance(
                    spec.identity_management_type,
                    alias,
                    spec.inbound_calls,
                    spec.outbound_calls,
                    tags=_declared(spec.tags),
                )
                found = self.instances.create_instance(root, new, instance_id=spec.instance_id)
                outcome = Outcome.CREATED
        instance: Instance = found
        run.record("instance", alias, outcome, spec.where)
        self.tags(root, "instance", alias, instance.arn, instance.tags, spec.tags, outcome)
        applied = run.account(root.account_id)
        applied.instances[alias] = instance
        if spec.ref is not None:
            applied.instances[spec.ref] = instance
            run.instance_refs[spec.ref] = (instance.instance_id, instance.arn)
        for status in spec.agent_statuses:
            self.agent_status(root, instance, status)
        for queue in spec.queues:
            self.queue(root, instance, queue)
        for profile in spec.routing_profiles:
            self.routing_profile(root, instance, profile)
        for user in spec.users:
            self.user(root, instance, user)

    def _instance_by_alias(self, account_id: str, alias: str) -> Instance | None:
        return next(
            (
                i
                for i in self.store.list_instances(account_id)
                if i.alias == alias and i.region == self.run.region
            ),
            None,
        )

    def _profiles(self, iid: str, kind: ProfileKind) -> dict[str, str]:
        """An instance's profiles of ``kind``: id by name."""
        return {p.name: p.profile_id for p in self.store.list_profiles(iid, kind.value)}

    def tags(
        self,
        root: Principal,
        kind: str,
        name: str,
        arn: str,
        held: tuple[Tag, ...],
        spec: TagsSpec | None,
        made: Outcome,
    ) -> None:
        """The declared tags of the resource ``arn`` (made with it when ``made`` is CREATED):
        each one it does not hold with that key and value is set; tags it holds and the file
        does not declare stay."""
        if spec is None:
            return
        outcome = Outcome.CREATED if made is Outcome.CREATED else Outcome.UNCHANGED
        if outcome is Outcome.UNCHANGED:
            have = {(tag.key, tag.value) for tag in held}
            missing = [tag for tag in spec.tags if (tag.key, tag.value) not in have]
            if missing:
                with self.run.at(spec.where):
                    self.tagging.tag(root, arn, missing)
                outcome = Outcome.UPDATED
        self.run.record(f"{kind} tags", name, outcome, spec.where)

    def agent_status(self, root: Principal, instance: Instance, spec: AgentStatusSpec) -> None:
        run, iid = self.run, instance.instance_id
        with run.at(spec.where):
            found = next(
                (s for s in self.admin.list_agent_statuses(root, iid, ()) if s.name == spec.name),
                None,
            )
            if found is None:
                found = self.admin.create_agent_status(
                    root,
                    iid,
                    spec.name,
                    spec.description,
                    spec.enabled,
                    spec.display_order,
                    _declared(spec.tags),
                )
                outcome = Outcome.CREATED
            elif (found.description, found.enabled, found.display_order) == (
                spec.description,
                spec.enabled,
                spec.display_order,
            ):
                outcome = Outcome.UNCHANGED
            else:
                self.admin.update_agent_status(
                    root,
                    iid,
                    found.status_id,
                    AgentStatusChange(
                        description=spec.description or "",
                        enabled=spec.enabled,
                        display_order=spec.display_order,
                        reset_order=spec.display_order is None,
                    ),
                )
                outcome = Outcome.UPDATED
        run.record("agent status", spec.name, outcome, spec.where)
        self.tags(root, "agent status", spec.name, found.arn, found.tags, spec.tags, outcome)

    def queue(self, root: Principal, instance: Instance, spec: QueueSpec) -> None:
        run, iid = self.run, instance.instance_id
        with run.at(spec.where):
            found = next(
                (q for q in self.admin.list_queues(root, iid, ()) if q.name == spec.name), None
            )
            if found is None:
                hours = run.services.agents.ensure_defaults(instance).hours_of_operation_id
                found = self.admin.create_queue(
                    root,
                    iid,
                    spec.name,
                    spec.description,
                    hours,
                    spec.max_contacts,
                    _declared(spec.tags),
                )
                outcome = Outcome.CREATED
            else:
                if (found.description, found.max_contacts) != (spec.description, spec.max_contacts):
                    run.refuse(
                        spec.where,
                        f"queue {spec.name} exists with another description "
                        "or max_contacts, which cannot be changed here",
                    )
                outcome = Outcome.UNCHANGED
        run.record("queue", spec.name, outcome, spec.where)
        self.tags(root, "queue", spec.name, found.arn, found.tags, spec.tags, outcome)

    def _queue_id(self, root: Principal, iid: str, name: str, where: Where) -> str:
        queues = {q.name: q.queue_id for q in self.admin.list_queues(root, iid, ())}
        if name not in queues:
            self.run.refuse(
                where,
                f"no queue named {name!r} in this instance (known: {', '.join(sorted(queues))})",
            )
        return queues[name]

    def routing_profile(
        self, root: Principal, instance: Instance, spec: RoutingProfileSpec
    ) -> None:
        run, iid = self.run, instance.instance_id
        with run.at(spec.where):
            outbound = self._queue_id(root, iid, spec.default_outbound_queue, spec.where)
            members = [
                QueueConfig(
                    self._queue_id(root, iid, m.queue, m.where), m.channel, m.priority, m.delay
                )
                for m in spec.queues
            ]
            found = self._profiles(iid, ProfileKind.ROUTING).get(spec.name)
            if found is None:
                have = self.admin.create_routing_profile(
                    root,
                    iid,
                    spec.name,
                    spec.description,
                    outbound,
                    members,
                    spec.media_concurrencies,
                    _declared(spec.tags),
                )
                outcome = Outcome.CREATED
            else:
                have = self.admin.describe_routing_profile(
                    root, iid, found, "DescribeRoutingProfile"
                )
                same = (
                    have.default_outbound_queue_id == outbound
                    and {(q.queue.queue_id, q.channel, q.priority, q.delay) for q in have.queues}
                    == {(m.queue_id, m.channel, m.priority, m.delay) for m in members}
                    and set(have.media_concurrencies) == set(spec.media_concurrencies)
                )
                if not same:
                    run.refuse(
                        spec.where,
                        f"routing profile {spec.name} exists with other "
                        "queues or concurrency, which cannot be changed here",
                    )
                outcome = Outcome.UNCHANGED
        run.record("routing profile", spec.name, outcome, spec.where)
        self.tags(root, "routing profile", spec.name, have.arn, have.tags, spec.tags, outcome)

    def user(self, root: Principal, instance: Instance, spec: ConnectUserSpec) -> None:
        run, iid = self.run, instance.instance_id
        with run.at(spec.where):
            security = self._profiles(iid, ProfileKind.SECURITY)
            routing = self._profiles(iid, ProfileKind.ROUTING)
            for name in spec.security_profiles:
                if name not in security:
                    run.refuse(
                        spec.where,
                        f"no security profile named {name!r} (known: "
                        f"{', '.join(sorted(security))})",
                    )
            if spec.routing_profile not in routing:
                run.refuse(
                    spec.where,
                    f"no routing profile named {spec.routing_profile!r} "
                    f"(known: {', '.join(sorted(routing))})",
                )
            wanted_security = [security[n] for n in spec.security_profiles]
            wanted_routing = routing[spec.routing_profile]
            user = self.store.find_connect_user(iid, spec.username)
            if user is not None and spec.user_id is not None and user.user_id != spec.user_id:
                run.refuse(spec.where, f"user {spec.username} exists with id {user.user_id}")
            if user is None:
                new = NewUser(
                    spec.username,
                    tuple(wanted_security),
                    wanted_routing,
                    spec.phone,
                    spec.identity,
                    password=spec.password,
                    tags=_declared(spec.tags),
                )
                user = self.instances.create_user(root, iid, new, user_id=spec.user_id)
                outcome = Outcome.CREATED
            else:
                if set(user.security_profile_ids) != set(wanted_security):
                    run.refuse(
                        spec.where,
                        f"user {spec.username} exists with other security "
                        "profiles, which cannot be changed here",
                    )
                outcome = Outcome.UNCHANGED
                if user.routing_profile_id != wanted_routing:
                    self.admin.update_user_routing_profile(root, iid, user.user_id, wanted_routing)
                    outcome = Outcome.UPDATED
                if _identity_of(user) != spec.identity:
                    self.instances.update_identity_info(root, iid, user.user_id, spec.identity)
                    outcome = Outcome.UPDATED
        run.account(root.account_id).connect_users[(iid, spec.username)] = user.user_id
        run.record("Connect user", spec.username, outcome, spec.where)
        self.tags(root, "Connect user", spec.username, user.arn, user.tags, spec.tags, outcome)


def _declared(spec: TagsSpec | None) -> tuple[Tag, ...]:
    return spec.tags if spec is not None else ()


def _identity_of(user: ConnectUser) -> dict[str, str]:
    value = json.loads(user.identity_info)
    return value if isinstance(value, dict) else {}
