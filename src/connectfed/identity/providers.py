"""IAM SAML identity providers: metadata is parsed and validated on the way in; the entityID
becomes the trusted Issuer and the signing certificates are pinned."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectfed.cache import TtlCache
from connectfed.clock import Clock
from connectfed.errors import ServiceError, client_error
from connectfed.identity.authorize import Authorizer
from connectfed.identity.principal import Principal
from connectfed.saml.metadata import IdpMetadata, InvalidMetadata, parse_metadata
from connectfed.store import Conflict, NotFound, Store
from connectfed.store.records import SamlProvider


def _no_such(arn: str) -> ServiceError:
    return client_error("NoSuchEntity", f"SAMLProvider {arn} does not exist.", 404)


def _metadata(document: str) -> IdpMetadata:
    try:
        return parse_metadata(document)
    except InvalidMetadata as exc:
        raise client_error("InvalidInput", str(exc)) from None


class SamlProviderService:
    def __init__(self, store: Store, clock: Clock, authz: Authorizer, ttl: float) -> None:
        self._store = store
        self._clock = clock
        self._authz = authz
        self._parsed: TtlCache[tuple[SamlProvider, IdpMetadata] | None] = TtlCache(
            ttl, clock.monotonic)

    def trusted(self, arn: str) -> tuple[SamlProvider, IdpMetadata] | None:
        """The provider and its parsed metadata, for verifying assertions."""
        def load() -> tuple[SamlProvider, IdpMetadata] | None:
            provider = self._store.get_saml_provider(arn)
            if provider is None:
                return None
            return provider, parse_metadata(provider.metadata_document)

        return self._parsed.get(arn, load)

    def create(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        arn = f"arn:aws:iam::{caller.account_id}:saml-provider/{name}"
        self._authz.require(caller, "iam:CreateSAMLProvider", arn)
        metadata = _metadata(params["SAMLMetadataDocument"])
        provider = SamlProvider(
            caller.account_id, name, arn, params["SAMLMetadataDocument"], metadata.entity_id,
            self._clock.now().timestamp(),
            metadata.valid_until.timestamp() if metadata.valid_until else None)
        try:
            self._store.create_saml_provider(provider)
        except Conflict:
            raise client_error("EntityAlreadyExists",
                               f"SAMLProvider {name} already exists.", 409) from None
        return {"SAMLProviderArn": arn}

    def _get(self, caller: Principal, action: str, arn: str) -> SamlProvider:
        self._authz.require(caller, f"iam:{action}", arn)
        provider = self._store.get_saml_provider(arn)
        if provider is None or provider.account_id != caller.account_id:
            raise _no_such(arn)
        return provider

    def get(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        provider = self._get(caller, "GetSAMLProvider", params["SAMLProviderArn"])
        out: dict[str, Any] = {"SAMLMetadataDocument": provider.metadata_document,
                               "CreateDate": datetime.fromtimestamp(provider.created, UTC)}
        if provider.valid_until is not None:
            out["ValidUntil"] = datetime.fromtimestamp(provider.valid_until, UTC)
        return out

    def list(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        self._authz.require(caller, "iam:ListSAMLProviders", "*")
        return {"SAMLProviderList": [
            {"Arn": p.arn, "CreateDate": datetime.fromtimestamp(p.created, UTC),
             **({"ValidUntil": datetime.fromtimestamp(p.valid_until, UTC)}
                if p.valid_until is not None else {})}
            for p in self._store.list_saml_providers(caller.account_id)
        ]}

    def update(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        provider = self._get(caller, "UpdateSAMLProvider", params["SAMLProviderArn"])
        document = params.get("SAMLMetadataDocument")
        if document is None:
            raise client_error("ValidationError", "SAMLMetadataDocument is required")
        metadata = _metadata(document)
        self._store.update_saml_provider(provider.arn, document, metadata.entity_id)
        self._parsed.invalidate(provider.arn)
        return {"SAMLProviderArn": provider.arn}

    def delete(self, caller: Principal, params: dict[str, Any]) -> dict[str, Any]:
        provider = self._get(caller, "DeleteSAMLProvider", params["SAMLProviderArn"])
        try:
            self._store.delete_saml_provider(provider.arn)
        except NotFound:
            raise _no_such(provider.arn) from None
        self._parsed.invalidate(provider.arn)
        return {}
