"""Apply a declared world through the domain services, idempotently.

Each declared entry is looked up by its natural key (a user's or role's name, an instance's
fixed id or alias, a key's id) and created when missing, brought to the declared state when a
service can change it (trust and inline policies, the declared tags of a user, role or
Connect resource, provider metadata, a fixed key's secret, an agent status, a Connect user's
routing profile and identity), and otherwise left alone:
re-applying a world reports every entry "unchanged". What the services cannot change (a role's
path, a queue's limits) is an error naming the line, never a silent difference. Nothing that
the world does not declare is deleted.

Writes go through the domain services' typed methods, as each account's root; reads that only
look an entry up by its natural key go to the store's records directly (no authorisation is
involved in finding out whether an entry exists).

Order: every account's root keys and SAML providers, then Connect instances (so policies can
name them with ``{{ instances.<ref>.id }}``), then IAM users, then roles (whose trust policies
may name those users and providers). The first error stops the run; what was applied before it
stays, and re-applying the corrected file finishes the job.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from connectfed import arns
from connectfed.api.errors import REFUSALS, aws_error
from connectfed.identity.iam import OwnerKind
from connectfed.identity.principal import Principal
from connectfed.identity.providers import ProviderChange
from connectfed.seed.connect import ConnectSteps
from connectfed.seed.result import Applied, AppliedAccount, Change, Outcome
from connectfed.seed.schema import (
    AccessKeySpec,
    AccountSpec,
    PolicySpec,
    RoleSpec,
    SamlProviderSpec,
    TagsSpec,
    World,
)
from connectfed.seed.source import SeedError, Where, WorldInvalid
from connectfed.seed.template import Context, UnknownPlaceholder
from connectfed.seed.testidp import idp_for
from connectfed.store.records import AccessKey, IamUser, Tag
from connectfed.web.testidp_site import IdpUser, TestIdpSite

if TYPE_CHECKING:
    from connectfed.app import Services


class Run:
    """One application of one world (see :func:`apply_world`)."""

    def __init__(self, services: Services, world: World, public_url: str) -> None:
        self.services = services
        self.world = world
        self.store = services.store
        self.iam = services.iam
        self.public_url = public_url
        self.region = services.settings.region
        self.result = Applied(services.bootstrap.account_id)
        self.instance_refs: dict[str, tuple[str, str]] = {}  # ref -> (id, ARN)
        self._idp = (
            idp_for(services.store, public_url)
            if any(p.is_test_idp for a in world.accounts for p in a.saml_providers)
            else None
        )

    # -- helpers ---------------------------------------------------------------------------------
    def record(self, kind: str, name: str, outcome: Outcome, where: Where) -> None:
        self.result.changes.append(Change(kind, name, outcome, where))

    @contextmanager
    def at(self, where: Where) -> Iterator[None]:
        """Errors of the services (as the API would answer them), as errors of the entry
        declared at ``where``."""
        try:
            yield
        except REFUSALS as exc:
            error = aws_error(exc)
            raise WorldInvalid([SeedError(where, f"{error.code}: {error.message}")]) from None
        except UnknownPlaceholder as exc:
            raise WorldInvalid([SeedError(where, str(exc))]) from None

    def refuse(self, where: Where, message: str) -> None:
        raise WorldInvalid([SeedError(where, message)])

    def root(self, account_id: str) -> Principal:
        boot = self.services.bootstrap
        key = boot.root_access_key_id if account_id == boot.account_id else ""
        return Principal.root(account_id, key)

    def context(self, account_id: str) -> Context:
        return Context(account_id, self.region, self.public_url, self.instance_refs)

    def account(self, account_id: str) -> AppliedAccount:
        return self.result.accounts[account_id]

    # -- the run ---------------------------------------------------------------------------------
    def apply(self) -> Applied:
        boot = self.services.bootstrap.account_id
        accounts: list[tuple[AccountSpec, str]] = []
        for spec in self.world.accounts:
            if spec.account_id == boot:
                self.refuse(
                    spec.where,
                    f"account {boot} is the server's own (bootstrap) "
                    "account: declare its contents at the top level",
                )
            accounts.append((spec, spec.account_id or boot))
            self.result.accounts[spec.account_id or boot] = AppliedAccount(spec.account_id or boot)
        connect = ConnectSteps(self)
        for spec, account_id in accounts:
            root = self.root(account_id)
            self.account(account_id).root_keys = self.keys(root, None, spec.root_access_keys)
            for provider in spec.saml_providers:
                self.saml_provider(root, provider)
        for spec, account_id in accounts:
            for instance in spec.instances:
                connect.instance(self.root(account_id), instance)
        for spec, account_id in accounts:
            root = self.root(account_id)
            for user_spec in spec.users:
                with self.at(user_spec.where):
                    user = self.store.get_user(account_id, user_spec.name)
                    created = user is None
                    if user is None:
                        user = self.iam.create_user(
                            root,
                            user_spec.name,
                            path=user_spec.path,
                            tags=user_spec.tags.tags if user_spec.tags else (),
                        )
                        self.record("IAM user", user.user_name, Outcome.CREATED, user_spec.where)
                    else:
                        if user.path != user_spec.path:
                            self.refuse(
                                user_spec.where,
                                f"user {user.user_name} exists with "
                                f"path {user.path}; a user's path cannot be changed",
                            )
                        self.record("IAM user", user.user_name, Outcome.UNCHANGED, user_spec.where)
                self.tags(root, OwnerKind.USER, user.user_name, user.tags, user_spec.tags, created)
                self.account(account_id).user_arns[user.user_name] = user.arn
                self.account(account_id).user_keys[user.user_name] = self.keys(
                    root, user, user_spec.access_keys
                )
                self.policies(
                    root, OwnerKind.USER, user.user_name, user.user_id, user_spec.policies
                )
        for spec, account_id in accounts:
            for role_spec in spec.roles:
                self.role(self.root(account_id), role_spec)
        self.result.test_idp = self.test_idp_site(accounts)
        return self.result

    # -- IAM -------------------------------------------------------------------------------------
    def keys(
        self, root: Principal, user: IamUser | None, specs: tuple[AccessKeySpec, ...]
    ) -> list[AccessKey]:
        """The declared keys of a user (``None``: of the account's root): fixed ones exactly,
        generated ones matched to keys the user already has."""
        account_id = root.account_id
        owner_id = user.user_id if user else None
        owner = user.user_name if user else f"root of {account_id}"
        fixed = {s.fixed.access_key_id for s in specs if s.fixed}
        have = self.iam.list_access_keys(root, user.user_name if user else None)
        spare = [k for k in have if k.access_key_id not in fixed]
        out: list[AccessKey] = []
        for spec in specs:
            with self.at(spec.where):
                if spec.fixed is None:
                    if spare:
                        key = spare.pop(0)
                        self.record(
                            "access key",
                            f"{key.access_key_id} of {owner}",
                            Outcome.UNCHANGED,
                            spec.where,
                        )
                    else:
                        key = self.iam.create_access_key(root, user.user_name if user else None)
                        self.record(
                            "access key",
                            f"{key.access_key_id} of {owner}",
                            Outcome.CREATED,
                            spec.where,
                        )
                    out.append(key)
                    continue
                found = self.store.get_access_key(spec.fixed.access_key_id)
                if found is not None and (
                    found.account_id != account_id or found.user_id != owner_id
                ):
                    self.refuse(
                        spec.where,
                        f"access key {found.access_key_id} already belongs to another principal",
                    )
                outcome = Outcome.CREATED
                if found is not None:
                    if hmac.compare_digest(
                        found.secret_access_key.encode(), spec.fixed.secret_access_key.encode()
                    ):
                        self.record(
                            "access key",
                            f"{found.access_key_id} of {owner}",
                            Outcome.UNCHANGED,
                            spec.where,
                        )
                        out.append(found)
                        continue
                    self.iam.delete_access_key(root, found.access_key_id, found.user_name)
                    outcome = Outcome.UPDATED
                key = self.iam.create_access_key(
                    root,
                    user.user_name if user else None,
                    fixed=(spec.fixed.access_key_id, spec.fixed.secret_access_key),
                )
                self.record("access key", f"{key.access_key_id} of {owner}", outcome, spec.where)
                out.append(key)
        return out

    def policies(
        self,
        root: Principal,
        kind: OwnerKind,
        owner: str,
        owner_id: str,
        specs: tuple[PolicySpec, ...],
    ) -> None:
        existing = {
            p.policy_name: p.document for p in self.store.list_policies(kind.value, owner_id)
        }
        for spec in specs:
            with self.at(spec.where):
                document = self.context(root.account_id).expand_all(spec.document.value)
                current = existing.get(spec.name)
                if current is not None and json.loads(current) == document:
                    outcome = Outcome.UNCHANGED
                else:
                    self.iam.put_policy(root, kind, owner, spec.name, json.dumps(document))
                    outcome = Outcome.CREATED if current is None else Outcome.UPDATED
                self.record(f"{kind.value} policy", f"{owner}/{spec.name}", outcome, spec.where)

    def tags(
        self,
        root: Principal,
        kind: OwnerKind,
        owner: str,
        held: tuple[Tag, ...],
        spec: TagsSpec | None,
        created: bool,
    ) -> None:
        """The declared tags of a user or role (made with it when ``created``): each one it
        does not hold with that key and value is set (TagUser/TagRole, replacing a key it holds
        in another case); tags it holds and the file does not declare stay."""
        if spec is None:
            return
        outcome = Outcome.CREATED if created else Outcome.UNCHANGED
        if not created:
            have = {(tag.key, tag.value) for tag in held}
            missing = [tag for tag in spec.tags if (tag.key, tag.value) not in have]
            if missing:
                with self.at(spec.where):
                    self.iam.tag(root, kind, owner, missing)
                outcome = Outcome.UPDATED
        self.record(f"{kind.value} tags", owner, outcome, spec.where)

    def role(self, root: Principal, spec: RoleSpec) -> None:
        with self.at(spec.trust.where):
            trust = self.context(root.account_id).expand_all(spec.trust.value)
            role = self.store.get_role(root.account_id, spec.name)
            if role is None:
                role = self.iam.create_role(
                    root,
                    spec.name,
                    json.dumps(trust),
                    path=spec.path,
                    max_session_duration=spec.max_session_duration,
                    description=spec.description,
                    tags=spec.tags.tags if spec.tags else (),
                )
                outcome = Outcome.CREATED
            else:
                fixed = (
                    ("path", role.path, spec.path),
                    ("max_session_duration", role.max_session_duration, spec.max_session_duration),
                    (
                        "description",
                        role.description,
                        spec.description if spec.description is not None else role.description,
                    ),
                )
                for name, have, want in fixed:
                    if have != want:
                        self.refuse(
                            spec.where,
                            f"role {role.role_name} exists with {name} "
                            f"{have!r}; a role's {name} cannot be changed here",
                        )
                outcome = Outcome.UNCHANGED
                if json.loads(role.trust_policy) != trust:
                    self.iam.update_assume_role_policy(root, role.role_name, json.dumps(trust))
                    outcome = Outcome.UPDATED
            self.record("role", role.role_name, outcome, spec.where)
        created = outcome is Outcome.CREATED
        self.tags(root, OwnerKind.ROLE, role.role_name, role.tags, spec.tags, created)
        self.account(root.account_id).role_arns[role.role_name] = role.arn
        self.policies(root, OwnerKind.ROLE, role.role_name, role.role_id, spec.policies)

    def saml_provider(self, root: Principal, spec: SamlProviderSpec) -> None:
        arn = arns.saml_provider(root.account_id, spec.name)
        document = self._idp.metadata() if spec.is_test_idp and self._idp else spec.metadata
        assert document is not None
        with self.at(spec.where):
            found = self.store.get_saml_provider(arn)
            if found is None:
                self.services.providers.create(root, spec.name, document)
                outcome = Outcome.CREATED
            elif found.metadata_document != document:
                self.services.providers.update(root, arn, ProviderChange(document=document))
                outcome = Outcome.UPDATED
            else:
                outcome = Outcome.UNCHANGED
        self.record("SAML provider", spec.name, outcome, spec.where)
        self.account(root.account_id).provider_arns[spec.name] = arn

    def test_idp_site(self, accounts: list[tuple[AccountSpec, str]]) -> TestIdpSite | None:
        for spec, account_id in accounts:
            for provider in spec.saml_providers:
                if provider.test_idp_users is None or self._idp is None:
                    continue
                context = self.context(account_id)
                users = {}
                for user in provider.test_idp_users:
                    with self.at(user.where):
                        roles = tuple(
                            role if role.startswith("arn:") else arns.iam_role(account_id, role)
                            for role in (context.expand(r) for r in user.roles)
                        )
                        users[user.name] = IdpUser(
                            user.name, user.session_name, roles, context.expand(user.relay_state)
                        )
                arn = self.account(account_id).provider_arns[provider.name]
                return TestIdpSite(
                    self._idp, arn, users, f"{self.public_url}/saml", self.services.clock
                )
        return None


def apply_world(services: Services, world: World, public_url: str | None = None) -> Applied:
    """Apply ``world`` (raises :class:`~connectfed.seed.source.WorldInvalid` naming the line
    of the first entry that cannot be applied). ``public_url`` (default: the settings') is what
    ``{{ public_url }}`` and the test IdP's entityID are made of."""
    return Run(services, world, public_url or services.settings.public_url).apply()
