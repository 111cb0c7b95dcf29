"""The built-in test IdP's pages (``serve --test-idp``): a list of users and an IdP-initiated
login that POSTs a properly signed SAMLResponse to this server's /saml."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from connectfed.clock import Clock
from connectfed.saml.testidp import TestIdp, encode
from connectfed.web import pages


@dataclass(frozen=True, slots=True)
class IdpUser:
    name: str
    session_name: str
    roles: tuple[str, ...]  # role ARNs
    relay_state: str
    description: str = ""  # what signing in as this user demonstrates (shown on /idp)


@dataclass
class TestIdpSite:
    idp: TestIdp
    provider_arn: str
    users: dict[str, IdpUser]
    saml_url: str  # this server's /saml
    # The server's clock: assertions are issued on it, so they stay inside their window on a
    # clock the admin API has moved (None: the real time).
    clock: Clock | None = None

    def index(self) -> str:
        return pages.idp_users(
            self.idp.entity_id,
            [
                pages.IdpEntry(u.name, u.session_name, u.roles, u.description)
                for u in self.users.values()
            ],
        )

    def metadata(self) -> str:
        return self.idp.metadata()

    def signed_response(self, user: IdpUser, lifetime: timedelta = timedelta(minutes=5)) -> bytes:
        """A fresh signed SAMLResponse signing ``user`` in to this server (``/saml``)."""
        return self.idp.response(
            roles=[(role, self.provider_arn) for role in user.roles],
            session_name=user.session_name,
            recipient=self.saml_url,
            audience=self.saml_url,
            name_id=f"{user.name}@idp.connectfed.test",
            lifetime=lifetime,
            now=self.clock.now() if self.clock is not None else None,
        )

    def login(self, user_name: str) -> str | None:
        user = self.users.get(user_name)
        if user is None:
            return None
        response = self.signed_response(user)
        return pages.autopost(
            self.saml_url, {"SAMLResponse": encode(response), "RelayState": user.relay_state}
        )
