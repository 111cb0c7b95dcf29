"""STS AssumeRoleWithSAML: a signed SAML assertion from a registered provider becomes an STS
session for one of the roles it names, when that role's trust policy allows the provider.

AWS rules (AWS-BEHAVIOUR.md, STS): the Role attribute carries ``roleArn,providerArn`` pairs and
the requested pair must be among them; RoleSessionName is required and matches
``[\\w+=,.@-]{2,64}`` with ``\\w`` meaning ASCII ``[a-zA-Z0-9_]`` as in AWS's (Java) patterns,
so look-alike letters from other scripts are refused; SourceIdentity likewise and not
``aws:``-prefixed; at most 50 session
tags; the duration is bounded by the role's maximum and by SessionNotOnOrAfter. Reuse of an
assertion within its validity is allowed, as on AWS, unless ``saml_single_use`` is set.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from connectfed import arns
from connectfed.audit.log import DISCARD, AuditLog
from connectfed.clock import Clock, settled
from connectfed.errors import AwsErrorOf, ServiceError
from connectfed.identity.errors import DurationLimit, DurationTooLong, IdentityError
from connectfed.identity.explain import Diagnosis, Explanations, check, summarize
from connectfed.identity.iam_tags import resource_context
from connectfed.identity.policy import (
    Decision,
    MalformedPolicy,
    PolicyKind,
    RequestFacts,
    evaluate,
    parse_trust_policy,
    validate_policy,
)
from connectfed.identity.principal import Origin
from connectfed.identity.providers import SamlProviderService
from connectfed.identity.saml_audit import saml_event
from connectfed.identity.saml_refusal import (
    SamlDenied,
    SamlExpired,
    SamlRefusal,
    not_authorized,
    refusal_reason,
)
from connectfed.identity.session_tags import (
    TAG_LIMIT,
    TagRequest,
    granted_tags,
    packed_policy_size,
    request_context,
    tag_text_error,
)
from connectfed.identity.sts import StsService
from connectfed.identity.sts_values import SamlRequest, SamlSession
from connectfed.saml.assertion import AssertionRejected, VerifiedAssertion
from connectfed.saml.namespaces import (
    ROLE_ATTRIBUTE,
    SESSION_DURATION_ATTRIBUTE,
    SESSION_NAME_ATTRIBUTE,
    SOURCE_IDENTITY_ATTRIBUTE,
    TAG_ATTRIBUTE_PREFIX,
    TRANSITIVE_TAG_KEYS_ATTRIBUTE,
)
from connectfed.store import Store
from connectfed.store.records import AssertionUse, SamlProvider, SamlSubject, Session

log = logging.getLogger("connectfed.saml")
__all__ = [
    "AssumeRoleWithSaml",
    "SamlDenied",
    "SamlExpired",
    "SamlRefusal",
    "not_authorized",
    "refusal_reason",
]

NAME_PATTERN = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
# Why a trust policy refused, per action (audit trail and metrics)
_TRUST_REASONS = {
    "sts:AssumeRoleWithSAML": "trust_policy",
    "sts:TagSession": "trust_policy_tag_session",
    "sts:SetSourceIdentity": "trust_policy_source_identity",
}
# SubjectType (and saml:sub_type): a NameID Format of SAML 2.0's loses this prefix ("persistent",
# "transient", "entity"…); any other is kept whole (STS API reference, AssumeRoleWithSAML).
NAMEID_FORMAT_PREFIX = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
# The trust-policy keys IAM makes of the eduPerson and eduOrg attributes and of cn, by the
# attribute's Name, its OID URN (IAM User Guide, "Available keys for SAML-based AWS STS
# federation"; the OIDs are the eduPerson/eduOrg schema's and X.520's).
_EDU_PERSON = "urn:oid:1.3.6.1.4.1.5923.1.1.1."
_EDU_ORG = "urn:oid:1.3.6.1.4.1.5923.1.2.1."
ATTRIBUTE_KEYS = {
    _EDU_PERSON + "1": "saml:edupersonaffiliation",
    _EDU_PERSON + "2": "saml:edupersonnickname",
    _EDU_PERSON + "3": "saml:edupersonorgdn",
    _EDU_PERSON + "4": "saml:edupersonorgunitdn",
    _EDU_PERSON + "5": "saml:edupersonprimaryaffiliation",
    _EDU_PERSON + "6": "saml:edupersonprincipalname",
    _EDU_PERSON + "7": "saml:edupersonentitlement",
    _EDU_PERSON + "8": "saml:edupersonprimaryorgunitdn",
    _EDU_PERSON + "9": "saml:edupersonscopedaffiliation",
    _EDU_PERSON + "10": "saml:edupersontargetedid",
    _EDU_PERSON + "11": "saml:edupersonassurance",
    _EDU_ORG + "2": "saml:eduorghomepageuri",
    _EDU_ORG + "3": "saml:eduorgidentityauthnpolicyuri",
    _EDU_ORG + "4": "saml:eduorglegalname",
    _EDU_ORG + "5": "saml:eduorgsuperioruri",
    _EDU_ORG + "6": "saml:eduorgwhitepagesuri",
    "urn:oid:2.5.4.3": "saml:cn",
}


class AssumeRoleWithSaml:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        sts: StsService,
        providers: SamlProviderService,
        *,
        single_use: bool,
        aws_error: AwsErrorOf,
        skew_seconds: int = 300,
        explanations: Explanations | None = None,
        audit: AuditLog = DISCARD,
    ) -> None:
        # The AWS error a caller is told of a refusal (the wire's table, handed in by the
        # composition root): refused assumptions are audited under that code.
        self._aws_error = aws_error
        self._explanations = explanations
        self._store = store
        self._audit = audit
        self._clock = clock
        self._sts = sts
        self._providers = providers
        self._single_use = single_use
        self._skew = timedelta(seconds=skew_seconds)

    def verify(self, provider_arn: str, encoded: str) -> tuple[VerifiedAssertion, SamlProvider]:
        """Decode and verify an assertion for ``provider_arn``; map rejections to STS errors."""
        try:
            document = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SamlRefusal("Invalid base64 SAMLResponse", "not_base64") from None
        trusted = self._providers.trusted(provider_arn)
        if trusted is None:
            raise SamlRefusal(
                f"The SAML provider {provider_arn} does not exist", "unknown_provider"
            )
        try:
            verified = self._providers.verify(trusted, document)
        except AssertionRejected as exc:
            # For the operator: which provider and why, never the assertion itself.
            log.warning(
                "AssumeRoleWithSAML rejected an assertion for %s (%s): %s",
                provider_arn,
                exc.reason,
                exc.detail or exc,
            )
            if exc.reason == "expired":
                raise SamlExpired(str(exc), "expired") from None
            raise SamlRefusal(str(exc), exc.reason) from None
        return verified, trusted.record

    def use_of(self, verified: VerifiedAssertion) -> AssertionUse:
        """The replay-cache entry of ``verified``: kept until its NotOnOrAfter plus the skew.
        What expired is purged by the :func:`~connectfed.clock.settled` time, never by a clock
        moved ahead: set back, it would find the purged assertions inside their windows again,
        and no longer remembered as used."""
        return AssertionUse(
            f"{verified.issuer}|{verified.assertion_id}",
            (verified.not_on_or_after + self._skew).timestamp(),
            settled(self._clock).timestamp(),
        )

    def remember(self, verified: VerifiedAssertion) -> bool:
        use = self.use_of(verified)
        return self._store.remember_assertion(use.key, use.expires, use.now)

    def role_pairs(self, verified: VerifiedAssertion) -> list[tuple[str, str]]:
        """The (role ARN, provider ARN) pairs of the verified Role attribute, in order."""
        pairs: list[tuple[str, str]] = []
        for value in verified.attributes.get(ROLE_ATTRIBUTE, ()):
            parts = [p.strip() for p in value.split(",")]
            if len(parts) == 2:
                named_role, named_idp = sorted(parts, key=lambda p: ":saml-provider/" in p)
                if (named_role, named_idp) not in pairs:
                    pairs.append((named_role, named_idp))
        return pairs

    def assume(self, request: SamlRequest, origin: Origin | None = None) -> SamlSession:
        """AssumeRoleWithSAML; every outcome is recorded in the audit trail, a refusal under the
        AWS error the caller is told of it."""
        verified: VerifiedAssertion | None = None
        try:
            if request.policy is not None:  # before the assertion is spent
                validate_policy(request.policy, PolicyKind.SESSION)
            verified, provider = self.verify(request.provider_arn, request.assertion)
            result = self.issue(
                verified,
                provider,
                request.role_arn,
                request.duration_seconds,
                before_issue=(lambda: self._spend(verified)) if self._single_use else None,
                origin=origin,
                session_policy=request.policy,
            )
        except (ServiceError, IdentityError, MalformedPolicy) as exc:
            self._audit.record(
                saml_event(request, verified, self._aws_error(exc), refusal_reason(exc))
            )
            raise
        self._audit.record(saml_event(request, verified, result=result))
        return result

    def _spend(self, verified: VerifiedAssertion) -> None:
        if not self.remember(verified):
            raise SamlRefusal("The SAML assertion has already been used", "replayed")

    def issue(
        self,
        verified: VerifiedAssertion,
        provider: SamlProvider,
        role_arn: str,
        duration_seconds: int | None = None,
        before_issue: Callable[[], None] | None = None,
        origin: Origin | None = None,
        session_policy: str | None = None,
    ) -> SamlSession:
        """Check the AWS attribute rules and the role's trust, then issue the STS session
        (narrowed by ``session_policy``, already validated, when one is given).
        A refusal by role pairs or trust policy is explained under ``origin.request_id``."""
        record, session = self.prepare(
            verified, provider, role_arn, duration_seconds, origin, session_policy
        )
        if before_issue is not None:
            before_issue()
        self._store.create_session(record)
        return session

    def prepare(
        self,
        verified: VerifiedAssertion,
        provider: SamlProvider,
        role_arn: str,
        duration_seconds: int | None = None,
        origin: Origin | None = None,
        session_policy: str | None = None,
    ) -> tuple[Session, SamlSession]:
        """:meth:`issue`'s checks and session, the session's record not yet stored (the
        browser sign-in stores it with the sign-in's other rows, in one transaction)."""
        diagnosis = Diagnosis(
            "sts:AssumeRoleWithSAML",
            f"{provider.arn} subject {verified.name_id!r}",
            origin.request_id if origin else None,
        )
        try:
            return self._issue(
                verified, provider, role_arn, duration_seconds, origin, diagnosis, session_policy
            )
        except ServiceError as error:
            explanation = diagnosis.explanation(self._clock.now().timestamp(), error.code)
            if explanation is not None and self._explanations is not None:
                self._explanations.record(explanation)
            raise

    def _issue(
        self,
        verified: VerifiedAssertion,
        provider: SamlProvider,
        role_arn: str,
        duration_seconds: int | None,
        origin: Origin | None,
        diagnosis: Diagnosis,
        session_policy: str | None,
    ) -> tuple[Session, SamlSession]:
        pairs = self.role_pairs(verified)
        if (role_arn, provider.arn) not in pairs:
            raise diagnosis.failed(
                "role",
                f"the assertion's Role attribute does not pair {role_arn} with {provider.arn}",
                not_authorized("role_not_offered"),
                hints=[
                    f"Pairs in the assertion: {', '.join(f'{r},{p}' for r, p in pairs)}"
                    if pairs
                    else "The assertion has no valid Role attribute pair."
                ],
            )
        names = verified.attributes.get(SESSION_NAME_ATTRIBUTE, ())
        if not names:
            raise SamlRefusal("RoleSessionName is required in AuthnResponse", "session_name")
        session_name = names[0]
        if len(names) != 1 or not NAME_PATTERN.fullmatch(session_name):
            raise SamlRefusal(
                "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}",
                "session_name",
            )
        source = verified.attributes.get(SOURCE_IDENTITY_ATTRIBUTE, ())
        if source and (not NAME_PATTERN.fullmatch(source[0]) or source[0].startswith("aws:")):
            raise SamlRefusal("SourceIdentity in AuthnResponse is not valid", "source_identity")
        source_identity = source[0] if source else None
        tag_request = self.tag_request(verified)
        tags = granted_tags(tag_request)
        target = arns.role_of(role_arn)
        role = self._sts.roles.get(*target) if target else None
        if role is None or role.arn != role_arn:
            raise diagnosis.failed(
                "role", f"no role {role_arn} exists", not_authorized("unknown_role")
            )
        diagnosis.passed("role", f"role {role.arn}, paired with {provider.arn}")
        sub_type = (verified.name_id_format or "").removeprefix(NAMEID_FORMAT_PREFIX)
        context: dict[str, Any] = {
            "saml:aud": verified.recipient,
            "saml:iss": verified.issuer,
            "saml:sub": verified.name_id,
            "saml:sub_type": sub_type,
            "saml:namequalifier": self._name_qualifier(verified.issuer, provider),
            # The provider that vouches, as <account>/<name>: the one key not from the assertion
            "saml:doc": f"{provider.account_id}/{provider.name}",
            "aws:securetransport": "true" if origin and origin.secure else "false",
        }
        if origin is not None and origin.source_ip is not None:
            context["aws:sourceip"] = origin.source_ip
        for name, key in ATTRIBUTE_KEYS.items():
            values = verified.attributes.get(name, ())
            if values:
                context[key] = values[0] if len(values) == 1 else values
        context.update(request_context(tag_request))
        context.update(resource_context(role.tags))  # aws:ResourceTag/<key> of the role
        if source_identity is not None:
            context["sts:sourceidentity"] = source_identity
        try:
            trust = parse_trust_policy(role.trust_policy)
        except MalformedPolicy:
            raise diagnosis.failed(
                "trust",
                f"the trust policy of {role.arn} cannot be parsed",
                not_authorized("trust_policy"),
            ) from None
        actions = ["sts:AssumeRoleWithSAML"]
        if tag_request:  # tags need sts:TagSession, a source identity sts:SetSourceIdentity
            actions.append("sts:TagSession")
        if source_identity is not None:
            actions.append("sts:SetSourceIdentity")
        for action in actions:
            facts = RequestFacts(
                action=action,
                resource=role.arn,
                context=context,
                principal_arns=(provider.arn,),
                principal_kind="Federated",
            )
            if evaluate((trust,), facts) is not Decision.ALLOW:
                evaluation = check(
                    "trust", provider.arn, [(f"trust policy of {role.arn}", trust)], facts
                )
                raise diagnosis.failed(
                    "trust",
                    summarize(evaluation),
                    not_authorized(_TRUST_REASONS[action]),
                    evaluation,
                )
            diagnosis.passed(
                "trust", f"the trust policy of {role.arn} allows {action} to {provider.arn}"
            )
        duration = self._duration(duration_seconds, verified, role.max_session_duration)
        passed = session_policy is not None or bool(tag_request)
        subject = SamlSubject(verified.name_id, sub_type, context["saml:namequalifier"])
        record, session = self._sts.prepare_session(
            role,
            session_name,
            duration,
            source="AssumeRoleWithSAML",
            session_policy=session_policy,
            tags=tags,
            source_identity=source_identity,
            packed_policy_size=packed_policy_size(session_policy, tags) if passed else None,
            saml_subject=subject,
        )
        return record, SamlSession(
            session,
            subject=verified.name_id,
            subject_type=sub_type,
            issuer=verified.issuer,
            audience=verified.recipient,
            name_qualifier=context["saml:namequalifier"],
        )

    @staticmethod
    def tag_request(verified: VerifiedAssertion) -> TagRequest:
        """The session tags the assertion passes (``PrincipalTag:<key>`` attributes, one value
        each) and the keys it makes transitive. Refused (``InvalidIdentityToken``): more than
        50, a multi-valued tag, a key or value AWS's tag rules refuse."""
        tags: list[tuple[str, str]] = []
        for name, values in verified.attributes.items():
            if not name.startswith(TAG_ATTRIBUTE_PREFIX):
                continue
            key = name.removeprefix(TAG_ATTRIBUTE_PREFIX)
            if len(values) != 1:
                raise SamlRefusal(
                    f"The session tag {key!r} must have exactly one value", "session_tags"
                )
            for text, is_key in ((key, True), (values[0], False)):
                problem = tag_text_error(text, key=is_key)
                if problem is not None:
                    raise SamlRefusal(f"PrincipalTag attribute: {problem}", "session_tags")
            tags.append((key, values[0]))
        if len(tags) > TAG_LIMIT:
            raise SamlRefusal(
                f"The number of session tags exceeds the limit of {TAG_LIMIT}", "session_tags"
            )
        transitive = verified.attributes.get(TRANSITIVE_TAG_KEYS_ATTRIBUTE, ())
        return TagRequest(tuple(tags), tuple(transitive))

    def _duration(self, requested: int | None, verified: VerifiedAssertion, role_max: int) -> int:
        if requested is not None:
            duration = int(requested)
            if duration > role_max:
                raise DurationTooLong(DurationLimit.ROLE_MAXIMUM)
        else:
            attribute = verified.attributes.get(SESSION_DURATION_ATTRIBUTE, ())
            duration = 3600
            if attribute:
                try:
                    duration = int(attribute[0])
                except ValueError:
                    raise SamlRefusal(
                        "SessionDuration must be an integer", "session_duration"
                    ) from None
                if not 900 <= duration <= 43200:
                    raise SamlRefusal(
                        "SessionDuration must be between 900 and 43200", "session_duration"
                    )
            duration = min(duration, role_max)
        if verified.session_not_on_or_after is not None:
            remaining = int((verified.session_not_on_or_after - self._clock.now()).total_seconds())
            duration = min(duration, remaining)
        if duration < 1:
            raise SamlExpired("The SAML session has ended (SessionNotOnOrAfter)", "session_ended")
        return duration

    @staticmethod
    def _name_qualifier(issuer: str, provider: SamlProvider) -> str:
        digest = hashlib.sha1(  # noqa: S324  (AWS defines NameQualifier with SHA-1)
            f"{issuer}{provider.account_id}/{provider.name}".encode()
        ).digest()
        return base64.b64encode(digest).decode()
