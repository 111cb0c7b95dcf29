"""Which providers the browser sign-in tries for a response (unverified hints): the ones its
Role attribute names, then those whose entityID is its Issuer, at most five, and the store
searched by Issuer only once the named ones have been tried."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectfed.clock import FixedClock
from connectfed.identity.providers import MAX_CANDIDATES, SamlProviderService
from connectfed.saml.envelope import parse_response
from connectfed.saml.testidp import TestIdp

ISSUER = "https://idp.candidates.test"
NAMED = "arn:aws:iam::123456789012:saml-provider/Named"
ROLE = "arn:aws:iam::123456789012:role/R"


class _Provider:
    def __init__(self, arn: str) -> None:
        self.arn = arn


class _Store:
    """Only what candidates() reads: providers by entityID, with each search recorded."""

    def __init__(self, arns: list[str]) -> None:
        self.providers = [_Provider(arn) for arn in arns]
        self.searched: list[str] = []

    def find_saml_providers(self, entity_id: str) -> list[_Provider]:
        self.searched.append(entity_id)
        return self.providers if entity_id == ISSUER else []


def _candidates(store: _Store, roles: list[tuple[str, str]]) -> Any:
    service = SamlProviderService(
        store,  # type: ignore[arg-type]
        FixedClock(datetime(2026, 1, 1, tzinfo=UTC)),
        None,  # type: ignore[arg-type]
        ttl=0,
    )
    document = TestIdp(entity_id=ISSUER).response(
        roles=roles, session_name="agent1", recipient="https://signin.aws.amazon.com/saml"
    )
    return service.candidates(parse_response(document))


def test_the_named_provider_comes_first_and_the_store_is_searched_only_after_it() -> None:
    store = _Store([NAMED, "arn:aws:iam::123456789012:saml-provider/ByIssuer"])
    found = _candidates(store, [(ROLE, NAMED)])
    assert next(found) == NAMED
    assert store.searched == []
    assert list(found) == ["arn:aws:iam::123456789012:saml-provider/ByIssuer"]
    assert store.searched == [ISSUER]


def test_without_a_named_provider_the_issuers_providers_are_tried() -> None:
    store = _Store(["arn:aws:iam::123456789012:saml-provider/ByIssuer"])
    assert list(_candidates(store, [])) == ["arn:aws:iam::123456789012:saml-provider/ByIssuer"]


def test_at_most_five_providers_are_tried() -> None:
    named = [(ROLE, f"arn:aws:iam::123456789012:saml-provider/N{i}") for i in range(3)]
    by_issuer = [f"arn:aws:iam::123456789012:saml-provider/I{i}" for i in range(6)]
    found = list(_candidates(_Store(by_issuer), named))
    assert found == [p for _, p in named] + by_issuer[: MAX_CANDIDATES - len(named)]
