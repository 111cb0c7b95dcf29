"""Who signed a request: root, an IAM user, or an assumed-role session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connectfed import arns
from connectfed.store.records import SamlSubject, SessionTag, Tag


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from, as the connection (never a header) tells: the peer's IP address
    (``aws:SourceIp``) and whether it arrived over TLS (``aws:SecureTransport``); and the id the
    edge gave the request (``x-amzn-RequestId``), under which a denial's explanation is kept."""

    source_ip: str | None = None
    secure: bool = False
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "root" | "user" | "assumed-role"
    account_id: str
    arn: str  # …:root, …:user/<path><name>, or arn:aws:sts::<acct>:assumed-role/<role>/<session>
    user_id: str  # aws:userid — account id | AIDA… | AROA…:<session>
    name: str  # IAM user name, role name, or "root"
    access_key_id: str
    role_arn: str | None = None
    role_id: str | None = None
    session_name: str | None = None
    session_expiration: datetime | None = None
    session_issued: datetime | None = None
    session_source: str | None = None
    # A role session's session policy (AssumeRole's ``Policy``): it narrows the role's.
    session_policy: str | None = None
    # A role session's tags (``aws:PrincipalTag/<key>``) and source identity
    # (``aws:SourceIdentity``), passed when it was made or inherited in role chaining.
    session_tags: tuple[SessionTag, ...] = ()
    source_identity: str | None = None
    origin: Origin = Origin()  # the request this principal signed
    # The tags of the IAM user, or of the session's role (``aws:PrincipalTag/<key>``; a
    # session tag of the same key, in any case, overrides its role's).
    identity_tags: tuple[Tag, ...] = ()
    # A session made by AssumeRoleWithSAML: its saml:sub, saml:sub_type, saml:namequalifier.
    saml_subject: SamlSubject | None = None

    @classmethod
    def root(cls, account_id: str, access_key_id: str) -> Principal:
        """The account's root, signing with ``access_key_id``."""
        return cls(
            kind="root",
            account_id=account_id,
            arn=arns.iam_root(account_id),
            user_id=account_id,
            name="root",
            access_key_id=access_key_id,
        )

    def signing(self, origin: Origin) -> Principal:
        """This principal as the signer of the request ``origin`` describes. What
        ``dataclasses.replace(self, origin=origin)`` gives, without its field-by-field
        introspection (~8 µs, paid on every signed request); a unit test checks the two agree
        for every field, so a field added above and forgotten here fails it."""
        return Principal(
            self.kind,
            self.account_id,
            self.arn,
            self.user_id,
            self.name,
            self.access_key_id,
            self.role_arn,
            self.role_id,
            self.session_name,
            self.session_expiration,
            self.session_issued,
            self.session_source,
            self.session_policy,
            self.session_tags,
            self.source_identity,
            origin,
            self.identity_tags,
            self.saml_subject,
        )

    @property
    def is_root(self) -> bool:
        return self.kind == "root"

    @property
    def is_temporary(self) -> bool:
        return self.kind == "assumed-role"
