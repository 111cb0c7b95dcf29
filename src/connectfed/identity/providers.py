"""IAM SAML identity providers: metadata is parsed and validated on the way in; the entityID
becomes the trusted Issuer and the signing certificates are pinned. Providers may hold up to two
private keys that decrypt encrypted assertions, and an ``AssertionEncryptionMode``
(``Allowed``/``Required``), as IAM's CreateSAMLProvider/UpdateSAMLProvider/GetSAMLProvider
describe them (IAM API reference; docs/compatibility.md for what AWS leaves unsaid).
Refusals are :mod:`connectfed.identity.errors`.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from cryptography.hazmat.primitives.asymmetric import rsa

from connectfed import arns
from connectfed.cache import TtlCache
from connectfed.clock import Clock, utc
from connectfed.identity import iam_tags
from connectfed.identity.authorize import Authorizer
from connectfed.identity.errors import (
    Entity,
    EntityExists,
    EntityNotFound,
    InvalidRequest,
    Quota,
    QuotaExceeded,
)
from connectfed.identity.iam_tags import TAGS_PER_OWNER, Tag, checked_tags
from connectfed.identity.policy.conditions import ContextValue
from connectfed.identity.principal import Principal
from connectfed.saml.assertion import VerifiedAssertion, verify_response
from connectfed.saml.envelope import ParsedResponse, peek
from connectfed.saml.keys import InvalidPrivateKey, key_id, load_private_key
from connectfed.saml.metadata import IdpMetadata, InvalidMetadata, parse_metadata
from connectfed.store import Conflict, LimitReached, NotFound, Store
from connectfed.store.records import SamlPrivateKey, SamlProvider

log = logging.getLogger("connectfed.saml")
MAX_PRIVATE_KEYS = 2  # GetSAMLProvider's PrivateKeyList holds at most two
MAX_CANDIDATES = 5


class EncryptionMode(Enum):
    ALLOWED = "Allowed"
    REQUIRED = "Required"


@dataclass(frozen=True, slots=True)
class ProviderChange:
    """UpdateSAMLProvider: each field that is not None changes."""

    document: str | None = None
    encryption_mode: EncryptionMode | None = None
    add_private_key: str | None = None
    remove_private_key: str | None = None


@dataclass(frozen=True, slots=True)
class PrivateKeyInfo:
    key_id: str
    created: datetime


@dataclass(frozen=True, slots=True)
class ProviderDescription:
    arn: str
    uuid: str | None
    metadata_document: str
    created: datetime
    valid_until: datetime | None
    encryption_mode: EncryptionMode | None
    private_keys: tuple[PrivateKeyInfo, ...]
    tags: tuple[Tag, ...] = ()  # sorted by key, as GetSAMLProvider answers them


@dataclass(frozen=True, slots=True)
class TrustedProvider:
    """A provider ready to verify assertions: parsed metadata and loaded private keys."""

    record: SamlProvider
    metadata: IdpMetadata
    decryption_keys: tuple[rsa.RSAPrivateKey, ...]
    require_encryption: bool

    @property
    def arn(self) -> str:
        return self.record.arn


def _metadata(document: str) -> IdpMetadata:
    try:
        return parse_metadata(document)
    except InvalidMetadata as exc:
        raise InvalidRequest(str(exc)) from None


def _timestamp(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def _new_key(pem: str, now: float) -> SamlPrivateKey:
    try:
        return SamlPrivateKey(key_id(load_private_key(pem)), pem.strip(), now)
    except InvalidPrivateKey as exc:
        raise InvalidRequest(str(exc)) from None


def _provider_uuid() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(26))


def _check_encryption(mode: str | None, keys: Sequence[SamlPrivateKey]) -> None:
    if mode == EncryptionMode.REQUIRED.value and not keys:
        raise InvalidRequest(
            "AssertionEncryptionMode Required needs a private key: add one with AddPrivateKey"
        )


class SamlProviderService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        authz: Authorizer,
        ttl: float,
        *,
        recipients: Sequence[str] = (),
        audiences: Sequence[str] = (),
        skew_seconds: int = 300,
        allow_sha1: bool = False,
    ) -> None:
        self._store = store
        self._clock = clock
        self._authz = authz
        self._recipients = tuple(recipients)
        self._audiences = tuple(audiences)
        self._skew = timedelta(seconds=skew_seconds)
        self._allow_sha1 = allow_sha1
        self._parsed: TtlCache[TrustedProvider | None] = TtlCache(ttl, clock.monotonic)

    # -- verification ------------------------------------------------------------------------
    def trusted(self, arn: str) -> TrustedProvider | None:
        """The provider, its parsed metadata and its private keys, for verifying assertions."""

        def load() -> TrustedProvider | None:
            provider = self._store.get_saml_provider(arn)
            if provider is None:
                return None
            try:
                metadata = parse_metadata(provider.metadata_document)
                keys = tuple(load_private_key(k.private_key_pem) for k in provider.private_keys)
            except (InvalidMetadata, InvalidPrivateKey) as exc:
                log.error("SAML provider %s has unusable stored metadata or keys: %s", arn, exc)
                return None
            return TrustedProvider(
                provider, metadata, keys, provider.encryption_mode == EncryptionMode.REQUIRED.value
            )

        return self._parsed.get(arn, load)

    def verify(
        self, trusted: TrustedProvider, response: bytes | ParsedResponse
    ) -> VerifiedAssertion:
        """Verify a SAMLResponse (its octets, or parsed once for several providers) against
        this provider (raises AssertionRejected)."""
        return verify_response(
            response,
            metadata=trusted.metadata,
            recipients=self._recipients,
            audiences=self._audiences,
            now=self._clock.now(),
            skew=self._skew,
            allow_sha1=self._allow_sha1,
            decryption_keys=trusted.decryption_keys,
            require_encryption=trusted.require_encryption,
        )

    def candidates(self, response: ParsedResponse) -> Iterator[str]:
        """Provider ARNs that may have issued ``response`` (unverified hints, only to choose
        whose certificates and keys to try), at most :data:`MAX_CANDIDATES`: the providers its
        plain Role attribute names, then those whose entityID is its Issuer (all an encrypted
        assertion shows).

        Lazily: the store is searched by Issuer only once the providers the Role attribute
        names have all been tried (the caller stops at the first that verifies). A sign-in
        whose Role attribute names its provider, the usual case, so reads no provider list."""
        hints = peek(response)
        found = list(hints.role_providers[:MAX_CANDIDATES])
        yield from found
        for issuer in hints.issuers:
            for provider in self._store.find_saml_providers(issuer):
                if len(found) >= MAX_CANDIDATES:
                    return
                if provider.arn not in found:
                    found.append(provider.arn)
                    yield provider.arn

    # -- IAM operations ----------------------------------------------------------------------
    def create(
        self,
        caller: Principal,
        name: str,
        document: str,
        encryption_mode: EncryptionMode | None = None,
        add_private_key: str | None = None,
        tags: Sequence[Tag] = (),
    ) -> str:
        """CreateSAMLProvider; with tags, TagSAMLProvider is needed too (as CreateUser's and
        CreateRole's tags need TagUser and TagRole), each seeing them as aws:RequestTag."""
        arn = arns.saml_provider(caller.account_id, name)
        checked = checked_tags(tags)
        request = iam_tags.request_context(checked)
        self._authz.require(caller, "iam:CreateSAMLProvider", arn, request)
        if checked:
            self._authz.require(caller, "iam:TagSAMLProvider", arn, request)
        metadata = _metadata(document)
        now = self._clock.now().timestamp()
        keys = (_new_key(add_private_key, now),) if add_private_key is not None else ()
        mode = encryption_mode.value if encryption_mode is not None else None
        _check_encryption(mode, keys)
        provider = SamlProvider(
            caller.account_id,
            name,
            arn,
            document,
            metadata.entity_id,
            now,
            _timestamp(metadata.valid_until),
            _provider_uuid(),
            mode,
            keys,
            checked,
        )
        try:
            self._store.create_saml_provider(provider)
        except Conflict:
            raise EntityExists(Entity.SAML_PROVIDER, name) from None
        self._parsed.invalidate(arn)
        return arn

    def _get(
        self,
        caller: Principal,
        action: str,
        arn: str,
        request: dict[str, ContextValue] | None = None,
    ) -> SamlProvider:
        """``iam:<action>`` on the provider, with its tags as ``aws:ResourceTag/<key>`` (and
        ``request``'s keys); then the provider, or NoSuchEntity, said only after the decision
        (a caller not allowed learns nothing of what exists)."""
        found = self._store.get_saml_provider(arn)
        if found is not None and found.account_id != caller.account_id:
            found = None
        context = iam_tags.resource_context(found.tags if found else ())
        context.update(request or {})
        self._authz.require(caller, f"iam:{action}", arn, context)
        if found is None:
            raise EntityNotFound(Entity.SAML_PROVIDER, arn)
        return found

    def describe(self, caller: Principal, arn: str) -> ProviderDescription:
        provider = self._get(caller, "GetSAMLProvider", arn)
        return ProviderDescription(
            arn=provider.arn,
            uuid=provider.provider_uuid or None,
            metadata_document=provider.metadata_document,
            created=utc(provider.created),
            valid_until=utc(provider.valid_until) if provider.valid_until is not None else None,
            encryption_mode=EncryptionMode(provider.encryption_mode)
            if provider.encryption_mode
            else None,
            private_keys=tuple(
                PrivateKeyInfo(k.key_id, utc(k.created)) for k in provider.private_keys
            ),
            tags=iam_tags.sorted_tags(provider.tags),
        )

    def list(self, caller: Principal) -> list[ProviderDescription]:
        self._authz.require(caller, "iam:ListSAMLProviders", "*")
        return [
            ProviderDescription(
                arn=p.arn,
                uuid=p.provider_uuid or None,
                metadata_document=p.metadata_document,
                created=utc(p.created),
                valid_until=utc(p.valid_until) if p.valid_until is not None else None,
                encryption_mode=EncryptionMode(p.encryption_mode) if p.encryption_mode else None,
                private_keys=(),
            )
            for p in self._store.list_saml_providers(caller.account_id)
        ]

    def update(self, caller: Principal, arn: str, change: ProviderChange) -> str:
        provider = self._get(caller, "UpdateSAMLProvider", arn)
        if change == ProviderChange():
            raise InvalidRequest(
                "Specify SAMLMetadataDocument, AssertionEncryptionMode, "
                "AddPrivateKey or RemovePrivateKey"
            )
        if change.add_private_key is not None and change.remove_private_key is not None:
            raise InvalidRequest(
                "Add the new private key and remove the old one in separate requests"
            )
        metadata = _metadata(change.document) if change.document is not None else None
        now = self._clock.now().timestamp()
        added = (
            _new_key(change.add_private_key, now) if change.add_private_key is not None else None
        )

        def apply(current: SamlProvider) -> SamlProvider:
            keys = current.private_keys
            if added is not None:
                if any(k.key_id == added.key_id for k in keys):
                    raise InvalidRequest(f"The private key {added.key_id} is already added")
                if len(keys) >= MAX_PRIVATE_KEYS:
                    raise QuotaExceeded(Quota.PRIVATE_KEYS_PER_PROVIDER, MAX_PRIVATE_KEYS)
                keys = (*keys, added)
            if change.remove_private_key is not None:
                if not any(k.key_id == change.remove_private_key for k in keys):
                    raise InvalidRequest(
                        f"The private key {change.remove_private_key} does not "
                        "exist for this SAML provider"
                    )
                keys = tuple(k for k in keys if k.key_id != change.remove_private_key)
            mode = (
                change.encryption_mode.value
                if change.encryption_mode is not None
                else current.encryption_mode
            )
            _check_encryption(mode, keys)
            updated = replace(current, encryption_mode=mode, private_keys=keys)
            if metadata is not None and change.document is not None:
                updated = replace(
                    updated,
                    metadata_document=change.document,
                    entity_id=metadata.entity_id,
                    valid_until=_timestamp(metadata.valid_until),
                )
            return updated

        try:
            self._store.update_saml_provider(provider.arn, apply)
        except NotFound:
            raise EntityNotFound(Entity.SAML_PROVIDER, provider.arn) from None
        self._parsed.invalidate(provider.arn)
        return provider.arn

    def delete(self, caller: Principal, arn: str) -> None:
        provider = self._get(caller, "DeleteSAMLProvider", arn)
        try:
            self._store.delete_saml_provider(provider.arn)
        except NotFound:
            raise EntityNotFound(Entity.SAML_PROVIDER, provider.arn) from None
        self._parsed.invalidate(provider.arn)

    # -- tags (IAM's rules: keys unique regardless of case, at most 50) ----------------------
    def tag(self, caller: Principal, arn: str, tags: Sequence[Tag]) -> None:
        """TagSAMLProvider: a tag whose key the provider holds, in any case, replaces it."""
        checked = checked_tags(tags)
        provider = self._get(caller, "TagSAMLProvider", arn, iam_tags.request_context(checked))
        try:
            self._store.tag_resource("saml-provider", (provider.arn,), checked, TAGS_PER_OWNER)
        except LimitReached:
            raise QuotaExceeded(Quota.TAGS_PER_SAML_PROVIDER, TAGS_PER_OWNER) from None
        except NotFound:  # deleted meanwhile
            raise EntityNotFound(Entity.SAML_PROVIDER, provider.arn) from None

    def untag(self, caller: Principal, arn: str, keys: Sequence[str]) -> None:
        """UntagSAMLProvider: keys match regardless of case; one not held is no error."""
        provider = self._get(caller, "UntagSAMLProvider", arn, iam_tags.untag_context(keys))
        try:
            self._store.untag_resource("saml-provider", (provider.arn,), keys)
        except NotFound:
            raise EntityNotFound(Entity.SAML_PROVIDER, provider.arn) from None

    def list_tags(self, caller: Principal, arn: str) -> tuple[Tag, ...]:
        """ListSAMLProviderTags: sorted by key, as IAM answers."""
        return iam_tags.sorted_tags(self._get(caller, "ListSAMLProviderTags", arn).tags)
