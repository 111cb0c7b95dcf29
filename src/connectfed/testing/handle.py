""":class:`Connectfed`: what the ``connectfed`` fixture hands a test — a running server, a world
builder (the seed schema), boto3 clients pointed at it, its clock and faults, and SAML responses
from the built-in test IdP.

Worlds are applied from the test process straight to the server's database, through the same
domain services the server runs (``connectfed.seed``); the server runs with ``--cache-ttl 0`` so
it sees them at once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import yaml

from connectfed import arns
from connectfed.saml.testidp import encode
from connectfed.seed import Applied, apply_world, parse, parse_file
from connectfed.seed.testidp import idp_for
from connectfed.testing.admin import Clock, Faults
from connectfed.testing.server import (
    ACCOUNT_ID,
    ROOT_ACCESS_KEY_ID,
    ROOT_SECRET_ACCESS_KEY,
    ServerProcess,
)

if TYPE_CHECKING:
    from connectfed.app import Services

AWS_SIGNIN = "https://signin.aws.amazon.com/saml"


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    expiration: datetime | None = None

    def __repr__(self) -> str:  # never print a secret in a test report
        return f"Credentials(access_key_id={self.access_key_id!r}, ...)"


class Connectfed:
    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.url = server.url
        self.region = server.region
        self.account_id = ACCOUNT_ID
        self.clock = Clock(server.url)
        self.faults = Faults(server.url)
        self.applied = Applied(ACCOUNT_ID)  # every world applied through this handle
        self._services: Services | None = None

    # -- the world ---------------------------------------------------------------------------
    @property
    def services(self) -> Services:
        """The domain services on the server's database (the test process as a second node)."""
        if self._services is None:
            from connectfed.app import build_services
            from connectfed.settings import Settings
            from connectfed.store import KeyFile

            settings = Settings(
                database_url=self.server.database_url,
                region=self.region,
                public_url=self.url,
                cache_ttl_seconds=0,
            )
            # The bootstrap account comes from these variables: the server's, whatever the
            # test process's environment says.
            with mock.patch.dict(
                os.environ,
                {
                    "CONNECTFED_ACCOUNT_ID": ACCOUNT_ID,
                    "CONNECTFED_ROOT_ACCESS_KEY_ID": ROOT_ACCESS_KEY_ID,
                    "CONNECTFED_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET_ACCESS_KEY,
                },
            ):
                self._services = build_services(
                    settings, master_key=KeyFile(self.server.master_key_file)
                )
        return self._services

    def world(self, declared: Mapping[str, Any] | str) -> Applied:
        """Apply a world given as data (the seed file's schema) or YAML text; idempotent."""
        text = (
            declared
            if isinstance(declared, str)
            else yaml.safe_dump(dict(declared), sort_keys=False)
        )
        return self._apply(parse(text, "<world>", Path.cwd()))

    def seed(self, path: str | Path) -> Applied:
        """Apply a seed file (relative ``metadata_file`` paths start at its folder)."""
        return self._apply(parse_file(Path(path)))

    def _apply(self, world: Any) -> Applied:
        applied = apply_world(self.services, world, public_url=self.url)
        self.applied.merge(applied)
        return applied

    def instance_id(self, name: str) -> str:
        """An instance's id by its ``ref`` or alias, from the worlds applied here."""
        account = self.applied.accounts.get(self.account_id)
        if account is None:
            raise LookupError(
                f"no instance {name!r}: no world has been applied through this handle "
                "(connectfed.world(...) or connectfed.seed(...) first)"
            )
        if name not in account.instances:
            known = ", ".join(sorted(account.instances)) or "none"
            raise LookupError(
                f"no instance {name!r} in the worlds applied here (refs and aliases: {known})"
            )
        return account.instances[name].instance_id

    # -- credentials and clients -------------------------------------------------------------
    def credentials(self, user: str | None = None) -> Credentials:
        """Root's keys (``user=None``) or an IAM user's first declared key."""
        if user is None:
            return Credentials(ROOT_ACCESS_KEY_ID, ROOT_SECRET_ACCESS_KEY)
        account = self.applied.accounts.get(self.account_id)
        keys = account.user_keys.get(user) if account is not None else None
        if not keys:  # a user the test made itself, or one of an earlier run on this database
            store = self.services.store
            found = store.get_user(self.account_id, user)
            keys = store.list_access_keys(self.account_id, found.user_id) if found else []
        if not keys:
            raise LookupError(f"IAM user {user!r} has no access key in this world")
        return Credentials(keys[0].access_key_id, keys[0].secret_access_key)

    def _resolve(
        self, user: str | None, role: str | None, session_name: str, credentials: Credentials | None
    ) -> Credentials:
        if credentials is not None:
            return credentials
        if role is not None:
            return self.assume_role(role, session_name, user=user)
        return self.credentials(user)

    def session(
        self,
        user: str | None = None,
        *,
        role: str | None = None,
        session_name: str = "test",
        credentials: Credentials | None = None,
    ) -> Any:
        """A boto3 Session with the credentials of root, ``user``, a session of ``role``
        assumed by ``user`` as ``session_name`` (root may not assume roles, as on AWS), or
        given ``credentials``."""
        import boto3

        creds = self._resolve(user, role, session_name, credentials)
        return boto3.Session(
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            aws_session_token=creds.session_token,
            region_name=self.region,
        )

    def client(
        self,
        service: str,
        user: str | None = None,
        *,
        role: str | None = None,
        session_name: str = "test",
        credentials: Credentials | None = None,
        **kwargs: Any,
    ) -> Any:
        """A boto3 client for ``service`` at this server, as :meth:`session` chooses whose
        (retries in standard mode unless ``config`` says otherwise)."""
        from botocore.config import Config

        kwargs.setdefault("config", Config(retries={"mode": "standard"}))
        session = self.session(user, role=role, session_name=session_name, credentials=credentials)
        return session.client(service, endpoint_url=self.url, **kwargs)

    def env(
        self,
        user: str | None = None,
        *,
        role: str | None = None,
        session_name: str = "test",
        credentials: Credentials | None = None,
    ) -> dict[str, str]:
        """``AWS_*`` variables that point an SDK, the AWS CLI or our client at this server."""
        creds = self._resolve(user, role, session_name, credentials)
        env = {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": creds.access_key_id,
            "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
        }
        if creds.session_token:
            env["AWS_SESSION_TOKEN"] = creds.session_token
        return env

    def role_arn(self, role: str) -> str:
        return role if role.startswith("arn:") else arns.iam_role(self.account_id, role)

    def assume_role(
        self, role: str, session_name: str, *, user: str | None = None, **kwargs: Any
    ) -> Credentials:
        """STS AssumeRole as ``user`` (root is refused, as on AWS); ``kwargs`` go to the call."""
        sts = self.client("sts", user)
        answer = sts.assume_role(
            RoleArn=self.role_arn(role), RoleSessionName=session_name, **kwargs
        )["Credentials"]
        return _credentials(answer)

    # -- SAML through the built-in test IdP ----------------------------------------------------
    def saml_response(
        self,
        session_name: str,
        roles: Sequence[str],
        *,
        recipient: str = AWS_SIGNIN,
        provider: str | None = None,
        **knobs: Any,
    ) -> str:
        """A base64 SAMLResponse signed by the world's test IdP (``test_idp: true``) for
        ``roles`` (names or ARNs). ``recipient`` is the Recipient and Audience (the trust
        policy's ``SAML:aud``); ``knobs`` go to :meth:`connectfed.saml.testidp.TestIdp.response`
        (``lifetime``, ``sign``, ``name_id``, ``encrypt_to``...)."""
        idp = idp_for(self.services.store, self.url)
        provider_arn = provider or self._test_idp_arn(idp.entity_id)
        knobs.setdefault("audience", recipient)
        knobs.setdefault("now", datetime.now(UTC) + timedelta(seconds=self.clock.offset_seconds))
        document = idp.response(
            roles=[(self.role_arn(r), provider_arn) for r in roles],
            session_name=session_name,
            recipient=recipient,
            **knobs,
        )
        return encode(document)

    def assume_role_with_saml(self, role: str, session_name: str, **knobs: Any) -> Credentials:
        """STS AssumeRoleWithSAML with a response of the test IdP (unsigned, as on AWS)."""
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        idp = idp_for(self.services.store, self.url)
        provider_arn = knobs.pop("provider", None) or self._test_idp_arn(idp.entity_id)
        assertion = self.saml_response(session_name, [role], provider=provider_arn, **knobs)
        sts = boto3.client(
            "sts",
            endpoint_url=self.url,
            region_name=self.region,
            config=Config(signature_version=UNSIGNED),
        )
        answer = sts.assume_role_with_saml(
            RoleArn=self.role_arn(role), PrincipalArn=provider_arn, SAMLAssertion=assertion
        )
        return _credentials(answer["Credentials"])

    def _test_idp_arn(self, entity_id: str) -> str:
        if self.applied.test_idp is not None:
            return self.applied.test_idp.provider_arn
        found = self.services.store.find_saml_providers(entity_id)
        if not found:
            raise LookupError(
                "no SAML provider is the test IdP: declare one with `test_idp: true` in the world"
            )
        return found[0].arn

    # -- the end of a test -------------------------------------------------------------------
    def reset(self) -> None:
        """Undo what a test changed on a shared server: the clock offset and faults."""
        clock, faults = self.clock.touched, self.faults.touched
        self.clock.touched = self.faults.touched = False
        if clock:
            self.clock.set_offset(0)
        if faults:
            self.faults.clear()

    def close(self) -> None:
        if self._services is not None:
            self._services.close()
            self._services = None


def _credentials(answer: Mapping[str, Any]) -> Credentials:
    return Credentials(
        answer["AccessKeyId"],
        answer["SecretAccessKey"],
        answer.get("SessionToken"),
        answer.get("Expiration"),
    )
