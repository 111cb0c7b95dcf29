"""The text of a token: kind prefix, the family id it names (time-ordered), 256-bit secret."""

from __future__ import annotations

import base64
import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from connectfed.tokens import TokenKind
from connectfed.tokens import format as token_format

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_family_ids_are_unique_and_sort_by_creation_time() -> None:
    times = [START + timedelta(milliseconds=ms) for ms in (0, 1, 2, 1000, 3_600_000)]
    ids = [token_format.new_family_id(moment) for moment in times for _ in range(50)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 26 and token_format.embeds(i) for i in ids)
    by_time = [sorted(ids[k * 50 : (k + 1) * 50]) for k in range(len(times))]
    assert all(a[-1] < b[0] for a, b in itertools.pairwise(by_time))


def test_a_token_names_its_family_unless_the_family_predates_family_ids() -> None:
    family_id = token_format.new_family_id(START)
    token = token_format.mint(TokenKind.ACCESS, family_id)
    assert len(token) == token_format.TOKEN_LENGTH == 73 and token.startswith("cfa_")
    assert token_format.well_formed(token) and token_format.family_of(token) == family_id
    assert token_format.mint(TokenKind.ACCESS, family_id) != token  # fresh secret each time
    legacy = token_format.mint(TokenKind.REFRESH, str(uuid.uuid4()))
    assert len(legacy) == token_format.LEGACY_TOKEN_LENGTH == 47 and legacy.startswith("cfr_")
    assert token_format.well_formed(legacy) and token_format.family_of(legacy) is None


@pytest.mark.parametrize(
    "token",
    [
        None,
        b"cfa_",
        "",
        "cfa_" + "A" * 42,
        "cfa_" + "A" * 44,
        "cfa_" + "A" * 42 + "=",
        "cfa_" + "0" * 26 + "A" * 42 + "+",
        "cfa_" + "0" * 25 + "I" + "A" * 43,  # not in the family id's alphabet
        "cfa_" + "0" * 25 + "é" + "A" * 43,
    ],
)
def test_malformed_tokens_are_told_apart_before_any_lookup(token: object) -> None:
    assert not token_format.well_formed(token)


def test_tokens_minted_together_each_have_their_own_256_bits() -> None:
    family_id = token_format.new_family_id(START)
    kinds = [TokenKind.ACCESS, TokenKind.REFRESH, TokenKind.SIGNIN]
    minted = [token_format.mint_all(kinds, family_id) for _ in range(200)]
    assert all(
        [t[:4] for t in tokens] == ["cfa_", "cfr_", "cfs_"]
        and all(
            token_format.well_formed(t) and token_format.family_of(t) == family_id for t in tokens
        )
        for tokens in minted
    )
    secrets = [t[-token_format.SECRET_LENGTH :] for tokens in minted for t in tokens]
    assert len(set(secrets)) == len(secrets)
    decoded = [base64.urlsafe_b64decode(s + "=") for s in secrets]
    assert all(len(d) == token_format.SECRET_BYTES == 32 for d in decoded)


@pytest.mark.parametrize("seed", range(20))
def test_a_family_id_is_the_crockford_base32_of_its_128_bits(seed: int) -> None:
    rfc4648 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghjkmnpqrstvwxyz")
    millis = 1_767_268_800_000 + seed * 7919
    random = bytes((seed * 37 + i * 101) % 256 for i in range(10))
    expected = base64.b32encode(millis.to_bytes(6, "big") + random).decode()[:26]
    assert token_format.family_id_of(millis, random) == expected.translate(rfc4648)
